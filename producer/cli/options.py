"""Range-checked numbers for the `producer` command's options, as argparse `type=` functions.

    render.add_argument("--sample-rate", type=sample_rate, default=44100)
    render.add_argument("--target-lufs", type=target_lufs, default=-14.0)

Every number a user types is checked while the command line is parsed, before anything is
loaded or allocated: `--sample-rate 0` used to end in an internal error, `assess --sample-rate
50000000` allocated 3.2 GB before failing, `--target-lufs inf` was accepted and `-1000` wrote a
silent file. A refusal names the value and the valid range, and argparse prints it as one line
with exit code 2 (`producer.cli.OneLineParser`).

The ranges and why:

    sample rate      8000..192000 Hz   what `audio.io.AudioLimits` accepts for files
    LUFS target      -40..-5 LUFS      `ProductionPlan.target_lufs` (below -40 is inaudible next
                                       to anything else, above -5 only buys distortion)
    duration         0.5..600 s        0.5 s is the shortest input file; 600 s is `MAX_DURATION`
    candidates       1..16             `pipeline.MAX_CANDIDATES`: each is a full render
    stems            1..16             more stems than any plan has roles, with room to spare
    seed             0..2**32-1        what numpy's and torch's generators both take
    temperature      0 < t <= 10       sampling temperature of the script writer
    port             1..65535          a TCP port (`serve --port`)
    CPUs             0 < n <= 1024     CPUs a local Ray may use (`serve --num-cpus`)

Non-finite numbers ("nan", "inf") are refused everywhere. These functions are light (no numpy,
no torch) because they run on every start of the command; the constants they mirror from heavy
modules are checked against their sources by tests/hostile/test_inputs.py.
"""

from __future__ import annotations

import argparse
import math

from producer.plan import MAX_DURATION

__all__ = [
    "CANDIDATES",
    "DURATION_S",
    "SAMPLE_RATES",
    "SEEDS",
    "STEMS",
    "TARGET_LUFS",
    "candidates",
    "count",
    "cpus",
    "duration_s",
    "port",
    "positive_float",
    "sample_rate",
    "seed",
    "stems",
    "target_lufs",
    "temperature",
]

#: Sample rates in Hz: the `AudioLimits` defaults (min_rate, max_rate) of `producer.audio.io`.
SAMPLE_RATES = (8000, 192000)
#: Master loudness targets in LUFS: the bounds of `ProductionPlan.target_lufs`.
TARGET_LUFS = (-40.0, -5.0)
#: Production lengths in seconds: the shortest audio file accepted, `plan.MAX_DURATION`.
DURATION_S = (0.5, MAX_DURATION)
#: Mix scripts written per production: `pipeline.MAX_CANDIDATES`.
CANDIDATES = (1, 16)
#: Stems a script may be checked for.
STEMS = (1, 16)
#: Random seeds.
SEEDS = (0, 2**32 - 1)
#: Largest sampling temperature.
MAX_TEMPERATURE = 10.0
#: TCP ports.
PORTS = (1, 65535)
#: Most CPUs a local Ray is told it may use (Ray accepts fractions: 0.5 is half a core).
MAX_CPUS = 1024.0


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{what} must be a finite number, got {text!r}")
    return value


def _integer(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    # "44.1e3" or "44100.0" are fine as long as they are whole numbers.
    value = _number(text, what)
    if value != int(value):
        raise argparse.ArgumentTypeError(f"{what} must be a whole number, got {text!r}")
    return int(value)


def _in_range(value: float, bounds: tuple[float, float], what: str, unit: str = "") -> None:
    lo, hi = bounds
    if not lo <= value <= hi:
        raise argparse.ArgumentTypeError(
            f"{what} must be {lo:g}..{hi:g}{unit}, got {value:g}{unit}"
        )


def sample_rate(text: str) -> int:
    """A sample rate in Hz, 8000..192000."""
    value = _integer(text, "the sample rate")
    _in_range(value, SAMPLE_RATES, "the sample rate", " Hz")
    return value


def target_lufs(text: str) -> float:
    """A master loudness target in LUFS, -40..-5."""
    value = _number(text, "the loudness target")
    _in_range(value, TARGET_LUFS, "the loudness target", " LUFS")
    return value


def duration_s(text: str) -> float:
    """A production length in seconds, 0.5..600."""
    value = _number(text, "the duration")
    _in_range(value, DURATION_S, "the duration", " s")
    return value


def candidates(text: str) -> int:
    """How many mix scripts to write, 1..16."""
    value = _integer(text, "the number of candidates")
    _in_range(value, CANDIDATES, "the number of candidates")
    return value


def stems(text: str) -> int:
    """How many stems a script must mix, 1..16."""
    value = _integer(text, "the number of stems")
    _in_range(value, STEMS, "the number of stems")
    return value


def seed(text: str) -> int:
    """A random seed, 0..2**32-1."""
    value = _integer(text, "the seed")
    _in_range(value, SEEDS, "the seed")
    return value


def _above_zero_at_most(text: str, what: str, most: float) -> float:
    value = _number(text, what)
    if not 0.0 < value <= most:
        raise argparse.ArgumentTypeError(
            f"{what} must be above 0 and at most {most:g}, got {value:g}"
        )
    return value


def temperature(text: str) -> float:
    """A sampling temperature, above 0 and at most 10."""
    return _above_zero_at_most(text, "the temperature", MAX_TEMPERATURE)


def count(text: str) -> int:
    """A count of at least 1 (epochs, songs, batch size)."""
    value = _integer(text, "the count")
    if value < 1:
        raise argparse.ArgumentTypeError(f"the count must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number above 0 (a learning rate)."""
    value = _number(text, "the value")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"the value must be above 0, got {value:g}")
    return value


def port(text: str) -> int:
    """A TCP port, 1..65535."""
    value = _integer(text, "the port")
    _in_range(value, PORTS, "the port")
    return value


def cpus(text: str) -> float:
    """A number of CPUs for a local Ray, above 0 and at most 1024."""
    return _above_zero_at_most(text, "the number of CPUs", MAX_CPUS)
