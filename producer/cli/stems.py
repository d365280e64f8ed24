"""The commands that render, check and generate: `render`, `validate-faust`, `generate`.

Their parsers are in `producer.cli` (`build_parser`); `main` imports this module only when one of
them runs, since it loads numpy, soundfile and the Faust engine at its top.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from pydantic import ValidationError

from producer.atomic import atomic_path
from producer.audio.io import SAVE_FORMATS, save_audio
from producer.audio.loudness import true_peak_dbtp
from producer.audio.stems import load_stems
from producer.errors import ProducerError
from producer.faust.compile_guard import check_compiles
from producer.faust.render import render_checked
from producer.faust.validate import validate
from producer.generators import generate_stems
from producer.generators.midi import save_midi
from producer.generators.plot import plot_stem
from producer.plan import ProductionPlan
from producer.user_files import check_output_path, read_script_file, read_user_text

__all__ = ["generate", "render", "validate_faust"]


def render(args: argparse.Namespace) -> int:

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


def validate_faust(args: argparse.Namespace) -> int:

    v = validate(read_script_file(args.file), n_stems=args.stems, sample_rate=args.sample_rate)
    layout = "stereo" if v.channels_per_stem == 2 else "mono"
    master = "stereo" if v.outputs == 2 else "mono"
    print(
        f"ok: {len(v.stem_roles)} stems ({', '.join(v.stem_roles)}), {layout} stems in, "
        f"{master} master out"
    )
    return 0


def generate(args: argparse.Namespace) -> int:

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
