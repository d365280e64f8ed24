"""`producer demo`: the whole pipeline from the command line (a thin shell over the pipeline).

    producer demo                                              # the default prompt, 20 s
    producer demo --input your_song.wav --prompt "Create a dark trap beat with heavy 808s" \\
                  --output result.wav
    producer demo --input acapella.wav --input-role vocals --prompt "boom bap at 90 bpm"

Progress goes to stderr by stage with timings. On stdout: the summary line (length, plan,
meters, learned score), then the mix critic's verdict on the kept mix ("mix critic: basics
pass, score 0.93", and what it found, one sentence a line) and the prompt's mix words that moved
its targets. `--quiet` prints only the summary line, `--json` the report (result.json's content)
instead. A picture that cannot be drawn is a warning line on stderr (and in the report's
"warnings"), never a failure; the files are written as one set or not at all
(`pipeline.result_files.write_result`).
"""

from __future__ import annotations

from pathlib import Path

from producer.cli import options as opt
from producer.cli.assess import critic_summary
from producer.cli.lazy import lazy
from producer.errors import ProducerError
from producer.plan import DEFAULT_PROMPT, ROLES

SAMPLE_RATE = 44100  # the models' working rate (read again from the model once loaded)

STAGE_LABEL = {
    "input": "input song: loaded, separated / kept, analysed",
    "plan": "planned",
    "generate": "stems generated",
    "write": "mix scripts written",
    "teach": "mixing teacher's script searched (beside the writer)",
    "render": "candidates rendered, mastered and critiqued",
    "score": "candidates scored",
}


def add_demo_command(sub) -> None:
    demo = sub.add_parser(
        "demo",
        help="make a beat from a prompt (and optionally a song)",
        description="Plan, generate, mix with Faust, master and score a beat; writes the "
        "master and, beside it, .dsp, .json, .png and .stems/.",
    )
    demo.add_argument(
        "--input", help="a song to build on (a full mix, or one stem with --input-role)"
    )
    demo.add_argument(
        "--input-role",
        choices=ROLES,
        help="the input is already this one stem (e.g. vocals for an a cappella): kept as is",
    )
    demo.add_argument("--prompt", default=DEFAULT_PROMPT)
    demo.add_argument("--output", default="result.wav", help="the master (24-bit WAV)")
    demo.add_argument(
        "--duration", type=opt.duration_s, help="seconds (default: the input's length, or 20)"
    )
    demo.add_argument("--seed", type=opt.seed, default=0)
    demo.add_argument(
        "--candidates", type=opt.candidates, default=4, help="mix scripts to write and score"
    )
    demo.add_argument("--checkpoint", help="a trained model folder (default: the built-in model)")
    demo.add_argument(
        "--separator-model",
        default="htdemucs",
        help="Demucs model name, or a local model folder / file, for full-mix inputs",
    )
    demo.add_argument(
        "--download-separator",
        action="store_true",
        help="let Demucs download its pretrained weights when they are not on disk (networked "
        "machines; off by default, nothing downloads unasked)",
    )
    demo.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps")
    demo.add_argument("--no-plot", action="store_true", help="skip result.png")
    out = demo.add_mutually_exclusive_group()
    out.add_argument("--quiet", action="store_true", help="print only the summary line")
    out.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    demo.set_defaults(func=lazy("producer.cli.demo_run:run_demo"))


def check_output_suffix(path: str) -> None:
    """`--output` must name a .wav file, not a folder (one line otherwise)."""
    out = Path(path)
    if out.suffix.lower() != ".wav":
        raise ProducerError(f"--output must be a .wav file, got '{path}'")
    if out.is_dir():
        raise ProducerError(f"--output '{path}' is a directory")


def critic_lines(result) -> list[str]:
    """The mix critic's verdict on the kept mix, and the prompt's mix words, as a few lines."""
    if result.mix is None:
        lines = ["  mix critic: not measured (the kept script does not mix stem by stem)"]
    else:
        kept = next((c for c in result.candidates if c.chosen), None)
        by = " (the mixing teacher's mix)" if kept is not None and kept.source == "teacher" else ""
        lines = [f"  mix critic: {critic_summary(result.mix)}{by}"]
        lines += [f"    {finding}" for finding in result.mix.findings]
    lines += [f"  mix words: {d}" for d in result.descriptors]
    return lines
