"""Drum patterns per style: kick, snare, clap, hats, rim and percussion hits in beats.

    events = drum_pattern("trap", bars=8, rng=np.random.default_rng(7))

Each style has a few *templates* (a one- or two-bar kick and backbeat skeleton, written on a
16th-note grid: step 4 is beat 2, step 8 beat 3) and a hi-hat writer; the rng picks a template
and then varies it: hat rolls, ghost notes, open hats, swing amount, and a fill in the last bar
of every four. The kick on beat 1 and the backbeat (snare/clap on 2 and 4, or on 3 for the
half-time styles) are never removed: librosa's beat tracker, and a listener's head-nod, need
that steady quarter-note pulse to find the tempo through all the syncopation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from producer.generators.events import GM_DRUMS, NoteEvent
from producer.generators.theory import STYLE_SWING, fit_to_loop, swing_time

#: The drum instruments the patterns play (each is also its GM drum number's name).
DRUM_INSTRUMENTS = ("kick", "snare", "clap", "hat_closed", "hat_open", "rim", "perc")

#: Hit lengths in beats (what a renderer gates, and what the MIDI export writes).
_LENGTH = {
    "kick": 0.5,
    "snare": 0.25,
    "clap": 0.25,
    "hat_closed": 0.125,
    "hat_open": 0.5,
    "rim": 0.125,
    "perc": 0.25,
}


@dataclass(frozen=True)
class DrumParams:
    """Knobs a plan's stem `params` may set for the drums; unknown keys are ignored."""

    swing: float | None = None  # off-beat 8th position, 0.5 (straight) … 0.7; None: STYLE_SWING
    fills: bool = True  # play a fill in the last bar of every four
    rolls: float = 0.5  # 0..1, how often trap/drill hats roll (1/16, 1/32, triplets)
    ghosts: float = 0.5  # 0..1, how many ghost snares boom-bap, lo-fi and drill add

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> DrumParams:
        """Read the known keys of a stem's `params`, checking their ranges."""
        params = params or {}
        out = cls(
            swing=None if params.get("swing") is None else float(params["swing"]),
            fills=bool(params.get("fills", True)),
            rolls=float(params.get("rolls", 0.5)),
            ghosts=float(params.get("ghosts", 0.5)),
        )
        if out.swing is not None and not 0.5 <= out.swing <= 0.7:
            raise ValueError(f"drum param 'swing' = {out.swing} is outside [0.5, 0.7]")
        for name in ("rolls", "ghosts"):
            value = getattr(out, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"drum param '{name}' = {value} is outside [0, 1]")
        return out


@dataclass(frozen=True)
class _Template:
    """A kick/backbeat skeleton: per bar of a 1- or 2-bar cycle, 16th-grid steps."""

    kicks: tuple[tuple[int, ...], ...]  # kick steps per bar of the cycle
    snares: tuple[tuple[int, ...], ...]  # main backbeat steps per bar of the cycle
    backbeat: tuple[str, ...] = ("snare",)  # instruments layered on every backbeat hit


