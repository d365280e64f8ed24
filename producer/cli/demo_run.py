"""`producer demo` at work: load the model, produce, write the result files, report.

The parser is `cli.demo.add_demo_command`; `main` imports this module only when the command runs,
since it loads numpy (and torch, once the model loads) at its top.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from producer import pipeline
from producer.audio.io import load_audio
from producer.cli.demo import SAMPLE_RATE, STAGE_LABEL, check_output_suffix, critic_lines
from producer.pipeline.result_files import check_output, write_result

__all__ = ["run_demo"]


def run_demo(args: argparse.Namespace) -> int:
    check_output_suffix(args.output)
    check_output(args.output)  # a read-only or missing folder is said now, not after the work
    chatty = not (args.quiet or args.json)

    def say(message: str) -> None:
        if chatty:
            print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    song = None
    if args.input is not None:
        # Read the song before loading the model: a bad file is reported at once.
        song = load_audio(args.input, sample_rate=SAMPLE_RATE)
    say("loading the model …")
    # `pipeline.Producer` is looked up when the command runs (tests put a fake one there).
    producer = pipeline.Producer(
        args.checkpoint,
        device=args.device,
        separator=args.separator_model,
        separator_download=args.download_separator,
    )
    load_s = time.perf_counter() - started
    say(f"  {load_s:6.2f} s  model loaded ({producer.checkpoint})")

    def on_stage(stage: str, seconds: float) -> None:
        say(f"  {seconds:6.2f} s  {STAGE_LABEL.get(stage, stage)}")

    if song is not None and producer.sample_rate != SAMPLE_RATE:
        song = load_audio(args.input, sample_rate=producer.sample_rate)
    result = producer.produce(
        args.prompt,
        song,
        input_sample_rate=producer.sample_rate,
        input_role=args.input_role,
        duration=args.duration,
        seed=args.seed,
        candidates=args.candidates,
        on_stage=on_stage,
        progress=chatty,
    )
    if result.input is not None:
        result.input.path = str(args.input)
    result.timings["load_model"] = load_s
    t = time.perf_counter()
    warnings: list[str] = []

    def warn(message: str) -> None:
        # Always shown (also with --quiet/--json): the run succeeds but lost something.
        warnings.append(message)
        print(f"producer demo: warning: {message}", file=sys.stderr, flush=True)

    paths = write_result(result, args.output, plot=not args.no_plot, warn=warn)
    result.timings["write_files"] = time.perf_counter() - t
    say(f"  {result.timings['write_files']:6.2f} s  files written")
    total = time.perf_counter() - started

    if args.json:
        report = result.summary()
        report["warnings"] = warnings  # as result.json has them
        report["files"] = {k: str(v) for k, v in paths.items()}
        report["timings_s"]["wall"] = round(total, 3)
        print(json.dumps(report, indent=2))
        return 0
    q, p = result.quality, result.plan
    stems = ", ".join(result.stems)
    print(
        f"wrote {paths['master']}: {result.duration:.1f} s {p.style} at {p.bpm:g} bpm in "
        f"{p.key} {p.mode} ({stems}); {q.integrated_lufs:.1f} LUFS, {q.true_peak_dbtp:.1f} dBTP, "
        f"score {q.score:.2f}; {total:.1f} s"
    )
    if not args.quiet:
        for line in critic_lines(result):
            print(line)
    for role in p.needs_input:
        print(
            f"  note: the prompt asks for {role}, which no generator makes: give a take with "
            f"--input FILE --input-role {role}",
            file=sys.stderr,
        )
    if chatty:
        rest = [str(v) for k, v in paths.items() if k != "master"]
        print(f"  also: {', '.join(rest)}", file=sys.stderr)
    return 0
