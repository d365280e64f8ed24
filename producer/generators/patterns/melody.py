"""Melodies: a one- or two-bar motif, repeated over the progression with variation.

    events = melody("trap", "F", "minor", chords, 8, rng)   # a bell motif in F minor

A motif is a rhythm (onsets on the style's grid, denser on strong beats) and a contour (scale
steps between consecutive notes). Each repetition replays the rhythm and the contour from a
new anchor, and notes on beats 1 and 3 snap to the nearest tone of the chord underneath, so
the motif follows the harmony the way a sequence does; later repetitions vary a few steps of
the motif's second half. The melody starts on the tonic and ends on a tonic-chord tone or the
tonic itself. All pitches are in the key's scale and in C4–C6.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from producer.generators.events import NoteEvent
from producer.generators.theory import (
    STYLE_SWING,
    Chord,
    fit_to_loop,
    key_pc,
    scale_pitches,
    swing_time,
)

#: Default melody instrument per style.
DEFAULT_MELODY = {
    "trap": "bell",
    "drill": "pluck",
    "boom-bap": "keys",
    "lo-fi": "pluck",
    "g-funk": "lead",
}


@dataclass(frozen=True)
class _Feel:
    """How a style's melodies move in time."""

    grid: float  # onset grid in beats (0.25 = 16ths)
    chances: tuple[float, float, float, float]  # onset probability: beats 1/3, 2/4, 8ths, 16ths
    legato: float  # fraction of the gap to the next note that a note sounds
    home: int  # MIDI pitch the tonic is placed nearest to at the start
    longest: float  # longest note in beats (a whiny lead holds; a pluck never rings long)


_FEELS = {
    "trap": _Feel(0.25, (0.95, 0.6, 0.45, 0.2), 0.9, 72, 2.0),
    "drill": _Feel(0.25, (0.9, 0.55, 0.45, 0.3), 0.7, 70, 1.5),
    "boom-bap": _Feel(0.5, (0.9, 0.6, 0.4, 0.0), 0.85, 70, 2.0),
    "lo-fi": _Feel(0.5, (0.85, 0.45, 0.3, 0.0), 0.95, 70, 2.0),
    "g-funk": _Feel(0.5, (0.95, 0.55, 0.3, 0.0), 0.95, 76, 3.5),
}

#: Scale-step moves of the contour and their weights: mostly steps, some leaps, few repeats.
_STEPS = np.array([-4, -3, -2, -1, 0, 1, 2, 3, 4])
_STEP_WEIGHTS = np.array([0.03, 0.06, 0.14, 0.24, 0.1, 0.24, 0.12, 0.05, 0.02])


@dataclass(frozen=True)
class MelodyParams:
    """Knobs a plan's stem `params` may set for the melody; unknown keys are ignored."""

    low: int = 60  # lowest melody note (MIDI; 60 = C4)
    high: int = 84  # highest melody note (MIDI; 84 = C6)
    density: float = 1.0  # scales the onset probabilities (0.5 sparser, 1.5 busier)
    motif_bars: int | None = None  # 1 or 2; None: drawn by the rng
    glide: float = 0.3  # 0..1, how often a "lead" slides into its next note (portamento)
    swing: float | None = None  # off-beat 8th position 0.5..0.7; None: the style's STYLE_SWING

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> MelodyParams:
        """Read the known keys of a stem's `params`, checking their ranges."""
        params = params or {}
        motif = params.get("motif_bars")
        out = cls(
            low=int(params.get("low", 60)),
            high=int(params.get("high", 84)),
            density=float(params.get("density", 1.0)),
            motif_bars=None if motif is None else int(motif),
            glide=float(params.get("glide", 0.3)),
            swing=None if params.get("swing") is None else float(params["swing"]),
        )
        if not (out.low >= 0 and out.high <= 127 and out.high - out.low >= 12):
            raise ValueError(
                f"melody params 'low'..'high' = {out.low}..{out.high}: need 0 ≤ low, "
                "high ≤ 127 and at least an octave between them"
            )
        if not 0.1 <= out.density <= 2.0:
            raise ValueError(f"melody param 'density' = {out.density} is outside [0.1, 2]")
        if out.motif_bars not in (None, 1, 2):
            raise ValueError(f"melody param 'motif_bars' = {out.motif_bars}: expected 1 or 2")
        if not 0.0 <= out.glide <= 1.0:
            raise ValueError(f"melody param 'glide' = {out.glide} is outside [0, 1]")
        if out.swing is not None and not 0.5 <= out.swing <= 0.7:
            raise ValueError(f"melody param 'swing' = {out.swing} is outside [0.5, 0.7]")
        return out


