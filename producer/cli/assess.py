"""`producer assess`: meter a master, or have the mix critic judge a mix script over its stems.

    producer assess result.wav                          # a master: loudness, peaks, bands, findings
    producer assess --stems result.stems --script result.dsp        # the mix critic's verdict
    producer assess --stems stems/ --script mix.dsp --style boom-bap --prompt "heavy 808s" --json

With `--stems`, every `<role>.wav` of the folder (the files `producer demo` writes to
`result.stems/`) goes through the script's `<role>_process`; each stem is rendered solo through
its chain and the master once (`mixing.solo.render_with_solos`), and the critic
(`mixing.critic.critique`) checks them against the style's targets moved by the prompt's words
(`mixing.descriptors`). For a `result.stems/` folder, the style, the prompt and the master
loudness default to those of the production, read from the `result.json` beside it, so the
verdict is the one `producer demo` reported for the same script. Printed: one line per check
(✓ or ✗, its name, stem and band, the value against its limit, and for a failed check what an
engineer would say), then whether the basics pass and the score; `--json` prints the verdict as
`result.json` stores it.
"""

from __future__ import annotations

import math

from producer.cli import options as opt
from producer.cli.lazy import lazy

__all__ = ["add_assess_command", "critic_summary", "verdict_lines"]


def add_assess_command(sub) -> None:
    assess = sub.add_parser(
        "assess",
        help="measure a master, or critique a mix script over its stems (--stems, --script)",
        description="Measure a master (loudness, true peak, bands, findings), or, with --stems "
        "and --script, have the mix critic check the mix the script makes of the stems: "
        "balance, low end, masking, tone, width, dynamics, against the style's targets.",
    )
    assess.add_argument("file", nargs="?", help="a master to measure")
    assess.add_argument(
        "--stems", help="a folder of <role>.wav stems (e.g. result.stems/) to mix with --script"
    )
    assess.add_argument("--script", help="the Faust mix script (.dsp) to critique over --stems")
    assess.add_argument(
        "--style",
        help="whose targets to check against: trap, boom-bap, lo-fi, drill, g-funk (default: the "
        "production's, from the result.json beside --stems, else generic hip-hop)",
    )
    assess.add_argument(
        "--prompt",
        help="words that move the targets, e.g. 'heavy 808s, bright' (default: the "
        "production's prompt, from the result.json beside --stems)",
    )
    assess.add_argument("--json", action="store_true", help="print the report as JSON")
    assess.add_argument(
        "--sample-rate",
        type=opt.sample_rate,
        default=44100,
        help="Hz, 8000..192000: the rate the audio is measured at (resampled if it differs)",
    )
    assess.set_defaults(func=lazy("producer.cli.assess_run:run_assess"))


def verdict_lines(verdict) -> list[str]:
    """A `MixVerdict` as text: one line per check, then the basics and the score."""
    rows = []
    for c in verdict.checks:
        where = ", ".join(x for x in (c.stem, c.band) if x) or "master"
        mark = "✓" if c.passed else "✗"
        text = f"{mark} {c.name:<17} {where:<22} {_number(c.value):>7} vs {_limit(c.limit):<12}"
        # A passed check's sentence would describe a fault that is not there: value and limit
        # say it all.
        rows.append((text + ("  " + c.message if not c.passed and c.message else "")).rstrip())
    return [*rows, critic_summary(verdict, sep=": ")]


def critic_summary(verdict, sep: str = " ") -> str:
    """ "basics pass, score 0.93" (`sep` between "basics" and the word) of a `MixVerdict`."""
    return f"basics{sep}{'pass' if verdict.passes_basics else 'fail'}, score {verdict.score:.2f}"


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.3g}"


def _limit(limit) -> str:
    if limit is None:
        return "–"
    if isinstance(limit, tuple | list):
        return f"{_number(limit[0])}..{_number(limit[1])}"
    return _number(limit)
