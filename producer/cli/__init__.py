"""The `producer` command: parse arguments, call the library, print the result.

Domain errors become one line on stderr and exit code 2; nothing is written at the output path
when a command fails.

The parsers live beside this module: `demo`, `assess`, `model` (plan, write-faust, train,
faust-train, synth-data), `jobs` (submit, preprocess), `serve`; `options` holds the range-checked
option types. The work of a command that loads numpy, torch or Ray is in a module of its own
(`stems`: render, validate-faust, generate; `assess_run`, `demo_run`, `model_run`) with its
imports at the top, and its handler is `lazy("producer.cli.<module>:<function>")`, which imports
that module when the command runs: `producer --help` and the light commands start fast.

Before any work: numeric options are range-checked as they are parsed (`cli.options`), and a
usage error is one line too (`OneLineParser`); output paths are checked (`user_files.
check_output_path`), and script files are read only when they are regular files of at most
64 KiB (`user_files.read_script_file`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from producer.cli import options as opt
from producer.cli.assess import add_assess_command
from producer.cli.demo import add_demo_command
from producer.cli.jobs import add_job_commands
from producer.cli.lazy import lazy
from producer.cli.model import add_model_commands
from producer.cli.serve import add_serve_command
from producer.errors import ProducerError
from producer.faust.grammar import EBNF
from producer.plan import DEFAULT_PROMPT

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
    render.set_defaults(func=lazy("producer.cli.stems:render"))

    val = sub.add_parser("validate-faust", help="check a mix script against the allowed subset")
    val.add_argument("file")
    val.add_argument("--stems", type=opt.stems, help="number of stems the script must mix")
    val.add_argument(
        "--sample-rate", type=opt.sample_rate, help="also check frequencies against Nyquist"
    )
    val.set_defaults(func=lazy("producer.cli.stems:validate_faust"))

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
    gen.set_defaults(func=lazy("producer.cli.stems:generate"))

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
