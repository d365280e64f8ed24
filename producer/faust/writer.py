"""The Faust writer's sub-language: the mix scripts the model's decoder may emit.

The full mix language (`grammar.EBNF`) admits scripts that parse but fail validation (a wrong
channel count, a frequency above Nyquist, a stem routed twice). The writer instead decodes
under a grammar specialised per request to the stems' roles and the render rate, in which
*every* sentence validates and compiles:

    import("stdfaust.lib");

    drums_process = fi.highpass(2, 30) : co.compressor_mono(4, -18, 0.003, 0.1) : sp.panner(0.5);
    bass_process = fi.lowpass(2, 250) : *(0.8) : sp.panner(0.5);
    master_process = co.limiter_1176_R4_stereo;

    process = drums_process, bass_process :> master_process;

- One `<role>_process` per role, in the order given, then `master_process`, then `process`,
  which mixes every stem once, in that order, into the master bus.
- A stem's chain is a mono (1 → 1) effect per *slot*, each slot optional and in a fixed,
  conventional order (gate, high-pass, low-pass, low shelf, bell, high shelf, compressor,
  saturation, fader, send), then `sp.panner(p)` (1 → 2). A fixed order gives one spelling per
  chain (easier to learn) and bounds the total boost a chain can apply.
- The master is a stereo (2 → 2) chain: `_, _`, a limiter, a compressor, or compressor then
  limiter.
- Every number comes from a small quantised grid per argument, printed with
  `ast.format_number`, so argument ranges hold by construction; frequency grids keep only
  values at most 0.49 × the sample rate (the validator's Nyquist rule).

The grammar (`writer_ebnf`) and the sampler (`random_script`) are both generated from the
slot table below, so they cannot drift apart; the text is exactly what `MixScript.to_faust`
prints (`parse(text).to_faust() == text`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from producer.errors import ProducerError
from producer.faust.allowlist import FUNCTIONS, SECTION_RANGES, Arg
from producer.faust.ast import format_number
from producer.faust.validate import MAX_FREQ_FRACTION

# --- grids ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """The quantised values one argument may take in the writer language."""

    name: str  # grammar rule `g_<name>`
    values: tuple[float, ...]  # ascending
    integer: bool = False  # printed as an integer (filter order)
    frequency: bool = False  # Hz: values above 0.49 × sample rate are dropped
    log: bool = False  # snap on a log scale (frequencies, gains)
    typical: tuple[float, float] | None = None  # where `random_script` mostly draws from

    def allowed(self, sample_rate: int) -> tuple[float, ...]:
        """The values usable at this sample rate."""
        if not self.frequency:
            return self.values
        return tuple(v for v in self.values if v <= MAX_FREQ_FRACTION * sample_rate)

    def strings(self, sample_rate: int) -> tuple[str, ...]:
        """The canonical texts of the usable values."""
        return tuple(format_number(v, self.integer) for v in self.allowed(sample_rate))

    def snap(self, value: float, sample_rate: int = 44100) -> float:
        """The usable grid value nearest to `value` (on a log scale for `log` grids)."""
        values = np.asarray(self.allowed(sample_rate))
        if values.size == 0:
            raise ProducerError(f"grid {self.name} has no value usable at {sample_rate} Hz")
        if self.log:
            distance = np.abs(np.log(values) - math.log(max(float(value), 1e-9)))
        else:
            distance = np.abs(values - float(value))
        return float(values[int(np.argmin(distance))])


def _steps(lo: float, hi: float, step: float) -> tuple[float, ...]:
    n = round((hi - lo) / step)
    return tuple(round(lo + k * step, 6) for k in range(n + 1))


ORDER = Grid("order", (1, 2, 4), integer=True)
HIGHPASS_FREQ = Grid(
    "hp_freq",
    (20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400),
    frequency=True,
    log=True,
)
LOWPASS_FREQ = Grid(
    "lp_freq",
    (2000, 2500, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 15000, 18000),
    frequency=True,
    log=True,
)
EQ_GAIN = Grid("eq_gain", _steps(-12, 12, 1.5), typical=(-6, 6))
LOW_SHELF_FREQ = Grid("ls_freq", (60, 80, 100, 120, 150, 200, 250, 300), frequency=True, log=True)
HIGH_SHELF_FREQ = Grid(
    "hs_freq", (2000, 3000, 4000, 5000, 6000, 8000, 10000, 12000), frequency=True, log=True
)
PEAK_FREQ = Grid(
    "pk_freq",
    (60, 80, 100, 150, 200, 300, 400, 500, 700, 1000, 1500, 2000, 3000, 4000, 5000, 7000, 10000),
    frequency=True,
    log=True,
)
PEAK_Q = Grid("pk_q", (0.5, 0.7, 1, 1.4, 2, 3, 4, 6), log=True)
RATIO = Grid("ratio", (1.5, 2, 3, 4, 6, 8), log=True)
THRESHOLD = Grid("threshold", _steps(-36, -3, 3))
ATTACK = Grid("attack", (0.001, 0.003, 0.005, 0.01, 0.02, 0.03, 0.05), log=True)
RELEASE = Grid("release", (0.05, 0.1, 0.15, 0.2, 0.3, 0.5), log=True)
GATE_THRESHOLD = Grid("gate_threshold", _steps(-70, -30, 5))
GATE_ATTACK = Grid("gate_attack", (0.0005, 0.001, 0.005), log=True)
GATE_HOLD = Grid("gate_hold", (0.01, 0.05, 0.1), log=True)
GATE_RELEASE = Grid("gate_release", (0.05, 0.1, 0.2), log=True)
DRIVE = Grid("drive", _steps(0, 0.5, 0.1), typical=(0, 0.3))
# A non-zero offset adds a DC component (ef.cubicnl has no DC blocker), so it stays 0.
DRIVE_OFFSET = Grid("drive_offset", (0,))
#: Fader gains: fine steps around unity, where balances are set, coarser towards the ends.
GAIN = Grid(
    "gain",
    (0.1, 0.125, 0.15, 0.2, 0.25, *_steps(0.3, 1.1, 0.05), 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2),
    log=True,
    typical=(0.5, 1.2),
)
PAN = Grid("pan", _steps(0, 1, 0.05), typical=(0.3, 0.7))
REVERB_ROOM = Grid("rv_room", (0.7, 0.75, 0.8, 0.84, 0.88, 0.92))
REVERB_ALLPASS = Grid("rv_allpass", (0.5,))
REVERB_DAMP = Grid("rv_damp", (0.2, 0.4, 0.6, 0.8))
REVERB_SPREAD = Grid("rv_spread", (23,))
# Freeverb's wet output is 3–6× its input's RMS, so its send levels stay small.
REVERB_SEND = Grid("rv_send", (0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2), log=True)
ECHO_MAX = Grid("echo_max", (1,))
ECHO_TIME = Grid(
    "echo_time", (0.05, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.375, 0.4, 0.5, 0.6, 0.75), log=True
)
ECHO_FEEDBACK = Grid("echo_feedback", _steps(0.1, 0.6, 0.1))
ECHO_SEND = Grid("echo_send", (0.05, 0.1, 0.15, 0.2, 0.3), log=True)


# --- effects and slots ---------------------------------------------------------------------

Part = str | Grid


@dataclass(frozen=True)
class Effect:
    """One block of the writer language: literal text with grid-valued holes."""

    name: str  # grammar rule `fx_<name>`
    parts: tuple[Part, ...]

    @property
    def grids(self) -> tuple[Grid, ...]:
        return tuple(p for p in self.parts if isinstance(p, Grid))

    def available(self, sample_rate: int) -> bool:
        """Whether every argument has a usable value at this rate."""
        return all(g.allowed(sample_rate) for g in self.grids)

    def text(self, *values: float, sample_rate: int = 44100) -> str:
        """The canonical text with these argument values, which must lie on their grids.

        Snap measured values first (`Grid.snap`); an off-grid value raises `ValueError`.
        """
        grids = self.grids
        if len(values) != len(grids):
            raise ValueError(f"{self.name} takes {len(grids)} values, got {len(values)}")
        filled = iter(values)
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            text = format_number(next(filled), part.integer)
            if text not in part.strings(sample_rate):
                raise ValueError(f"{self.name}: {text} is not on the {part.name} grid")
            out.append(text)
        return "".join(out)

    def draw(self, rng: np.random.Generator, sample_rate: int) -> str:
        """A random instance, its values drawn from the grids (mostly their typical range)."""
        return self.text(*(_draw(g, rng, sample_rate) for g in self.grids), sample_rate=sample_rate)


def _draw(grid: Grid, rng: np.random.Generator, sample_rate: int) -> float:
    values = grid.allowed(sample_rate)
    if grid.typical is not None and rng.random() < 0.75:
        lo, hi = grid.typical
        values = tuple(v for v in values if lo <= v <= hi) or values
    return float(values[int(rng.integers(len(values)))])


def _check_grid(fn: str, arg: Arg, grid: Grid) -> None:
    """A grid must sit inside its argument's range (an import-time invariant of this table)."""
    if not all(arg.lo <= v <= arg.hi for v in grid.values):
        raise ValueError(f"{fn}: grid {grid.name} leaves [{arg.lo}, {arg.hi}]")
    if arg.integer != grid.integer or arg.frequency != grid.frequency:
        raise ValueError(f"{fn}: grid {grid.name} disagrees with argument {arg.name}'s kind")


