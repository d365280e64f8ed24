"""The resource budget of a mix script: delay memory, compile time, static gain and DC.

The allowlist bounds every block (a delay line of 10 s at most, feedback below 1), but not how
many blocks a script uses, and libfaust's cost is in the sum: 200 ten-second echoes pass every
range and allocate gigabytes, 80 reverbs in one chain compile for over a minute (the compile
time grows with the square of the number of blocks), 32 `*(16)` overflow a float and 50 `+(1)`
master to DC. This pass adds up what a script asks for, statically, from the parsed tree, and
refuses it, naming the line, before libfaust sees it:

- **delay memory**: every delay line libfaust will allocate, summed over the whole script (the
  stem programs and the master are compiled from it, so their sum is what a render holds);
- **compile time**: an estimate from weighted block counts and how they are chained, fitted to
  measured compile times (`benchmarks/compile_cost.py`, figures in benchmarks/RESULTS.md), for
  the whole script as one program: the most any caller compiles at once (`training/evaluate.py`
  does; rendering compiles stem programs one after another, measured about as long in total);
- **static gain**: a bound on how much louder than a full-scale stem any channel can get, from
  the constant gains, EQ boosts, feedback effects and routing along its paths;
- **DC**: the constant offset that reaches the master (`+(x)`, `-(x)`, a saturator's offset, a
  ring product), scaled like the signal and cleared by the filters that remove DC, which may not
  swamp the signal.

Every real mix the product writes (`writer.random_script`, the mixing teacher) stays far inside
these limits (tests/faust/test_budget.py). The gain and DC limits are looser than a mix needs
because the grammar-drawn scripts of tests/faust/test_property.py (offsets, saturator offsets,
stacked boosts) must pass too. The pass is linear in the script's size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from producer.errors import FaustValidationError
from producer.faust.ast import (
    BinOp,
    Call,
    Chain,
    Cut,
    Expr,
    MixScript,
    Pos,
    Ref,
    Route,
    Section,
    Wire,
    format_number,
    walk,
)

#: Most memory a script's delay lines may take, in bytes (echo, delay and reverb lines).
MAX_DELAY_BYTES = 64 * 2**20
#: Longest estimated compile time of a script, in seconds on 2 vCPUs.
MAX_COMPILE_SECONDS = 5.0
#: Highest static gain bound of any block's output, in dB above a full-scale stem. It guards
#: against overflow and runaway levels, not against a loud mix (the engine refuses output above
#: +40 dBFS when it renders): float32 overflows at +770 dB, which 32 `*(16)` reach (+100 dB is
#: passed at the 5th). The bound is a worst case (every EQ boost at once, a reverb's broadband
#: gain of up to 14×); the writer's scripts stay under +30 dB (its worst case about +50 dB), and
#: 1 in 400 grammar-drawn test scripts passes it (tests/faust/test_property.py).
MAX_GAIN_DB = 100.0
#: A DC offset at the master is always accepted up to this (full scale is 1; -40 dBFS) ...
MAX_DC = 0.01
#: ... and beyond it only while it stays within this multiple of the bound on the signal itself,
#: so that it cannot swamp the master as 50 `+(1)` do (a DC of 50 on a signal of 1). The writer
#: adds no offsets; the grammar-drawn test scripts (saturator offsets, small `+(x)`) reach 3.7×.
MAX_DC_RATIO = 10.0

#: libfaust sizes a delay line for the largest rate `ma.SR` may take (its interval's upper
#: bound in platform.lib), not for the render rate, so a script's memory is this rate's.
FAUST_MAX_SAMPLE_RATE = 192_000
#: One sample of a delay line (float32).
SAMPLE_BYTES = 4
#: Samples of one `re.mono_freeverb` at 192 kHz: 8 comb lines of 8192 (their tunings, up to
#: 1617 samples at 44.1 kHz plus a spread of 100, scaled to 192 kHz and rounded up to a power of
#: two) and 4 allpass lines of 2048 (1024 + 1, rounded up).
FREEVERB_SAMPLES = 8 * 8192 + 4 * 2048

#: Compile time of one program: t = A·W + B·P + C·W² seconds (`compile_seconds`), where W is
#: the sum of its blocks' weights and P the sum of each block's weight times the weight upstream
#: of it. libfaust's time grows with the square of the blocks in a program, faster when they are
#: chained (20 reverbs in a chain: 6.1 s; side by side: 3.6 s). Fitted to cold compiles on 2
#: vCPUs and rounded up (benchmarks/compile_cost.py; benchmarks/RESULTS.md, "Faust compile cost
#: (issue 16)").
COMPILE_A = 0.06
COMPILE_B = 0.014
COMPILE_C = 0.006
#: Compile weight of one block, in units of one `re.mono_freeverb`: the measured time of a chain
#: of 25-2000 copies solved for W, divided by the copies, rounded up.
COMPILE_WEIGHTS: dict[str, float] = {
    "re.mono_freeverb": 1.0,
    "re.stereo_freeverb": 1.75,
    "ef.echo": 0.055,
    "de.delay": 0.01,
    "fi.highpass": 0.06,  # per order (one first-order section each)
    "fi.lowpass": 0.06,  # per order
    "fi.peak_eq": 0.12,
    "fi.peak_eq_cq": 0.12,
    "fi.low_shelf": 0.3,
    "fi.high_shelf": 0.3,
    "fi.dcblocker": 0.05,
    "co.compressor_mono": 0.085,
    "co.compressor_stereo": 0.12,
    "co.limiter_1176_R4_mono": 0.08,
    "co.limiter_1176_R4_stereo": 0.16,
    "ef.gate_mono": 0.23,  # 0.21 let 83 through in 5.8 s (compile_cost.py --search)
    "ef.cubicnl": 0.012,
    "sp.panner": 0.002,
    "si.bus": 0.0,
    "si.block": 0.0,
}
#: Functions whose weight is per filter order (their first argument).
PER_ORDER = ("fi.highpass", "fi.lowpass")
#: Weight of a constant (`*(x)`, `+(x)`, `-(x)`) or an operator (`+`, `-`, `*`).
SIMPLE_WEIGHT = 0.001
#: Blocks at least this heavy are named when a script is refused for its compile time.
HEAVY_WEIGHT = 0.05

#: Bounds are clipped here: past it a script is refused anyway, and floats must not overflow.
HUGE = 1e30
#: Amplitude a saturator (`ef.cubicnl`) can give at most: it clips, then x - x³/3.
SATURATION_CEILING = 2.0 / 3.0


# --- delay memory --------------------------------------------------------------------------


def _pow2(n: int) -> int:
    """The power of two libfaust rounds a delay line of `n` samples up to."""
    return 1 << max(0, math.ceil(math.log2(max(n, 1))))


def call_delay_bytes(call: Call) -> int:
    """Bytes of the delay lines one allowlisted call allocates."""
    if call.name == "ef.echo":
        return _pow2(math.ceil(call.args[0] * FAUST_MAX_SAMPLE_RATE) + 1) * SAMPLE_BYTES
    if call.name == "de.delay":
        return _pow2(int(call.args[0]) + 1) * SAMPLE_BYTES
    if call.name == "re.mono_freeverb":
        return FREEVERB_SAMPLES * SAMPLE_BYTES
    if call.name == "re.stereo_freeverb":
        return 2 * FREEVERB_SAMPLES * SAMPLE_BYTES
    return 0


def delay_bytes(expr: Expr) -> int:
    """Bytes of every delay line in an expression (definitions it references not included)."""
    return sum(call_delay_bytes(n) for n in walk(expr) if isinstance(n, Call))


# --- compile time --------------------------------------------------------------------------


def node_weight(node: Expr) -> float:
    """Compile weight of one node, in reverb units (`COMPILE_WEIGHTS`)."""
    if isinstance(node, Call):
        weight = COMPILE_WEIGHTS[node.name]
        return weight * node.args[0] if node.name in PER_ORDER else weight
    if isinstance(node, Section | BinOp):
        return SIMPLE_WEIGHT
    return 0.0


def compile_seconds(weight: float, chained: float) -> float:
    """Estimated cold compile time, in seconds on 2 vCPUs, of one program.

    `weight` is the sum of its blocks' weights (W) and `chained` the sum, over its blocks, of
    each block's weight times the weight of the blocks upstream of it (P; n reverbs in one
    chain give n(n-1)/2, side by side 0).
    """
    return COMPILE_A * weight + COMPILE_B * chained + COMPILE_C * weight * weight


@dataclass
class CompileCost:
    """Running totals of a program's compile weight, and where they first pass the limit."""

    weight: float = 0.0
    chained: float = 0.0
    over_at: Pos = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return compile_seconds(self.weight, self.chained)

    def add(self, node: Expr, upstream: float) -> float:
        """Count one block fed by `upstream` weight; the weight downstream of it."""
        w = node_weight(node)
        self.weight += w
        self.chained += w * upstream
        if isinstance(node, Call) and w >= HEAVY_WEIGHT:
            self.counts[node.name] = self.counts.get(node.name, 0) + 1
        if self.over_at is None and self.seconds > MAX_COMPILE_SECONDS:
            self.over_at = getattr(node, "pos", None) or (None, None)
        return upstream + w

    def census(self) -> str:
        """The heavy blocks, most first: `80 re.mono_freeverb, 3 fi.highpass`."""
        ranked = sorted(self.counts.items(), key=lambda kv: -kv[1] * COMPILE_WEIGHTS[kv[0]])
        return ", ".join(f"{n} {name}" for name, n in ranked[:3])


