"""The allowlisted `stdfaust.lib` functions of the mix language.

Each entry says how many arguments a function takes, the documented range of each, and how many
channels it consumes and produces. The grammar (`grammar.py`) builds one rule per entry from this
table, the validator checks argument ranges and channel counts against it, and the docs are
generated from it, so a function exists in the language exactly when it is listed here.

Every range is chosen so the function is bounded: no unbounded delay lines or tables, filter
frequencies inside the audio band, feedback below 1 so nothing can run away.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Arg:
    """One numeric argument: its name, inclusive range and unit."""

    name: str
    lo: float
    hi: float
    unit: str = ""
    integer: bool = False  # libfaust needs a compile-time integer here (filter order, bus size).
    frequency: bool = False  # must also stay below the render rate's Nyquist frequency.

    def describe(self) -> str:
        kind = "integer" if self.integer else "number"
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.name}: {kind} in [{_fmt(self.lo)}, {_fmt(self.hi)}]{unit}"


@dataclass(frozen=True)
class FaustFunction:
    """An allowlisted library function with its channel signature.

    `inputs`/`outputs` are channel counts; `None` means "equal to the first (integer) argument",
    as for `si.bus(n)`.
    """

    name: str
    args: tuple[Arg, ...]
    inputs: int | None
    outputs: int | None
    doc: str

    def io(self, values: tuple[float, ...]) -> tuple[int, int]:
        """Channel counts (inputs, outputs) for these argument values."""
        n = int(values[0]) if values else 0
        ins = n if self.inputs is None else self.inputs
        outs = n if self.outputs is None else self.outputs
        return ins, outs


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


# Shared argument shapes.
_ORDER = Arg("order", 1, 8, integer=True)
_GAIN_DB = Arg("gain", -24, 24, "dB")
_Q = Arg("Q", 0.1, 20)
_RATIO = Arg("ratio", 1, 20, ":1")
_THRESH = Arg("threshold", -60, 0, "dB")
_ATTACK = Arg("attack", 0.0001, 1, "s")
_RELEASE = Arg("release", 0.001, 5, "s")
_FB1 = Arg("room_feedback", 0, 0.98)
_FB2 = Arg("allpass_feedback", 0, 0.98)
_DAMP = Arg("damping", 0, 1)
_SPREAD = Arg("spread", 0, 100, "samples")


def _freq(lo: float = 10, hi: float = 20000) -> Arg:
    return Arg("freq", lo, hi, "Hz", frequency=True)


#: Maximum delay: 10 s at 48 kHz. Delay lines are allocated at compile time, so this bounds memory.
MAX_DELAY_SAMPLES = 480_000
#: Maximum channel count of any block and of `si.bus`/`si.block`.
MAX_CHANNELS = 64

FUNCTIONS: dict[str, FaustFunction] = {
    f.name: f
    for f in (
        FaustFunction(
            "fi.highpass", (_ORDER, _freq()), 1, 1, "Butterworth high-pass of the given order."
        ),
        FaustFunction(
            "fi.lowpass", (_ORDER, _freq()), 1, 1, "Butterworth low-pass of the given order."
        ),
        FaustFunction(
            "fi.peak_eq",
            (_GAIN_DB, _freq(), Arg("bandwidth", 0.1, 10000, "Hz")),
            1,
            1,
            "Bell EQ: boost or cut `gain` dB around `freq` with the given bandwidth.",
        ),
        FaustFunction(
            "fi.peak_eq_cq",
            (_GAIN_DB, _freq(), _Q),
            1,
            1,
            "Bell EQ with constant Q (bandwidth = freq / Q).",
        ),
        FaustFunction(
            "fi.low_shelf",
            (_GAIN_DB, _freq()),
            1,
            1,
            "Low shelf: `gain` dB below the transition frequency.",
        ),
        FaustFunction(
            "fi.high_shelf",
            (_GAIN_DB, _freq()),
            1,
            1,
            "High shelf: `gain` dB above the transition frequency.",
        ),
        FaustFunction("fi.dcblocker", (), 1, 1, "Removes DC offset (one-pole high-pass)."),
        FaustFunction(
            "co.compressor_mono",
            (_RATIO, _THRESH, _ATTACK, _RELEASE),
            1,
            1,
            "Feed-forward compressor.",
        ),
        FaustFunction(
            "co.compressor_stereo",
            (_RATIO, _THRESH, _ATTACK, _RELEASE),
            2,
            2,
            "Stereo-linked feed-forward compressor.",
        ),
        FaustFunction(
            "co.limiter_1176_R4_mono", (), 1, 1, "1176-style limiter (4:1, -6 dB threshold)."
        ),
        FaustFunction(
            "co.limiter_1176_R4_stereo",
            (),
            2,
            2,
            "Stereo-linked 1176-style limiter (4:1, -6 dB threshold).",
        ),
        FaustFunction(
            "ef.gate_mono",
            (
                Arg("threshold", -90, 0, "dB"),
                Arg("attack", 0.0001, 1, "s"),
                Arg("hold", 0, 1, "s"),
                Arg("release", 0.001, 5, "s"),
            ),
            1,
            1,
            "Noise gate.",
        ),
        FaustFunction(
            "re.mono_freeverb",
            (_FB1, _FB2, _DAMP, _SPREAD),
            1,
            1,
            "Freeverb (100% wet: blend it with the dry signal using `<:` and `:>`).",
        ),
        FaustFunction(
            "re.stereo_freeverb",
            (_FB1, _FB2, _DAMP, _SPREAD),
            2,
            2,
            "Stereo Freeverb (100% wet).",
        ),
        FaustFunction(
            "ef.echo",
            (
                Arg("max_duration", 0.001, 10, "s"),
                Arg("duration", 0, 10, "s"),
                Arg("feedback", 0, 0.95),
            ),
            1,
            1,
            "Feedback echo; `duration` ≤ `max_duration` ≤ 10 s.",
        ),
        FaustFunction(
            "de.delay",
            (
                Arg("max_delay", 1, MAX_DELAY_SAMPLES, "samples", integer=True),
                Arg("delay", 0, MAX_DELAY_SAMPLES, "samples"),
            ),
            1,
            1,
            "Delay line; `delay` ≤ `max_delay` ≤ 480000 samples (10 s at 48 kHz).",
        ),
        FaustFunction(
            "ef.cubicnl",
            (Arg("drive", 0, 1), Arg("offset", -0.5, 0.5)),
            1,
            1,
            "Cubic soft saturation (tape/console-style warmth).",
        ),
        FaustFunction(
            "sp.panner",
            (Arg("pan", 0, 1),),
            1,
            2,
            "Mono to stereo panner: 0 is left, 0.5 centre, 1 right.",
        ),
        FaustFunction(
            "si.bus",
            (Arg("n", 1, MAX_CHANNELS, "channels", integer=True),),
            None,
            None,
            "n parallel wires.",
        ),
        FaustFunction(
            "si.block",
            (Arg("n", 1, MAX_CHANNELS, "channels", integer=True),),
            None,
            0,
            "Terminates n channels.",
        ),
    )
}

#: `ba.db2linear(x)` may stand wherever a number is expected (e.g. `*(ba.db2linear(-3))`).
DB2LINEAR = "ba.db2linear"
DB2LINEAR_RANGE = Arg("level", -120, 24, "dB")

#: Ranges of the constant operand of `*(x)`, `+(x)`, `-(x)`.
SECTION_RANGES: dict[str, Arg] = {
    "*": Arg("gain", -16, 16),
    "+": Arg("offset", -1, 1),
    "-": Arg("offset", -1, 1),
}

#: Constructs that are refused with a specific reason (the validator's hostile-input messages).
FORBIDDEN: dict[str, str] = {
    "ffunction": "foreign functions (ffunction) would run arbitrary C code",
    "fconstant": "foreign constants (fconstant) are not allowed",
    "fvariable": "foreign variables (fvariable) are not allowed",
    "soundfile": "soundfile reads files from disk and is not allowed",
    "library": 'library() loads arbitrary files; only import("stdfaust.lib") is allowed',
    "component": 'component() loads arbitrary files; only import("stdfaust.lib") is allowed',
    "rdtable": "tables (rdtable) are not allowed",
    "rwtable": "tables (rwtable) are not allowed",
    "waveform": "waveform tables are not allowed",
    "par": "iterations (par) are not allowed: write the blocks out",
    "seq": "iterations (seq) are not allowed: write the blocks out",
    "sum": "iterations (sum) are not allowed: write the blocks out",
    "prod": "iterations (prod) are not allowed: write the blocks out",
    "with": "local definitions (with) are not allowed",
    "letrec": "recursive definitions (letrec) are not allowed",
    "environment": "environments are not allowed",
    "declare": "declare statements are not allowed",
    "case": "pattern matching (case) is not allowed",
}
