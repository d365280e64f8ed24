"""The `producer` command: parse arguments, call the library, print the result.

Domain errors become one line on stderr and exit code 2; nothing is written at the output path
when a command fails. Modules that load numpy (audio, Faust, generators, the pipeline) are imported
inside the command that needs them, so `producer --help` and the light commands start fast.

The subcommands live beside this module: `demo`, `assess`, `model` (plan, write-faust, train,
faust-train, synth-data), `jobs` (submit, preprocess), `serve`; `options` holds the
range-checked option types.

Before any work: numeric options are range-checked as they are parsed (`cli.options`), and a
usage error is one line too (`OneLineParser`); output paths are checked (`user_files.
check_output_path`), and script files are read only when they are regular files of at most
64 KiB (`user_files.read_script_file`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from producer.atomic import atomic_path
from producer.cli import options as opt
from producer.cli.assess import add_assess_command
from producer.cli.demo import add_demo_command
from producer.cli.jobs import add_job_commands
from producer.cli.model import add_model_commands
from producer.cli.serve import add_serve_command
from producer.errors import ProducerError
from producer.faust.grammar import EBNF
from producer.plan import DEFAULT_PROMPT, ProductionPlan
from producer.user_files import check_output_path, read_script_file, read_user_text

__all__ = ["DEFAULT_PROMPT", "EXIT_USAGE", "OneLineParser", "build_parser", "main"]

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, like every other error of the command.

    argparse prints the whole usage block before the error; a bad `--sample-rate` then reads as
    five lines where the reason is the last. The exit code stays argparse's 2. Subcommands
    inherit the class (`add_subparsers` uses the parent parser's class).
    """

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _cmd_render(args: argparse.Namespace) -> int:
    # deferred: numpy (and soundfile), so that `producer --help` stays fast
    from producer.audio.io import SAVE_FORMATS, save_audio
    from producer.audio.loudness import true_peak_dbtp
    from producer.audio.stems import load_stems
    from producer.faust.compile_guard import check_compiles
    from producer.faust.render import render_checked
    from producer.faust.validate import validate

    # The output first: a folder or a missing parent there used to fail after the render.
    check_output_path(args.output, suffixes=tuple(SAVE_FORMATS))
    script = read_script_file(args.faust)
    stems = load_stems(args.stems, sample_rate=args.sample_rate)
    validated = validate(script, len(stems), list(stems), args.sample_rate)
    # A person's script: compiled first in a child that is stopped past its time limit, since
    # an in-process compile cannot be interrupted (faust/compile_guard.py).
    check_compiles(validated, args.sample_rate)
    target = None if args.no_master else args.target_lufs
    # Checked even with --no-master: a silent or DC-only file is never written.
    rendered = render_checked(validated, stems, args.sample_rate, target_lufs=target)
    audio = rendered.audio
    save_audio(args.output, audio, args.sample_rate)
    peak = true_peak_dbtp(audio, args.sample_rate)
    seconds = audio.shape[1] / args.sample_rate
    print(
        f"wrote {args.output}: {seconds:.1f} s, {len(stems)} stems, "
        f"{rendered.check.lufs:.1f} LUFS, {peak:.1f} dBTP"
    )
    for note in rendered.check.notes:
        print(f"producer render: note: {note}", file=sys.stderr)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from producer.faust.validate import validate  # deferred: numpy, so `--help` stays fast

    v = validate(read_script_file(args.file), n_stems=args.stems, sample_rate=args.sample_rate)
    layout = "stereo" if v.channels_per_stem == 2 else "mono"
    master = "stereo" if v.outputs == 2 else "mono"
    print(
        f"ok: {len(v.stem_roles)} stems ({', '.join(v.stem_roles)}), {layout} stems in, "
        f"{master} master out"
    )
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    # deferred: numpy (and soundfile)
    from producer.audio.io import save_audio
    from producer.generators import generate_stems
    from producer.generators.midi import save_midi
    from producer.generators.plot import plot_stem

    out = Path(args.out_dir)
    if out.exists() and not out.is_dir():
        raise _user_error(f"--out-dir {out}: is a file, not a folder")
    plan = _plan_from_args(args)
    duration = args.duration if args.duration is not None else plan.duration
    started = time.perf_counter()
    stems = generate_stems(plan, duration=duration, seed=args.seed, sample_rate=args.sample_rate)
    elapsed = time.perf_counter() - started
    if not stems:
        raise _user_error("the plan has no stems to generate (every stem is source: input)")
    # Everything is generated before anything is written: a failure leaves no partial folder.
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "plan.json", plan.model_dump(mode="json"))
    for role, stem in stems.items():
        save_audio(out / f"{role}.wav", stem.audio, stem.sample_rate)
        written = [f"{role}.wav"]
        if args.midi:
            save_midi(out / f"{role}.mid", stem.events, stem.bpm, drums=role == "drums", name=role)
            written.append(f"{role}.mid")
        if args.plot:
            plot_stem(stem, out / f"{role}.png")
            written.append(f"{role}.png")
        if not args.quiet:
            files = ", ".join(written)
            print(f"  {role:<8} {stem.generator:<8} {len(stem.events):4d} events  {files}")
    if not args.quiet:
        print(
            f"wrote {len(stems)} stems to {out}: {plan.style}, {plan.bpm:g} bpm, {plan.key} "
            f"{plan.mode}, {duration:g} s, seed {args.seed} ({elapsed:.1f} s)"
        )
    return 0