# --- the check -----------------------------------------------------------------------------


def _exprs(script: MixScript) -> Iterator[Expr]:
    yield from (d.expr for d in script.definitions)
    yield script.process


def _error(reason: str, pos: Pos) -> FaustValidationError:
    return FaustValidationError(reason, *(pos if pos else (None, None)))


def _seconds(t: float) -> str:
    return f"{t:.1f} s" if t < 10 else f"{t:.0f} s"


def _mb(n: float) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 2**20:.2f} MB"


def memory(script: MixScript) -> tuple[int, Pos]:
    """The script's delay memory in bytes, and the block where it first passes the limit."""
    total, over_at = 0, None
    for expr in _exprs(script):
        for node in walk(expr):
            if isinstance(node, Call):
                total += call_delay_bytes(node)
                if over_at is None and total > MAX_DELAY_BYTES:
                    over_at = node.pos or (None, None)
    return total, over_at


# --- static gain, DC and compile cost: one pass through the signal flow ----------------------


@dataclass(frozen=True)
class Channel:
    """What is known statically about one channel of the signal flow.

    `gain[i]` bounds |this channel| / |input i of process| (the peak frequency response of
    linear blocks, the broadband gain of feedback effects); `dc` bounds its constant offset when
    the stems carry none, and `dc_pos` is where the largest part of that comes from; `upstream`
    is the compile weight of the blocks that feed it.
    """

    gain: np.ndarray
    dc: float = 0.0
    dc_pos: Pos = None
    upstream: float = 0.0

    @property
    def peak(self) -> float:
        """Bound on the amplitude when every input is at full scale (|x| ≤ 1)."""
        return float(self.gain.sum()) + self.dc

    def scaled(self, gain: float, dc_gain: float) -> Channel:
        return replace(self, gain=self.gain * gain, dc=self.dc * dc_gain)