# Kick on step 0 in every bar of every template: the downbeat anchors the pulse. Each template
# was rendered and run through librosa's beat tracker over its style's tempo range (trap
# 128–150, drill 136–150, boom-bap 84–96, lo-fi 70–90, g-funk 88–100; 16 seeds): skeletons
# whose strong hits keep falling 1.25 or 0.75 beats apart (a kick on the "a" of 3 into the
# next downbeat, a snare on the last 16th after a kick on the "and" of 3) were read as 4/5 or
# 4/3 of the tempo and were replaced.
_TEMPLATES: dict[str, tuple[_Template, ...]] = {
    # Half-time: one snare+clap on beat 3 (step 8) per bar, syncopated 16th kicks around it.
    "trap": (
        _Template(((0, 6, 10), (0, 7, 10, 14)), ((8,), (8,)), ("snare", "clap")),
        _Template(((0, 10, 12), (0, 7, 10)), ((8,), (8,)), ("clap",)),
        _Template(((0, 3, 10), (0, 6, 9, 14)), ((8,), (8,)), ("snare", "clap")),
        _Template(((0, 6, 10), (0, 3, 14)), ((8,), (8,)), ("clap",)),
    ),
    # Snare on 3 in every bar, pushed extra snares (the "a" or "and" of 4) in the second bar.
    "drill": (
        _Template(((0, 10), (0, 3, 11)), ((8,), (8, 14)), ("snare",)),
        _Template(((0, 6, 10), (0, 7)), ((8,), (8, 14)), ("snare", "clap")),
        _Template(((0, 3), (0, 6, 10)), ((8,), (8, 13)), ("snare",)),
    ),
    # Kick on 1 and the "and" of 2 or 3, snare on 2 and 4.
    "boom-bap": (
        _Template(((0, 6, 10),), ((4, 12),), ("snare",)),
        _Template(((0, 7, 8), (0, 2, 10)), ((4, 12), (4, 12)), ("snare",)),
        _Template(((0, 6, 9), (0, 6, 10, 15)), ((4, 12), (4, 12)), ("snare", "clap")),
        _Template(((0, 3, 10),), ((4, 12),), ("snare",)),
    ),
    # Laid-back kicks on 1 and 3 (with a pickup); rim or soft snare on 2 and 4. At 70-odd bpm
    # a hit on every quarter is what keeps the swung 8ths from reading as another tempo.
    "lo-fi": (
        _Template(((0, 8, 14),), ((4, 12),), ("snare",)),
        _Template(((0, 6, 8), (0, 8, 10)), ((4, 12), (4, 12)), ("rim", "snare")),
        _Template(((0, 8, 11),), ((4, 12),), ("snare", "rim")),
    ),
    # Funky 16th kicks, snare+clap on 2 and 4.
    "g-funk": (
        _Template(((0, 3, 6, 10), (0, 6, 8, 11)), ((4, 12), (4, 12)), ("snare", "clap")),
        _Template(((0, 7, 8, 14), (0, 3, 10)), ((4, 12), (4, 12)), ("snare", "clap")),
        _Template(((0, 6, 11), (0, 2, 8, 11)), ((4, 12), (4, 12)), ("snare",)),
    ),
}


class _Kit:
    """Collects hits of one pattern, applying the swing and keeping velocities in (0, 1]."""

    def __init__(self, swing: float) -> None:
        self.swing = swing
        self.events: list[NoteEvent] = []

    def hit(self, instrument: str, beat: float, velocity: float, late: float = 0.0) -> None:
        """A hit at straight grid position `beat` (swung here), `late` beats behind the grid."""
        start = swing_time(beat, self.swing) + late
        velocity = float(np.clip(velocity, 0.05, 1.0))
        self.events.append(
            NoteEvent(start, _LENGTH[instrument], GM_DRUMS[instrument], velocity, instrument)
        )

    def remove(self, instrument: str, start: float, end: float) -> None:
        """Drop an instrument's hits in [start, end) beats (straight positions ≈ swung ones)."""
        self.events = [
            e
            for e in self.events
            if not (e.instrument == instrument and start - 1e-6 <= e.start < end - 1e-6)
        ]


def drum_pattern(
    style: str,
    bars: int,
    rng: np.random.Generator,
    params: dict[str, Any] | None = None,
) -> list[NoteEvent]:
    """A `bars`-bar drum loop in the style's idiom, deterministic for `rng`'s state.

    Instruments: kick, snare, clap, hat_closed, hat_open, rim, perc; each event's pitch is its
    General MIDI drum number. Events start in [0, 4·bars) beats and end by 4·bars.
    """
    if style not in _TEMPLATES:
        raise ValueError(f"unknown style {style!r}: expected one of {', '.join(_TEMPLATES)}")
    if bars < 1:
        raise ValueError(f"bars must be ≥ 1, got {bars}")
    opts = DrumParams.from_params(params)
    templates = _TEMPLATES[style]
    template = templates[int(rng.integers(len(templates)))]
    swing = opts.swing if opts.swing is not None else STYLE_SWING[style]
    kit = _Kit(swing)
    writer = _HATS[style]
    hat_state = writer.setup(rng)
    for bar in range(bars):
        at = 4.0 * bar
        cycle = bar % len(template.kicks)
        _skeleton(kit, style, template, cycle, at, rng)
        writer.bar(kit, at, bar, hat_state, opts, rng)
        if style in ("boom-bap", "lo-fi", "drill"):
            _ghosts(kit, style, at, opts.ghosts, rng)
        if opts.fills and bar % 4 == 3:
            _FILLS[style](kit, at, rng)
    return fit_to_loop(kit.events, bars)