def melody(
    style: str,
    key: str,
    mode: str,
    chords: list[Chord],
    bars: int,
    rng: np.random.Generator,
    params: dict[str, Any] | None = None,
    instrument: str | None = None,
) -> list[NoteEvent]:
    """A `bars`-bar melody in `key`/`mode` over `chords`, deterministic for `rng`'s state."""
    if style not in _FEELS:
        raise ValueError(f"unknown style {style!r}: expected one of {', '.join(_FEELS)}")
    if len(chords) < bars:
        raise ValueError(f"need a chord per bar: {len(chords)} chords for {bars} bars")
    opts = MelodyParams.from_params(params)
    instrument = instrument or DEFAULT_MELODY[style]
    feel = _FEELS[style]
    swing = opts.swing if opts.swing is not None else STYLE_SWING[style]
    motif_bars = opts.motif_bars or (2 if bars >= 2 and rng.random() < 0.6 else 1)
    motif_bars = min(motif_bars, bars)
    onsets = _rhythm(feel, motif_bars, opts.density, rng)
    contour = [int(s) for s in rng.choice(_STEPS, size=len(onsets), p=_STEP_WEIGHTS)]

    scale_notes = scale_pitches(key, mode, opts.low, opts.high)
    tonic = key_pc(key)
    pull = {tonic: 2.5, (tonic + 7) % 12: 1.0}
    centre = min(feel.home, opts.high - 5)
    start_index = min(
        (i for i, p in enumerate(scale_notes) if p % 12 == tonic),
        key=lambda i: abs(scale_notes[i] - centre),
    )
    notes: list[tuple[float, int]] = []  # (start beat on the straight grid, scale index)
    anchor = start_index
    repeats = -(-bars // motif_bars)
    for rep in range(repeats):
        at = 4.0 * motif_bars * rep
        steps = list(contour)
        if rep % 2 == 1:  # answer phrase: vary the motif's second half
            for i in range(len(steps) // 2, len(steps)):
                if rng.random() < 0.35:
                    steps[i] += int(rng.choice([-1, 1]))
        index = anchor
        begin = len(notes)
        for i, onset in enumerate(onsets):
            beat = at + onset
            if beat >= 4.0 * bars:
                break
            chord = chords[int(beat // 4)]
            if i > 0:
                index = _bounce(index + steps[i], len(scale_notes))
            if i == 0 or onset % 2.0 == 0.0:
                index = _snap(index, chord, scale_notes, pull)
            notes.append((beat, index))
        # The next repetition starts from the chord tone nearest this one's first note.
        anchor = notes[begin][1]
    # End on the tonic if the last chord holds it, else on the nearest tone of that chord.
    last_beat, last_index = notes[-1]
    notes[-1] = (
        last_beat,
        _snap(last_index, chords[int(last_beat // 4)], scale_notes, pull, tonic),
    )
    return _perform(style, feel, opts, notes, scale_notes, bars, swing, instrument, rng)


def _rhythm(feel: _Feel, motif_bars: int, density: float, rng: np.random.Generator) -> list[float]:
    """Onsets (beats) of one motif: always the downbeat, then by metric weight."""
    onsets = []
    for k in range(round(4 * motif_bars / feel.grid)):
        pos = k * feel.grid
        if pos % 2.0 == 0.0:
            chance = feel.chances[0]
        elif pos % 1.0 == 0.0:
            chance = feel.chances[1]
        elif pos % 0.5 == 0.0:
            chance = feel.chances[2]
        else:
            chance = feel.chances[3]
        if pos == 0.0 or rng.random() < min(1.0, chance * density):
            onsets.append(pos)
    # A motif of a single note does not sound composed: add the third beat.
    if len(onsets) < 2 * motif_bars:
        onsets = sorted({*onsets, *(2.0 + 4.0 * b for b in range(motif_bars))})
    return onsets


def _bounce(index: int, size: int) -> int:
    """Keep a scale index in range by reflecting off the ends (the contour turns around)."""
    while not 0 <= index < size:
        index = -index if index < 0 else 2 * (size - 1) - index
    return index


def _snap(
    index: int, chord: Chord, notes: list[int], pull: dict[int, float], prefer: int | None = None
) -> int:
    """The nearest scale index that is a chord tone (the `prefer` pitch class, if it is one).

    `pull` makes some pitch classes nearer than they are (in scale steps): the key's tonic and
    fifth, so strong beats gravitate to them whenever the chord holds them. A melody that
    keeps landing on the tonic is what tells the ear (and a key-finder) which of a chord
    loop's possible keys it is in; i–VI–III–VII is also III's vi–IV–I–V.
    """
    tones = [i for i, p in enumerate(notes) if p % 12 in chord.pitch_classes]
    if prefer is not None and prefer in chord.pitch_classes:
        tones = [i for i in tones if notes[i] % 12 == prefer] or tones
    return min(tones, key=lambda i: (abs(i - index) - pull.get(notes[i] % 12, 0.0), i))


def _perform(
    style: str,
    feel: _Feel,
    opts: MelodyParams,
    notes: list[tuple[float, int]],
    scale_notes: list[int],
    bars: int,
    swing: float,
    instrument: str,
    rng: np.random.Generator,
) -> list[NoteEvent]:
    """Timing, length, velocity and (for a lead) portamento of the chosen notes."""
    total = 4.0 * bars
    soft = 0.75 if style == "lo-fi" else 1.0
    glide = opts.glide if instrument == "lead" else 0.0
    starts = [swing_time(b, swing) for b, _ in notes]
    if style == "lo-fi":
        starts = [s + float(rng.uniform(0.0, 0.03)) for s in starts]
    events = []
    for i, (start, (beat, index)) in enumerate(zip(starts, notes, strict=True)):
        nxt = starts[i + 1] if i + 1 < len(starts) else total
        gap = nxt - start
        duration = max(0.1, min(feel.longest, gap * feel.legato))
        strong = beat % 2.0 == 0.0
        velocity = soft * ((0.85 if strong else 0.68) + float(rng.uniform(-0.06, 0.06)))
        pitch = scale_notes[index]
        target = None
        if i + 1 < len(notes) and glide > 0 and rng.random() < glide:
            nxt_pitch = scale_notes[notes[i + 1][1]]
            if nxt_pitch != pitch:
                target, duration = nxt_pitch, gap  # slide all the way into the next note
        events.append(NoteEvent(start, duration, pitch, velocity, instrument, target))
    return fit_to_loop(events, bars)