def _call(function: str, *grids: Grid) -> tuple[Part, ...]:
    """The parts of `function(g1, g2, …)`, checked against the allowlist."""
    args = FUNCTIONS[function].args
    if len(args) != len(grids):
        raise ValueError(f"{function} takes {len(args)} arguments, {len(grids)} grids given")
    for arg, grid in zip(args, grids, strict=True):
        _check_grid(function, arg, grid)
    if not grids:
        return (function,)
    parts: list[Part] = [f"{function}("]
    for k, grid in enumerate(grids):
        parts += [grid] if k == 0 else [", ", grid]
    return (*parts, ")")


def _section(grid: Grid) -> tuple[Part, ...]:
    _check_grid("*(x)", SECTION_RANGES["*"], grid)
    return ("*(", grid, ")")


def _send(*call: Part, level: Grid) -> tuple[Part, ...]:
    # `_ <: _, (wet : *(w)) :> _` inside a `:` chain: ast prints the route in parentheses and
    # the wet chain, a `:` inside `,`, in parentheses too.
    return ("(_ <: _, (", *call, " : ", *_section(level), ") :> _)")


GATE = Effect("gate", _call("ef.gate_mono", GATE_THRESHOLD, GATE_ATTACK, GATE_HOLD, GATE_RELEASE))
HIGHPASS = Effect("highpass", _call("fi.highpass", ORDER, HIGHPASS_FREQ))
LOWPASS = Effect("lowpass", _call("fi.lowpass", ORDER, LOWPASS_FREQ))
LOW_SHELF = Effect("low_shelf", _call("fi.low_shelf", EQ_GAIN, LOW_SHELF_FREQ))
PEAK = Effect("peak", _call("fi.peak_eq_cq", EQ_GAIN, PEAK_FREQ, PEAK_Q))
HIGH_SHELF = Effect("high_shelf", _call("fi.high_shelf", EQ_GAIN, HIGH_SHELF_FREQ))
COMPRESSOR = Effect("compressor", _call("co.compressor_mono", RATIO, THRESHOLD, ATTACK, RELEASE))
SATURATION = Effect("saturation", _call("ef.cubicnl", DRIVE, DRIVE_OFFSET))
FADER = Effect("fader", _section(GAIN))
REVERB_SEND_FX = Effect(
    "reverb_send",
    _send(
        *_call("re.mono_freeverb", REVERB_ROOM, REVERB_ALLPASS, REVERB_DAMP, REVERB_SPREAD),
        level=REVERB_SEND,
    ),
)
ECHO_SEND_FX = Effect(
    "echo_send", _send(*_call("ef.echo", ECHO_MAX, ECHO_TIME, ECHO_FEEDBACK), level=ECHO_SEND)
)
PANNER = Effect("panner", _call("sp.panner", PAN))