def _plan_from_args(args: argparse.Namespace):
    try:
        if args.plan:
            return ProductionPlan.model_validate_json(read_user_text(args.plan, what="plan"))
        roles = [r.strip() for r in args.roles.split(",") if r.strip()]
        return ProductionPlan(
            prompt=args.prompt or "",
            style=args.style,
            bpm=args.bpm,
            key=args.key,
            mode=args.mode,
            duration=args.duration if args.duration is not None else 20.0,
            stems=[{"role": role} for role in roles],
        )
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "plan"
        source = args.plan or "plan"
        raise _user_error(f"{source}: {where}: {first['msg']}") from None


def _user_error(message: str):
    return ProducerError(message)


def _write_json(path, data) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")


def _cmd_grammar(args: argparse.Namespace) -> int:
    print(EBNF, end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="producer",
        description="An AI hip-hop producer: plan, generate, mix with Faust, master, score.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    add_demo_command(sub)

    render = sub.add_parser("render", help="mix stems with a Faust mix script")
    render.add_argument("--faust", required=True, help="the mix script (.dsp)")
    render.add_argument(
        "--stems", required=True, nargs="+", help="a folder of <role>.wav files, or the files"
    )
    render.add_argument("--output", required=True, help="the master to write (24-bit WAV)")
    render.add_argument(
        "--target-lufs", type=opt.target_lufs, default=-14.0, help="master loudness, -40..-5"
    )
    render.add_argument("--no-master", action="store_true", help="skip loudness mastering")
    render.add_argument(
        "--sample-rate", type=opt.sample_rate, default=44100, help="Hz, 8000..192000"
    )
    render.set_defaults(func=_cmd_render)

    val = sub.add_parser("validate-faust", help="check a mix script against the allowed subset")
    val.add_argument("file")
    val.add_argument("--stems", type=opt.stems, help="number of stems the script must mix")
    val.add_argument(
        "--sample-rate", type=opt.sample_rate, help="also check frequencies against Nyquist"
    )
    val.set_defaults(func=_cmd_validate)

    add_assess_command(sub)

    gen = sub.add_parser("generate", help="generate stems from a plan (file or flags)")
    gen.add_argument("--plan", help="a ProductionPlan JSON file (overrides the flags below)")
    gen.add_argument("--out-dir", required=True, help="folder for <role>.wav (and .mid, .png)")
    gen.add_argument(
        "--duration", type=opt.duration_s, help="seconds, 0.5..600 (default: the plan's, or 20)"
    )
    gen.add_argument("--seed", type=opt.seed, default=0)
    gen.add_argument("--midi", action="store_true", help="also write <role>.mid")
    gen.add_argument("--plot", action="store_true", help="also write <role>.png")
    gen.add_argument("--style", default="trap", help="trap, boom-bap, lo-fi, drill, g-funk")
    gen.add_argument("--bpm", type=float, default=140.0)
    gen.add_argument("--key", default="F", help="C … B; flats (Eb) are accepted")
    gen.add_argument("--mode", default="minor", help="major or minor")
    gen.add_argument("--roles", default="drums,bass,harmony,melody", help="comma-separated")
    gen.add_argument("--prompt", help="kept in the plan, for the record")
    gen.add_argument("--sample-rate", type=opt.sample_rate, default=44100)
    gen.add_argument("--quiet", action="store_true")
    gen.set_defaults(func=_cmd_generate)

    gram = sub.add_parser("faust-grammar", help="print the mix language's grammar (EBNF)")
    gram.set_defaults(func=_cmd_grammar)

    add_model_commands(sub)

    add_job_commands(sub)

    add_serve_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `producer` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ProducerError as err:
        print(f"producer {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:  # full disk, permissions: the user's environment, not a bug
        print(f"producer {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"producer {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if os.environ.get("PRODUCER_DEBUG"):
            raise
        print(
            f"producer {args.command}: internal error: {type(err).__name__}: {err} "
            "(set PRODUCER_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1