def _sum(channels: list[Channel]) -> Channel:
    """A sum of channels: gains and DC add; DC is credited to the largest source."""
    return Channel(
        sum((c.gain for c in channels), np.zeros_like(channels[0].gain)),
        sum(c.dc for c in channels),
        max(channels, key=lambda c: c.dc).dc_pos,
        max(c.upstream for c in channels),
    )


def _db(linear: float) -> float:
    return 20.0 * math.log10(max(linear, 1e-30))


def _linear(db: float) -> float:
    return 10.0 ** (db / 20.0)


def _response(name: str, args: tuple[float, ...]) -> tuple[float, float]:
    """(gain bound, DC gain) of a one-in, one-out call other than the saturator."""
    if name in ("fi.highpass", "fi.dcblocker"):
        return 1.0, 0.0  # Butterworth: no resonance; both remove DC
    if name in ("fi.peak_eq", "fi.peak_eq_cq", "fi.high_shelf"):
        return max(1.0, _linear(args[0])), 1.0
    if name == "fi.low_shelf":
        return max(1.0, _linear(args[0])), _linear(args[0])  # its gain applies at DC
    # Feedback effects count at their broadband (RMS) gain, offsets as well as signal: their
    # peak (and DC) gain, 1/(1-fb) per comb, is reached only by a steady tone on a resonance.
    if name == "ef.echo":
        fb = args[2]  # y = x + fb·y(t - d)
        gain = 1.0 / math.sqrt(1.0 - fb * fb)
        return gain, gain
    if name == "re.mono_freeverb":
        fb = args[0]  # 8 feedback combs summed, then allpasses (unity gain)
        gain = math.sqrt(8.0 / (1.0 - fb * fb))
        return gain, gain
    # Low-pass, delay, compressors, limiters and gates never amplify.
    return 1.0, 1.0