STEREO_BYPASS = Effect("bypass", ("_, _",))
LIMITER = Effect("limiter", _call("co.limiter_1176_R4_stereo"))
BUS_COMPRESSOR = Effect(
    "bus_compressor", _call("co.compressor_stereo", RATIO, THRESHOLD, ATTACK, RELEASE)
)


@dataclass(frozen=True)
class Slot:
    """A position in a stem's chain: empty or one of its effects."""

    name: str
    effects: tuple[Effect, ...]
    probability: float  # how often `random_script` fills it


#: A stem's chain: these slots in this order, each optional, then `sp.panner(p)`.
CHAIN_SLOTS: tuple[Slot, ...] = (
    Slot("gate", (GATE,), 0.1),
    Slot("highpass", (HIGHPASS,), 0.5),
    Slot("lowpass", (LOWPASS,), 0.3),
    Slot("low_shelf", (LOW_SHELF,), 0.3),
    Slot("peak", (PEAK,), 0.3),
    Slot("high_shelf", (HIGH_SHELF,), 0.3),
    Slot("compressor", (COMPRESSOR,), 0.4),
    Slot("saturation", (SATURATION,), 0.15),
    Slot("fader", (FADER,), 0.6),
    Slot("send", (REVERB_SEND_FX, ECHO_SEND_FX), 0.25),
)
#: The master bus: one of these stereo chains (with how often `random_script` picks it).
MASTER_CHAINS: tuple[tuple[tuple[Effect, ...], float], ...] = (
    ((STEREO_BYPASS,), 0.2),
    ((LIMITER,), 0.4),
    ((BUS_COMPRESSOR,), 0.15),
    ((BUS_COMPRESSOR, LIMITER), 0.25),
)