# ---------------------------------------------------------------------------------------------
# Skeleton: kicks and backbeats.
# ---------------------------------------------------------------------------------------------

_SOFT = {"lo-fi": 0.75}  # velocity scale per style: lo-fi drums sit back
#: How far snares and hats drag behind the grid, in beats: (mean, ± jitter). A steady drag is
#: the laid-back feel; a wide random one would only smear the pulse the beat tracker needs.
_DRAG = {"lo-fi": (0.01, 0.01), "boom-bap": (0.004, 0.004)}


def _velocity(style: str, base: float, rng: np.random.Generator, spread: float = 0.06) -> float:
    # "Dusty" drums: boom-bap and lo-fi hits vary more, like a sampled, finger-drummed take.
    spread = 0.1 if style in ("boom-bap", "lo-fi") else spread
    return _SOFT.get(style, 1.0) * (base + float(rng.uniform(-spread, spread)))


def _late(style: str, rng: np.random.Generator) -> float:
    if style not in _DRAG:
        return 0.0
    mean, jitter = _DRAG[style]
    return max(0.0, mean + float(rng.uniform(-jitter, jitter)))


def _skeleton(
    kit: _Kit, style: str, t: _Template, cycle: int, at: float, rng: np.random.Generator
) -> None:
    for step in t.kicks[cycle]:
        base = 1.0 if step == 0 else 0.75
        kit.hit("kick", at + step / 4, _velocity(style, base, rng))
    for i, step in enumerate(t.snares[cycle]):
        # The first backbeat hit of the bar is the pulse; extra (drill) snares sit a bit lower.
        base = 0.95 if i == 0 or step in (4, 12) else 0.8
        late = _late(style, rng)
        for instrument in t.backbeat:
            scale = 0.8 if instrument == "clap" and len(t.backbeat) > 1 else 1.0
            kit.hit(instrument, at + step / 4, scale * _velocity(style, base, rng), late)


def _ghosts(kit: _Kit, style: str, at: float, amount: float, rng: np.random.Generator) -> None:
    """Quiet snares on off-beat 16ths: the shuffle between the backbeats."""
    candidates = (3, 7, 9, 11, 15) if style == "drill" else (3, 7, 9, 14, 15)
    for step in candidates:
        if rng.random() < 0.3 * amount:
            kit.hit("snare", at + step / 4, _velocity(style, 0.28, rng, 0.05), _late(style, rng))


# ---------------------------------------------------------------------------------------------
# Hi-hats.
# ---------------------------------------------------------------------------------------------


class _HatWriter:
    """Writes one bar of hats; `setup` draws the per-pattern choices once."""

    def setup(self, rng: np.random.Generator) -> dict[str, Any]:
        return {}

    def bar(
        self,
        kit: _Kit,
        at: float,
        bar: int,
        state: dict[str, Any],
        opts: DrumParams,
        rng: np.random.Generator,
    ) -> None:
        raise NotImplementedError


def _roll(
    kit: _Kit, start: float, length: float, step: float, rng: np.random.Generator, loud: float
) -> None:
    """Hats every `step` beats over [start, start+length), ramping up or down in velocity."""
    count = max(2, round(length / step))
    ramp = np.linspace(0.45, loud, count)
    if rng.random() < 0.4:
        ramp = ramp[::-1]
    for i in range(count):
        kit.hit("hat_closed", start + i * step, float(ramp[i]))


