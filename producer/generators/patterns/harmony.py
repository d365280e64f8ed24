"""Chord parts: pads, stabs and comping, voiced in C3–C6 with smooth voice leading.

    events = chord_part("lo-fi", chords, 8, rng)   # soft 7ths/9ths, lazily strummed

Each chord change picks, among the chord's voicings in range, the one nearest the previous
voicing (the smallest total movement of the voices), so the part glides between chords like
a keyboard player's hands instead of jumping in root position. What is played with that
voicing is the style's: a sustained pad (trap, drill), swung stabs (boom-bap), lazy strummed
7th/9th chords (lo-fi), funky off-beat 16th stabs (g-funk).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from producer.generators.events import NoteEvent
from producer.generators.theory import STYLE_SWING, Chord, fit_to_loop, swing_time

#: Default chord instrument per style.
DEFAULT_HARMONY = {
    "trap": "pad",
    "drill": "pad",
    "boom-bap": "keys",
    "lo-fi": "keys",
    "g-funk": "keys",
}

#: Comping rhythms: (start, length) in beats within one bar, per style; the rng picks one.
_COMPING = {
    "boom-bap": (
        ((0.0, 0.5), (1.5, 0.5), (2.5, 0.75)),
        ((0.0, 1.0), (2.5, 0.5), (3.5, 0.25)),
        ((0.0, 0.5), (0.75, 0.25), (2.0, 1.0)),
    ),
    "lo-fi": (
        ((0.0, 3.0),),
        ((0.0, 1.5), (2.5, 1.25)),
        ((0.0, 2.0), (3.5, 0.5)),
    ),
    "g-funk": (
        ((0.0, 0.25), (0.75, 0.25), (1.5, 0.25), (2.5, 0.5), (3.25, 0.25)),
        ((0.0, 0.5), (1.5, 0.25), (1.75, 0.25), (3.0, 0.25), (3.5, 0.25)),
        ((0.0, 1.5), (2.5, 0.25), (2.75, 0.5)),
    ),
}


@dataclass(frozen=True)
class HarmonyParams:
    """Knobs a plan's stem `params` may set for the chords; unknown keys are ignored."""

    low: int = 48  # lowest chord note (MIDI; 48 = C3)
    high: int = 84  # highest chord note (MIDI; 84 = C6)
    swing: float | None = None  # off-beat 8th position 0.5..0.7; None: the style's STYLE_SWING

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> HarmonyParams:
        """Read the known keys of a stem's `params`, checking their ranges."""
        params = params or {}
        out = cls(
            low=int(params.get("low", 48)),
            high=int(params.get("high", 84)),
            swing=None if params.get("swing") is None else float(params["swing"]),
        )
        if not (out.low >= 0 and out.high <= 127 and out.high - out.low >= 19):
            raise ValueError(
                f"harmony params 'low'..'high' = {out.low}..{out.high}: need 0 ≤ low, "
                "high ≤ 127 and at least 19 semitones between them"
            )
        if out.swing is not None and not 0.5 <= out.swing <= 0.7:
            raise ValueError(f"harmony param 'swing' = {out.swing} is outside [0.5, 0.7]")
        return out


def voice_lead(previous: list[int] | None, chord: Chord, low: int, high: int) -> list[int]:
    """The voicing of `chord` in [low, high] closest to `previous` (or centred, when None).

    Distance is the sum, over the new voices, of each one's distance to the nearest previous
    voice; ties go to the lower voicing. Voicings whose lowest note sits in the bottom fifth
    of the range are skipped: close chords that low turn to mud.
    """
    candidates = [v for v in chord.voicings(low, high) if v[0] >= low + 4] or chord.voicings(
        low, high
    )
    centre = (low + high) / 2 - 4  # a little below the middle: chords sit under the melody
    if previous is None:
        return min(candidates, key=lambda v: (abs(float(np.mean(v)) - centre), v[0]))

    def cost(voicing: list[int]) -> float:
        moves = sum(min(abs(p - q) for q in previous) for p in voicing)
        # A gentle pull to the centre keeps a long progression from creeping to the edge of
        # the range, where the next chord would have to leap back.
        return float(moves) + 0.25 * abs(float(np.mean(voicing)) - centre)

    return min(candidates, key=lambda v: (cost(v), v[0]))


def chord_part(
    style: str,
    chords: list[Chord],
    bars: int,
    rng: np.random.Generator,
    params: dict[str, Any] | None = None,
    instrument: str | None = None,
) -> list[NoteEvent]:
    """A `bars`-bar chord part over `chords` (one per bar), deterministic for `rng`'s state."""
    if style not in DEFAULT_HARMONY:
        raise ValueError(f"unknown style {style!r}: expected one of {', '.join(DEFAULT_HARMONY)}")
    if len(chords) < bars:
        raise ValueError(f"need a chord per bar: {len(chords)} chords for {bars} bars")
    opts = HarmonyParams.from_params(params)
    instrument = instrument or DEFAULT_HARMONY[style]
    swing = opts.swing if opts.swing is not None else STYLE_SWING[style]
    voicings: list[list[int]] = []
    for bar in range(bars):
        previous = voicings[-1] if voicings else None
        if previous is not None and chords[bar] == chords[bar - 1]:
            voicings.append(previous)
        else:
            voicings.append(voice_lead(previous, chords[bar], opts.low, opts.high))
    if style in ("trap", "drill"):
        events = _pads(chords, voicings, bars, instrument, rng)
    else:
        events = _comp(style, voicings, bars, instrument, swing, rng)
    return fit_to_loop(events, bars)


def _pads(
    chords: list[Chord],
    voicings: list[list[int]],
    bars: int,
    instrument: str,
    rng: np.random.Generator,
) -> list[NoteEvent]:
    """Sustained chords: held for the whole chord (or re-struck each bar), soft and wide."""
    per_bar = rng.random() < 0.4
    events = []
    bar = 0
    while bar < bars:
        run = 1
        while not per_bar and bar + run < bars and chords[bar + run] == chords[bar]:
            run += 1
        velocity = 0.5 + float(rng.uniform(-0.05, 0.05))
        for pitch in voicings[bar]:
            events.append(NoteEvent(4.0 * bar, 4.0 * run - 0.05, pitch, velocity, instrument))
        bar += run
    return events


def _comp(
    style: str,
    voicings: list[list[int]],
    bars: int,
    instrument: str,
    swing: float,
    rng: np.random.Generator,
) -> list[NoteEvent]:
    """Rhythmic chords: a comping figure per bar (two figures alternating), swung."""
    figures = _COMPING[style]
    a, b = (figures[int(i)] for i in rng.choice(len(figures), size=2, replace=False))
    base = {"boom-bap": 0.6, "lo-fi": 0.38, "g-funk": 0.55}[style]
    strum = 0.03 if style == "lo-fi" else 0.0  # lazy upward strum between chord notes, beats
    events = []
    for bar in range(bars):
        figure = a if bar % 2 == 0 else b
        for start, length in figure:
            onset = 4.0 * bar + swing_time(start, swing)
            if style == "lo-fi":
                onset += float(rng.uniform(0.0, 0.03))  # behind the beat
            accent = 1.0 if start == 0.0 else 0.85
            for j, pitch in enumerate(voicings[bar]):
                delay = j * strum * float(rng.uniform(0.7, 1.3))
                velocity = accent * (base + float(rng.uniform(-0.06, 0.06)))
                events.append(
                    NoteEvent(onset + delay, max(0.1, length - delay), pitch, velocity, instrument)
                )
    return events