#: Every effect of the language, by name.
WRITER_EFFECTS: dict[str, Effect] = {
    e.name: e
    for e in (
        *(e for slot in CHAIN_SLOTS for e in slot.effects),
        PANNER,
        *(e for chain, _ in MASTER_CHAINS for e in chain),
    )
}
#: Every grid of the language, by name.
GRIDS: dict[str, Grid] = {g.name: g for e in WRITER_EFFECTS.values() for g in e.grids}
#: The allowlisted functions the writer uses (a subset of `allowlist.FUNCTIONS`).
WRITER_FUNCTIONS: tuple[str, ...] = tuple(
    dict.fromkeys(
        m.group(1)
        for e in WRITER_EFFECTS.values()
        for p in e.parts
        if isinstance(p, str)
        for m in re.finditer(r"([a-z]+\.[A-Za-z0-9_]+)", p)
    )
)

HEADER = 'import("stdfaust.lib");\n\n'
_ROLE = re.compile(r"[a-z][a-z0-9]*")


def check_roles(roles: Sequence[str]) -> tuple[str, ...]:
    """The roles as a tuple; raises `ProducerError` unless they can name stem processes."""
    roles = tuple(roles)
    if not roles:
        raise ProducerError("a mix needs at least one stem role")
    for role in roles:
        if not isinstance(role, str) or not _ROLE.fullmatch(role) or role == "master":
            raise ProducerError(
                f"stem role {role!r} cannot name a process: use lower-case letters and digits "
                "(e.g. drums), not 'master'"
            )
    if len(set(roles)) != len(roles):
        raise ProducerError(f"stem roles repeat: {', '.join(roles)}")
    return roles


# --- text builders -------------------------------------------------------------------------


def chain_text(effects: Sequence[str], pan: str) -> str:
    """A stem chain from effect texts (in slot order) and the panner's text."""
    return " : ".join([*effects, pan])


def script_text(chains: Mapping[str, str], master: str) -> str:
    """A whole script from each role's chain text (in script order) and the master's text."""
    lines = [f"{role}_process = {chain};\n" for role, chain in chains.items()]
    lines.append(f"master_process = {master};\n")
    return HEADER + "".join(lines) + _process_line(tuple(chains))


def _process_line(roles: tuple[str, ...]) -> str:
    stems = ", ".join(f"{role}_process" for role in roles)
    return f"\nprocess = {stems} :> master_process;\n"


# --- grammar -------------------------------------------------------------------------------


