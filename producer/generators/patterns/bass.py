"""Basslines and 808s that follow the chord roots, locked to a kick-like rhythm.

    chords = progression("drill", "F", "minor", 8, rng)
    events = bassline("drill", chords, 8, rng, {"glide": 0.7}, instrument="808")

Every bar starts with the chord's root on the downbeat; the other hits (a kick-like 16th
rhythm per style, or the drum pattern's own kicks when `params["kicks"]` lists them) move
between root, octave, fifth and, for the melodic styles, third and diatonic approach notes.
Pitches stay in E1–E3 (MIDI 28–52) and in the key's natural scale: chord tones of diatonic
chords are diatonic, and approach notes are scale steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from producer.generators.events import NoteEvent
from producer.generators.theory import STYLE_SWING, Chord, fit_to_loop, swing_time

#: Lowest and highest bass pitch (E1, E3).
BASS_LOW, BASS_HIGH = 28, 52

#: Default bass instrument per style.
DEFAULT_BASS = {
    "trap": "808",
    "drill": "808",
    "boom-bap": "bass",
    "lo-fi": "bass",
    "g-funk": "bass",
}

#: Lowest pitch of the window the chord root is placed in, per instrument: an 808 sits a few
#: semitones lower (F1–E2) than a bass guitar/synth (A1–G#2). Windows are one octave wide so a
#: root has exactly one place, and moving between chords never leaps more than a sixth.
_ROOT_WINDOW = {"808": 29}
_DEFAULT_ROOT_WINDOW = 33

#: Rhythm templates: 16th-grid steps of the bass hits in one bar (step 0 always present).
_RHYTHMS = {
    "trap": ((0, 10), (0, 6, 10), (0, 3, 10, 14), (0, 7, 10, 11), (0, 12), (0, 11, 14)),
    "drill": ((0, 6, 11), (0, 3, 10), (0, 10, 14), (0, 6, 10, 13), (0, 3, 11, 14)),
    "boom-bap": ((0, 6, 10), (0, 7, 10), (0, 3, 8, 10), (0, 8, 14), (0, 6, 10, 14)),
    "lo-fi": ((0, 8), (0, 6, 10), (0, 10, 14), (0, 8, 12)),
    "g-funk": (
        (0, 3, 6, 8, 10, 11, 14),
        (0, 2, 3, 6, 10, 12, 14, 15),
        (0, 3, 4, 7, 10, 11, 14),
        (0, 3, 6, 7, 10, 13, 14),
    ),
}

#: Weights of the note choices after the downbeat: root, octave, fifth, third.
_MOVES = ("root", "octave", "fifth", "third")
_MOVE_WEIGHTS = {
    "trap": (0.45, 0.2, 0.35, 0.0),
    "drill": (0.4, 0.2, 0.3, 0.1),
    "boom-bap": (0.4, 0.1, 0.3, 0.2),
    "lo-fi": (0.4, 0.1, 0.3, 0.2),
    "g-funk": (0.3, 0.4, 0.2, 0.1),
}

#: Probability that the last hit before a chord change is a diatonic approach note.
_APPROACH = {"trap": 0.0, "drill": 0.1, "boom-bap": 0.45, "lo-fi": 0.5, "g-funk": 0.5}

#: How strongly each style slides: the glide probability is `params["glide"]` × this.
_GLIDE_FACTOR = {"trap": 0.6, "drill": 1.0, "boom-bap": 0.1, "lo-fi": 0.1, "g-funk": 0.3}


@dataclass(frozen=True)
class BassParams:
    """Knobs a plan's stem `params` may set for the bass; unknown keys are ignored."""

    glide: float = 0.5  # 0..1, scales how often notes slide (808 glides); drill slides most
    swing: float | None = None  # off-beat 8th position 0.5..0.7; None: the style's STYLE_SWING
    kicks: tuple[float, ...] | None = None  # kick onsets (beats) to lock to; None: own rhythm

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> BassParams:
        """Read the known keys of a stem's `params`, checking their ranges."""
        params = params or {}
        kicks = params.get("kicks")
        out = cls(
            glide=float(params.get("glide", 0.5)),
            swing=None if params.get("swing") is None else float(params["swing"]),
            kicks=None if kicks is None else tuple(sorted(float(k) for k in kicks)),
        )
        if not 0.0 <= out.glide <= 1.0:
            raise ValueError(f"bass param 'glide' = {out.glide} is outside [0, 1]")
        if out.swing is not None and not 0.5 <= out.swing <= 0.7:
            raise ValueError(f"bass param 'swing' = {out.swing} is outside [0.5, 0.7]")
        return out


def bass_root(chord: Chord, instrument: str) -> int:
    """MIDI pitch of the chord's root in the instrument's one-octave root window."""
    low = _ROOT_WINDOW.get(instrument, _DEFAULT_ROOT_WINDOW)
    return low + (chord.root - low) % 12