class _TrapHats(_HatWriter):
    """Straight 1/8 or 1/16 hats with rolls of 1/16, 1/32 and 1/16-triplets."""

    def setup(self, rng: np.random.Generator) -> dict[str, Any]:
        return {"step": float(rng.choice([0.5, 0.25])), "open": rng.random() < 0.5}

    def bar(self, kit, at, bar, state, opts, rng):
        # Roll spans: half a beat or a whole beat, at the usual places (end of beat 2 or 4).
        rolls: list[tuple[float, float]] = []
        chances = 1 + int(rng.random() < opts.rolls)
        for _ in range(chances):
            # At least one roll every other bar when rolls are on: it is the trap signature.
            must = bar % 2 == 1 and not rolls and opts.rolls > 0
            if must or rng.random() < opts.rolls:
                where = float(rng.choice([1.5, 3.5, 3.0, 1.0, 2.5]))
                length = 0.5 if where % 1 else float(rng.choice([0.5, 1.0]))
                if all(abs(where - s) >= 1.0 for s, _ in rolls):
                    rolls.append((where, length))
        pos = 0.0
        while pos < 4.0 - 1e-9:
            in_roll = next(((s, n) for s, n in rolls if s - 1e-9 <= pos < s + n - 1e-9), None)
            if in_roll is not None:
                start, length = in_roll
                step = float(rng.choice([0.25, 0.125, 1 / 6, 1 / 12], p=[0.3, 0.35, 0.25, 0.1]))
                _roll(kit, at + start, length, step, rng, 0.85)
                pos = start + length
                continue
            accent = 0.85 if pos % 1.0 == 0 else 0.55
            if state["open"] and pos == 3.5 and bar % 2 == 1:
                kit.hit("hat_open", at + pos, 0.6)
            else:
                kit.hit("hat_closed", at + pos, accent + float(rng.uniform(-0.05, 0.05)))
            pos += state["step"]


class _DrillHats(_HatWriter):
    """Triplet-feel hats: each beat picks a figure on the 1/8-triplet grid, some 1/16-triplets."""

    # Figures as offsets within a beat (thirds); the first is the skippy drill shuffle.
    _FIGURES = ((0.0, 2 / 3), (0.0, 1 / 3, 2 / 3), (0.0,), (0.0, 1 / 6, 1 / 3, 2 / 3))

    def setup(self, rng: np.random.Generator) -> dict[str, Any]:
        return {"weights": rng.dirichlet([4.0, 2.0, 1.0, 1.0])}

    def bar(self, kit, at, bar, state, opts, rng):
        for beat in range(4):
            weights = np.array(state["weights"])
            weights[3] *= 0.5 + opts.rolls  # the 1/16-triplet figure is the roll
            figure = self._FIGURES[int(rng.choice(4, p=weights / weights.sum()))]
            for off in figure:
                accent = 0.75 if off == 0.0 else 0.55
                kit.hit("hat_closed", at + beat + off, accent + float(rng.uniform(-0.05, 0.05)))
        if rng.random() < 0.3:
            kit.hit("perc", at + 3.0 + 2 / 3, 0.5)


class _SwungHats(_HatWriter):
    """8th hats (swung by the kit), accented on the beat; boom-bap and lo-fi."""

    def __init__(self, style: str) -> None:
        self.style = style

    def setup(self, rng: np.random.Generator) -> dict[str, Any]:
        return {"open": rng.random() < 0.5, "skip": float(rng.uniform(0.0, 0.15))}

    def bar(self, kit, at, bar, state, opts, rng):
        for eighth in range(8):
            pos = eighth / 2
            on_beat = eighth % 2 == 0
            if not on_beat and rng.random() < state["skip"]:
                continue  # a dropped off-beat: the drummer's hand, not a machine
            if state["open"] and pos == 3.5 and bar % 2 == 1:
                kit.hit("hat_open", at + pos, _velocity(self.style, 0.55, rng))
                continue
            # Soft off-beats: at slow lo-fi tempos a loud swung off-beat is as strong as the
            # beat, and its short gap to the next beat reads as a faster tempo.
            base = 0.7 if on_beat else (0.35 if self.style == "lo-fi" else 0.45)
            kit.hit(
                "hat_closed", at + pos, _velocity(self.style, base, rng), _late(self.style, rng)
            )
        if self.style == "lo-fi" and rng.random() < 0.35:
            kit.hit("perc", at + 2.5, 0.3)  # a soft shaker/wood hit