def _call(call: Call, ins: list[Channel]) -> list[Channel]:
    """The channels out of an allowlisted call (its compile weight not yet added)."""
    name, args = call.name, call.args
    if name in ("si.bus", "co.compressor_stereo", "co.limiter_1176_R4_stereo"):
        return ins  # stereo-linked dynamics only turn each side down
    if name == "si.block":
        return []
    if name == "sp.panner":  # `_ <: *(1-p), *(p)`
        return [ins[0].scaled(1.0 - args[0], 1.0 - args[0]), ins[0].scaled(args[0], args[0])]
    if name == "re.stereo_freeverb":  # `+ <: mono_freeverb, mono_freeverb`
        wet = _sum(ins).scaled(*_response("re.mono_freeverb", args))
        return [wet, wet]
    if name == "ef.cubicnl":
        # Gain 10^(2·drive), plus the offset, then clipped: never above the ceiling.
        (x,) = ins
        pregain, offset = _linear(40.0 * args[0]), abs(args[1])
        pos = call.pos if offset > x.dc * pregain else x.dc_pos
        gain = np.minimum(x.gain * pregain, SATURATION_CEILING)
        return [
            replace(x, gain=gain, dc=min(x.dc * pregain + offset, SATURATION_CEILING), dc_pos=pos)
        ]
    return [ins[0].scaled(*_response(name, args))]


def _leaf(node: Wire | Cut | BinOp | Section | Call, ins: list[Channel]) -> list[Channel]:
    """The channels out of a block that is not a composition."""
    if isinstance(node, Wire):
        return ins
    if isinstance(node, Cut):
        return []
    if isinstance(node, Call):
        return _call(node, ins)
    if isinstance(node, BinOp):
        a, b = ins
        if node.op != "*":
            return [_sum(ins)]
        # A ring product: |a·b| ≤ |a|·|b|, and a signal times itself has a DC component.
        ga, gb = float(a.gain.max(initial=0.0)), float(b.gain.max(initial=0.0))
        upstream = max(a.upstream, b.upstream)
        return [Channel((a.gain * gb + b.gain * ga) / 2.0, a.peak * b.peak, node.pos, upstream)]
    (x,) = ins
    value = abs(node.value.linear)
    if node.op == "*":
        return [x.scaled(value, value)]
    pos = node.pos if value > x.dc else x.dc_pos
    return [replace(x, dc=x.dc + value, dc_pos=pos)]


class _Flow:
    """Propagates `Channel`s through `process`, adding up the compile cost on the way and
    noting the highest gain and the first block whose output passes the gain limit."""

    def __init__(self, script: MixScript, channels: Callable[[Expr], tuple[int, int]]):
        self.script = script
        self.channels = channels
        self.cost = CompileCost()
        self.gain = 0.0
        self.gain_over_at: Pos = None
        self.gain_over = 0.0  # the gain at `gain_over_at`

    def run(self, expr: Expr, ins: list[Channel]) -> list[Channel]:
        if isinstance(expr, Ref):
            d = self.script.definition(expr.name)
            assert d is not None, expr.name  # validated before the budget
            return self.run(d.expr, ins)
        if isinstance(expr, Chain):
            return self._chain(expr, ins)
        if isinstance(expr, Route):
            return self._route(expr, ins)
        upstream = max((c.upstream for c in ins), default=0.0)
        downstream = self.cost.add(expr, upstream)
        outs = [_bounded(replace(c, upstream=downstream)) for c in _leaf(expr, ins)]
        gain = max((float(c.gain.max(initial=0.0)) for c in outs), default=0.0)
        if gain > _linear(MAX_GAIN_DB) and self.gain_over_at is None:
            self.gain_over_at, self.gain_over = expr.pos or (None, None), gain
        self.gain = max(self.gain, gain)
        return outs

    def _chain(self, expr: Chain, ins: list[Channel]) -> list[Channel]:
        if expr.op == ":":
            for item in expr.items:
                ins = self.run(item, ins)
            return ins
        outs: list[Channel] = []
        start = 0
        for item in expr.items:
            n, _ = self.channels(item)
            outs += self.run(item, ins[start : start + n])
            start += n
        return outs

    def _route(self, expr: Route, ins: list[Channel]) -> list[Channel]:
        outs = self.run(expr.first, ins)
        for op, item in expr.steps:
            n, _ = self.channels(item)
            if op == "<:":  # output k feeds inputs k, k + len(outs), …
                fed = [outs[j % len(outs)] for j in range(n)]
            else:  # ":>": input j sums outputs j, j + n, …
                fed = [_sum(outs[j::n]) for j in range(n)]
            outs = self.run(item, fed)
        return outs