def bassline(
    style: str,
    chords: list[Chord],
    bars: int,
    rng: np.random.Generator,
    params: dict[str, Any] | None = None,
    instrument: str | None = None,
) -> list[NoteEvent]:
    """A `bars`-bar bassline over `chords` (one per bar), deterministic for `rng`'s state.

    `instrument` defaults to the style's (`DEFAULT_BASS`). An "808" sustains each note into the
    next and slides (`glide_to`) with a probability of `params["glide"]` scaled by the style.
    """
    if style not in _RHYTHMS:
        raise ValueError(f"unknown style {style!r}: expected one of {', '.join(_RHYTHMS)}")
    if len(chords) < bars:
        raise ValueError(f"need a chord per bar: {len(chords)} chords for {bars} bars")
    opts = BassParams.from_params(params)
    instrument = instrument or DEFAULT_BASS[style]
    swing = opts.swing if opts.swing is not None else STYLE_SWING[style]
    onsets = _onsets(style, bars, opts, swing, rng)
    pitches = _pitches(style, chords, onsets, instrument, rng)
    events = _articulate(style, instrument, onsets, pitches, bars, rng)
    events = _glides(style, events, min(1.0, opts.glide * _GLIDE_FACTOR[style]), rng)
    return fit_to_loop(events, bars)


def _onsets(
    style: str, bars: int, opts: BassParams, swing: float, rng: np.random.Generator
) -> list[float]:
    """Hit times in beats: the kicks given, or two rhythm templates alternating by bar."""
    total = 4.0 * bars
    if opts.kicks is not None:
        hits = {k for k in opts.kicks if 0.0 <= k < total}
        hits |= {4.0 * b for b in range(bars)}  # the root always lands on the downbeat
        return sorted(hits)
    rhythms = _RHYTHMS[style]
    a, b = (rhythms[int(i)] for i in rng.choice(len(rhythms), size=2, replace=False))
    hits = []
    for bar in range(bars):
        steps = a if bar % 2 == 0 else b
        hits += [4.0 * bar + swing_time(s / 4, swing) for s in steps]
    return hits


def _pitches(
    style: str, chords: list[Chord], onsets: list[float], instrument: str, rng: np.random.Generator
) -> list[int]:
    weights = np.array(_MOVE_WEIGHTS[style])
    pitches = []
    for i, start in enumerate(onsets):
        bar = int(start // 4)
        chord = chords[bar]
        root = bass_root(chord, instrument)
        nxt = onsets[i + 1] if i + 1 < len(onsets) else None
        next_bar = int(nxt // 4) if nxt is not None else None
        if start % 4.0 < 1e-6:
            pitches.append(root)  # the chord's root on its downbeat, always
            continue
        changing = next_bar is not None and next_bar != bar and chords[next_bar] != chord
        if changing and rng.random() < _APPROACH[style]:
            pitches.append(_approach(bass_root(chords[next_bar], instrument), chord, rng))
            continue
        move = _MOVES[int(rng.choice(len(_MOVES), p=weights / weights.sum()))]
        pitches.append(_move(move, root, chord))
    return pitches


def _move(move: str, root: int, chord: Chord) -> int:
    if move == "octave":
        return root + 12 if root + 12 <= BASS_HIGH else root - 12
    if move == "fifth":
        fifth = root + (chord.fifth - chord.root) % 12
        return fifth if fifth <= BASS_HIGH else fifth - 12
    if move == "third":
        return root + (chord.pitch_classes[1] - chord.root) % 12
    return root


def _approach(target: int, chord: Chord, rng: np.random.Generator) -> int:
    """The scale step just above or below the next root: a diatonic lead-in."""
    steps = [p for p in range(target - 2, target + 3) if p != target and p % 12 in chord.scale]
    steps = [p for p in steps if BASS_LOW <= p <= BASS_HIGH] or [target]
    return int(steps[int(rng.integers(len(steps)))])


def _articulate(
    style: str,
    instrument: str,
    onsets: list[float],
    pitches: list[int],
    bars: int,
    rng: np.random.Generator,
) -> list[NoteEvent]:
    """Durations and velocities: 808s ring into the next hit; basses are plucked shorter."""
    total = 4.0 * bars
    soft = 0.8 if style == "lo-fi" else 1.0
    events = []
    for i, (start, pitch) in enumerate(zip(onsets, pitches, strict=True)):
        gap = (onsets[i + 1] if i + 1 < len(onsets) else total) - start
        if instrument == "808":
            duration = gap
        elif style == "g-funk":
            duration = min(gap * 0.7, 0.2 if pitch > pitches[0] + 6 else 0.45)
        elif style == "lo-fi":
            duration = min(gap * 0.95, 2.0)
        else:
            duration = min(gap * 0.9, 1.0)
        base = 0.95 if start % 4.0 < 1e-6 else 0.8
        velocity = soft * (base + float(rng.uniform(-0.06, 0.04)))
        events.append(NoteEvent(start, duration, pitch, velocity, instrument))
    return events


def _glides(
    style: str, events: list[NoteEvent], chance: float, rng: np.random.Generator
) -> list[NoteEvent]:
    """Slide some notes into the next note's pitch (drill also slides up or down an octave)."""
    out = []
    for i, ev in enumerate(events):
        target = None
        if i + 1 < len(events) and chance > 0 and rng.random() < chance:
            nxt = events[i + 1].pitch
            if nxt != ev.pitch:
                target = nxt
            elif style == "drill":
                up = ev.pitch + 12
                target = up if up <= BASS_HIGH else ev.pitch - 12
        if target is not None:
            # A slide sounds only if the note rings until the next one starts.
            gap = events[i + 1].start - ev.start
            ev = NoteEvent(ev.start, gap, ev.pitch, ev.velocity, ev.instrument, target)
        out.append(ev)
    return out