class _FunkHats(_HatWriter):
    """Bouncy 16th hats: loud 8ths, soft 16ths, open hat on an off-beat."""

    def setup(self, rng: np.random.Generator) -> dict[str, Any]:
        return {"open_at": float(rng.choice([1.5, 3.5])), "perc": rng.random() < 0.5}

    def bar(self, kit, at, bar, state, opts, rng):
        for step in range(16):
            pos = step / 4
            if pos == state["open_at"]:
                kit.hit("hat_open", at + pos, 0.55)
                continue
            base = 0.75 if step % 4 == 0 else 0.6 if step % 2 == 0 else 0.38
            kit.hit("hat_closed", at + pos, base + float(rng.uniform(-0.05, 0.05)))
        if state["perc"]:
            for pos in (1.0, 3.0):
                kit.hit("perc", at + pos, 0.35)  # tambourine on the backbeat


_HATS: dict[str, _HatWriter] = {
    "trap": _TrapHats(),
    "drill": _DrillHats(),
    "boom-bap": _SwungHats("boom-bap"),
    "lo-fi": _SwungHats("lo-fi"),
    "g-funk": _FunkHats(),
}


# ---------------------------------------------------------------------------------------------
# Fills: the last bar of every four. They decorate beat 4 (or the last half of the bar) and
# leave the downbeat and the main backbeat alone.
# ---------------------------------------------------------------------------------------------


def _trap_fill(kit: _Kit, at: float, rng: np.random.Generator) -> None:
    if rng.random() < 0.5:
        # Snare roll into the next bar: 1/16s or 1/32s, rising.
        step = float(rng.choice([0.25, 0.125]))
        count = round(1.0 / step)
        for i in range(count):
            kit.hit("snare", at + 3.0 + i * step, 0.4 + 0.5 * i / count)
    else:
        # The drop: kicks out after beat 3, one open hat to breathe.
        kit.remove("kick", at + 2.25, at + 4.0)
        kit.hit("hat_open", at + 3.5, 0.65)


def _drill_fill(kit: _Kit, at: float, rng: np.random.Generator) -> None:
    for off in (3.0, 3.0 + 1 / 3, 3.0 + 2 / 3):
        if rng.random() < 0.7:
            kit.hit("snare", at + off, 0.55 + 0.2 * (off - 3.0))
    kit.hit("perc", at + 3.5, 0.45)


def _boom_bap_fill(kit: _Kit, at: float, rng: np.random.Generator) -> None:
    if rng.random() < 0.5:
        kit.hit("snare", at + 3.5, _velocity("boom-bap", 0.7, rng))
        kit.hit("snare", at + 3.75, _velocity("boom-bap", 0.8, rng))
    else:
        kit.hit("kick", at + 3.25, _velocity("boom-bap", 0.8, rng))
        kit.hit("kick", at + 3.5, _velocity("boom-bap", 0.75, rng))


def _lofi_fill(kit: _Kit, at: float, rng: np.random.Generator) -> None:
    kit.hit("rim", at + 3.5, _velocity("lo-fi", 0.5, rng), _late("lo-fi", rng))
    if rng.random() < 0.5:
        kit.hit("rim", at + 3.75, _velocity("lo-fi", 0.45, rng), _late("lo-fi", rng))


def _gfunk_fill(kit: _Kit, at: float, rng: np.random.Generator) -> None:
    for step in (13, 14, 15):
        if rng.random() < 0.75:
            kit.hit("snare", at + step / 4, 0.45 + 0.1 * (step - 13))
    kit.hit("clap", at + 3.75, 0.6)


_FILLS = {
    "trap": _trap_fill,
    "drill": _drill_fill,
    "boom-bap": _boom_bap_fill,
    "lo-fi": _lofi_fill,
    "g-funk": _gfunk_fill,
}