def _literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _sequence(parts: Sequence[Part]) -> str:
    return " ".join(_literal(p) if isinstance(p, str) else f"g_{p.name}" for p in parts)


def writer_ebnf(roles: Sequence[str], sample_rate: int = 44100) -> str:
    """The writer grammar for stems of these roles (in this order) rendered at `sample_rate`.

    xgrammar EBNF with root rule `root`. Every sentence is a canonical mix script that
    validates with `validate(text, roles=roles, sample_rate=sample_rate)` and compiles. The
    text is cached per (roles, sample rate), so the compiled grammar cache (keyed by the text)
    hits as well.
    """
    return _writer_ebnf(check_roles(roles), int(sample_rate))


@cache
def _writer_ebnf(roles: tuple[str, ...], sample_rate: int) -> str:
    slots = [(slot, [e for e in slot.effects if e.available(sample_rate)]) for slot in CHAIN_SLOTS]
    slots = [(slot, effects) for slot, effects in slots if effects]
    masters = [chain for chain, _ in MASTER_CHAINS if all(e.available(sample_rate) for e in chain)]
    lines = [
        "# The producer Faust writer language (generated by producer/faust/writer.py)",
        f"# roles: {', '.join(roles)}; sample rate: {sample_rate} Hz",
        "root ::= header " + " ".join(f"def_{role}" for role in roles) + " master_def process_def",
        "header ::= " + _literal(HEADER),
    ]
    lines += [
        f"def_{role} ::= {_literal(f'{role}_process = ')} chain {_literal(';' + chr(10))}"
        for role in roles
    ]
    lines.append(
        'master_def ::= "master_process = " master ' + _literal(";\n"),
    )
    lines.append("process_def ::= " + _literal(_process_line(roles)))
    chain = " ".join(f'(slot_{slot.name} " : ")?' for slot, _ in slots)
    lines.append(f"chain ::= {chain} fx_panner")
    for slot, effects in slots:
        lines.append(f"slot_{slot.name} ::= " + " | ".join(f"fx_{e.name}" for e in effects))
    lines.append(
        "master ::= "
        + " | ".join("(" + ' " : " '.join(f"fx_{e.name}" for e in chain) + ")" for chain in masters)
    )
    used = {e.name: e for _, effects in slots for e in effects}
    used |= {e.name: e for chain in masters for e in chain}
    used[PANNER.name] = PANNER
    grids: dict[str, Grid] = {}
    for effect in used.values():
        lines.append(f"fx_{effect.name} ::= {_sequence(effect.parts)}")
        grids |= {g.name: g for g in effect.grids}
    for grid in grids.values():
        lines.append(
            f"g_{grid.name} ::= " + " | ".join(_literal(s) for s in grid.strings(sample_rate))
        )
    return "\n".join(lines) + "\n"


# --- sampler -------------------------------------------------------------------------------


def random_chain(rng: np.random.Generator, sample_rate: int = 44100) -> str:
    """A random stem chain: each slot filled with its probability, then a panner."""
    effects = []
    for slot in CHAIN_SLOTS:
        usable = [e for e in slot.effects if e.available(sample_rate)]
        if usable and rng.random() < slot.probability:
            effects.append(usable[int(rng.integers(len(usable)))].draw(rng, sample_rate))
    return chain_text(effects, PANNER.draw(rng, sample_rate))


def random_master(rng: np.random.Generator, sample_rate: int = 44100) -> str:
    """A random master chain, drawn with the weights of `MASTER_CHAINS`."""
    chains = [c for c, _ in MASTER_CHAINS]
    weights = np.array([w for _, w in MASTER_CHAINS])
    chain = chains[int(rng.choice(len(chains), p=weights / weights.sum()))]
    return " : ".join(e.draw(rng, sample_rate) for e in chain)


def random_script(roles: Sequence[str], rng: np.random.Generator, sample_rate: int = 44100) -> str:
    """A random sentence of `writer_ebnf(roles, sample_rate)`: canonical text of a valid script.

    Used as the ground-truth script of synthetic songs and by tests.
    """
    roles = check_roles(roles)
    chains = {role: random_chain(rng, sample_rate) for role in roles}
    return script_text(chains, random_master(rng, sample_rate))