def _bounded(c: Channel) -> Channel:
    """The channel with its bounds clipped to `HUGE` (no float overflow on hostile scripts)."""
    if c.dc <= HUGE and float(c.gain.max(initial=0.0)) <= HUGE:
        return c
    return replace(c, gain=np.minimum(c.gain, HUGE), dc=min(c.dc, HUGE))


@dataclass(frozen=True)
class Budget:
    """What a script uses of each limit, and where it first passes each (None: within it)."""

    delay_bytes: int
    compile_seconds: float
    gain_db: float  # highest static gain bound of any block's output
    dc: float  # DC bound at the master (on its output closest to its limit)
    dc_limit: float  # the DC that output may carry
    memory_over_at: Pos = None
    compile_over_at: Pos = None
    gain_over_at: Pos = None
    gain_over_db: float = 0.0  # the gain where it first passes the limit
    dc_from: Pos = None  # where the master's DC mostly comes from
    census: str = ""  # the heaviest blocks, for the compile-time message


def _dc_limit(c: Channel) -> float:
    """The DC a master output may carry: `MAX_DC`, or more on a loud enough signal."""
    return max(MAX_DC, MAX_DC_RATIO * float(c.gain.sum()))


def assess(script: MixScript, channels: Callable[[Expr], tuple[int, int]]) -> Budget:
    """What the script uses of each limit, without refusing it.

    Needs a script that passed the semantic and routing checks: `channels(expr)` gives an
    expression's (inputs, outputs) by the validator's rules, and every definition is used once
    in `process`.
    """
    total, memory_over_at = memory(script)
    n_in, _ = channels(script.process)
    flow = _Flow(script, channels)
    outs = flow.run(script.process, [Channel(row) for row in np.eye(n_in)])
    worst = max(outs, key=lambda c: c.dc - _dc_limit(c))
    return Budget(
        delay_bytes=total,
        compile_seconds=flow.cost.seconds,
        gain_db=_db(flow.gain),
        dc=worst.dc,
        dc_limit=_dc_limit(worst),
        memory_over_at=memory_over_at,
        compile_over_at=flow.cost.over_at,
        gain_over_at=flow.gain_over_at,
        gain_over_db=_db(flow.gain_over),
        dc_from=worst.dc_pos,
        census=flow.cost.census(),
    )


def check_budget(script: MixScript, channels: Callable[[Expr], tuple[int, int]]) -> Budget:
    """`assess`, refusing a script past any limit with `FaustValidationError`.

    The message names the limit and the line of the block where the script passes it (for DC,
    the offset that contributes most).
    """
    b = assess(script, channels)
    if b.memory_over_at is not None:
        raise _error(
            f"the script's delay lines need {_mb(b.delay_bytes)}, over the "
            f"{_mb(MAX_DELAY_BYTES)} limit (libfaust sizes them for {FAUST_MAX_SAMPLE_RATE} Hz; "
            "this block passes it)",
            b.memory_over_at,
        )
    if b.compile_over_at is not None:
        raise _error(
            f"the script would take about {_seconds(b.compile_seconds)} to compile ({b.census}), "
            f"over the {format_number(MAX_COMPILE_SECONDS)} s limit (this block passes it): "
            "use fewer reverbs and filters",
            b.compile_over_at,
        )
    if b.gain_over_at is not None:
        raise _error(
            f"the static gain reaches {b.gain_over_db:+.0f} dB here, over the "
            f"{MAX_GAIN_DB:+.0f} dB limit (constant gains, EQ boosts and feedback multiply "
            "along a path)",
            b.gain_over_at,
        )
    if b.dc > b.dc_limit:
        raise _error(
            f"this offset reaches the master as a DC of up to {format_number(round(b.dc, 3))}, "
            f"over the limit of {format_number(round(b.dc_limit, 3))} (the larger of "
            f"{format_number(MAX_DC)} and {format_number(MAX_DC_RATIO)}× the bound on the "
            "signal): follow it with fi.dcblocker",
            b.dc_from,
        )
    return b


def max_chained_reverbs() -> int:
    """The longest chain of `re.mono_freeverb` whose estimated compile time is within the limit."""
    n = 0
    while compile_seconds(n + 1.0, (n + 1.0) * n / 2.0) <= MAX_COMPILE_SECONDS:
        n += 1
    return n
