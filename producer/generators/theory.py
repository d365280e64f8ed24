"""Music theory for the pattern generators: keys, scales, diatonic chords and progressions.

Everything here is a pure function of its arguments (and of the `np.random.Generator` where one
is taken), in pitch classes (0 = C … 11 = B) and MIDI note numbers (60 = C4).

    >>> scale("F#", "minor")
    (6, 8, 9, 11, 1, 2, 4)
    >>> [c.name for c in progression("trap", "F", "minor", 4, np.random.default_rng(0))]
    ['Fm', ...]

Chords are built by stacking thirds *inside the key's natural scale*, so every chord tone of
every progression is diatonic: a bassline that plays chord roots and fifths, or a pad that plays
the whole chord, can never leave the key. Minor keys use the natural minor scale throughout (the
dominant is a minor v, not a major V) because the tests, and a listener's key-finder, expect
every bass note inside the key's scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from producer.generators.events import NoteEvent

#: Pitch-class names, written with sharps as in `producer.plan.KEYS`.
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

#: Semitones above the tonic of each scale degree.
MODE_INTERVALS = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),  # natural minor (aeolian)
}

#: Chord quality from the intervals (semitones above the root) of its stacked thirds.
_QUALITIES = {
    (4, 7): "maj",
    (3, 7): "min",
    (3, 6): "dim",
    (4, 7, 11): "maj7",
    (4, 7, 10): "7",
    (3, 7, 10): "min7",
    (3, 6, 10): "min7b5",
    (4, 7, 11, 14): "maj9",
    (4, 7, 10, 14): "9",
    (3, 7, 10, 14): "min9",
}

#: Chord-name suffix per quality ("Fm7", "Abmaj9").
_SUFFIX = {
    "maj": "",
    "min": "m",
    "dim": "dim",
    "maj7": "maj7",
    "7": "7",
    "min7": "m7",
    "min7b5": "m7b5",
    "maj9": "maj9",
    "9": "9",
    "min9": "m9",
}

_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii")
_ROMAN_SUFFIX = {
    "maj": "",
    "min": "",
    "dim": "°",
    "maj7": "maj7",
    "7": "7",
    "min7": "7",
    "min7b5": "ø7",
    "maj9": "maj9",
    "9": "9",
    "min9": "9",
}


def key_pc(key: str) -> int:
    """Pitch class of a key name written with sharps: `key_pc("F#") == 6`."""
    try:
        return PITCH_CLASSES.index(key)
    except ValueError:
        raise ValueError(
            f"unknown key {key!r}: expected one of {', '.join(PITCH_CLASSES)}"
        ) from None


def _intervals(mode: str) -> tuple[int, ...]:
    try:
        return MODE_INTERVALS[mode]
    except KeyError:
        raise ValueError(f"unknown mode {mode!r}: expected 'major' or 'minor'") from None


def scale(key: str, mode: str) -> tuple[int, ...]:
    """The key's scale as pitch classes, tonic first (natural minor for `minor`)."""
    tonic = key_pc(key)
    return tuple((tonic + step) % 12 for step in _intervals(mode))


def in_scale(pitch: int, key: str, mode: str) -> bool:
    """Whether a MIDI pitch (or a pitch class) belongs to the key's scale."""
    return pitch % 12 in scale(key, mode)


def midi_note(pc: int, octave: int) -> int:
    """MIDI number of pitch class `pc` in scientific `octave` (C4 = 60, E1 = 28)."""
    return 12 * (octave + 1) + pc % 12


def scale_pitches(key: str, mode: str, low: int, high: int) -> list[int]:
    """Every MIDI pitch of the key's scale in [low, high], ascending."""
    pcs = set(scale(key, mode))
    return [p for p in range(low, high + 1) if p % 12 in pcs]


@dataclass(frozen=True)
class Chord:
    """A diatonic chord of a key: its root, scale degree, quality and pitch classes."""

    root: int  # pitch class of the root (0 = C)
    degree: int  # scale degree of the root, 0-based (0 = tonic chord)
    quality: str  # "maj", "min", "dim", "maj7", "7", "min7", "min7b5", "maj9", "9", "min9"
    pitch_classes: tuple[int, ...]  # chord tones as pitch classes: root, third, fifth[, 7th, 9th]
    key: str = "C"  # the key it belongs to (so parts can add diatonic passing notes)
    mode: str = "minor"  # the key's mode

    @property
    def name(self) -> str:
        """Lead-sheet name with sharps: "F#m7"."""
        return PITCH_CLASSES[self.root] + _SUFFIX[self.quality]

    @property
    def roman(self) -> str:
        """Roman numeral in the key: "i", "VI", "iv7" (upper case for major-third chords)."""
        numeral = _ROMAN[self.degree]
        third = (self.pitch_classes[1] - self.root) % 12
        numeral = numeral.upper() if third == 4 else numeral
        return numeral + _ROMAN_SUFFIX[self.quality]

    @property
    def fifth(self) -> int:
        """Pitch class of the chord's fifth."""
        return self.pitch_classes[2]

    @property
    def triad(self) -> tuple[int, int, int]:
        """Root, third and fifth pitch classes."""
        return self.pitch_classes[0], self.pitch_classes[1], self.pitch_classes[2]

    @property
    def scale(self) -> tuple[int, ...]:
        """The key's scale (pitch classes), for diatonic passing and neighbour notes."""
        return scale(self.key, self.mode)

    def voicing(self, low: int = 48, high: int = 84, inversion: int = 0) -> list[int]:
        """Close-position MIDI notes of the chord within [low, high], ascending.

        The `inversion`-th chord tone is the bass, at the first such pitch ≥ `low`; every other
        tone sits in the octave above it (a ninth becomes a second: the close cluster of a
        keyboard voicing). Tones that would pass `high` drop an octave rather than being lost,
        so every chord tone sounds exactly once.
        """
        if high - low < 12:
            raise ValueError(f"voicing range [{low}, {high}] is narrower than an octave")
        bass_pc = self.pitch_classes[inversion]
        bass = low + (bass_pc - low) % 12
        notes = [bass + (pc - bass_pc) % 12 for pc in self.pitch_classes]
        return sorted(p - 12 if p > high else p for p in notes)

    def voicings(self, low: int = 48, high: int = 84) -> list[list[int]]:
        """Every inversion's close voicing in [low, high], in each octave that fits."""
        found: list[list[int]] = []
        for inversion in range(len(self.pitch_classes)):
            base = self.voicing(low, high, inversion)
            for shift in range(0, high - low + 1, 12):
                shifted = [p + shift for p in base]
                if shifted[-1] <= high and shifted not in found:
                    found.append(shifted)
        return found


def diatonic_chord(key: str, mode: str, degree: int, size: int = 3) -> Chord:
    """The chord on `degree` (0-based) of the key, `size` stacked diatonic thirds (3, 4 or 5).

    A ninth is only stacked where it is a major ninth; a diatonic minor ninth (iii in major,
    ii and v in minor) would clash, so those chords stop at the seventh.
    """
    if size not in (3, 4, 5):
        raise ValueError(f"chord size must be 3, 4 or 5 notes, got {size}")
    pcs = scale(key, mode)
    steps = [pcs[(degree + 2 * i) % 7] for i in range(size)]
    root = steps[0]
    # Semitones above the root; the ninth sits an octave above the second.
    intervals = [(pc - root) % 12 for pc in steps[1:]]
    if size == 5:
        intervals[3] += 12
        if intervals[3] != 14:
            steps, intervals = steps[:4], intervals[:3]
    quality = _QUALITIES[tuple(intervals)]
    return Chord(root, degree, quality, tuple(steps), key, mode)


# ---------------------------------------------------------------------------------------------
# Progression tables.
#
# Each entry is a sequence of 0-based scale degrees, one per chord. Every table starts on the
# tonic (degree 0): a loop that begins on i/I, and a bass that lands on the tonic in bar 1, is
# what makes the key unmistakable, for a listener and for a Krumhansl–Schmuckler key-finder,
# which otherwise mistakes a minor key for its relative major when III and VII dominate.
# ---------------------------------------------------------------------------------------------

_MINOR_COMMON = ((0, 3, 5, 4), (0, 5, 3, 4), (0, 3, 0, 5), (0, 5, 6, 0))
_MAJOR_COMMON = ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 4, 3), (0, 3, 0, 4))

PROGRESSIONS: dict[tuple[str, str], tuple[tuple[int, ...], ...]] = {
    # Trap: dark two- and four-chord minor loops (i–VI, i–VI–III–VII, i–iv–VI–v).
    ("trap", "minor"): ((0, 5), (0, 5, 2, 6), (0, 3, 5, 4), (0, 5, 0, 3), (0, 0, 5, 6)),
    ("trap", "major"): ((0, 5, 3, 4), (0, 4, 5, 3), (0, 3), (0, 0, 5, 4)),
    # Drill: i–VI–iv and its cousins; the minor sixth degree is the sound of the style.
    ("drill", "minor"): ((0, 5, 3), (0, 5, 3, 4), (0, 3, 5, 0), (0, 5, 0, 3)),
    ("drill", "major"): ((0, 4, 3), (0, 3, 5, 4), (0, 5, 3, 4)),
    # Boom-bap: soul-sample loops.
    ("boom-bap", "minor"): (*_MINOR_COMMON, (0, 3)),
    ("boom-bap", "major"): (*_MAJOR_COMMON, (0, 3, 1, 4)),
    # Lo-fi: jazzy ii–V motion, starting on the tonic (I–ii–V–I, I–IV–iii–ii, i–iv–v–i …).
    ("lo-fi", "minor"): ((0, 3, 4, 0), (0, 5, 3, 4), (0, 3, 0, 5), (0, 5, 1, 4)),
    ("lo-fi", "major"): ((0, 3, 1, 4), (0, 1, 4, 0), (0, 3, 2, 1), (0, 5, 3, 4)),
    # G-funk: two-chord 7th/9th vamps (i7–iv7) and turnarounds.
    ("g-funk", "minor"): ((0, 3), (0, 3, 0, 6), (0, 5, 6, 0), (0, 3, 6, 0)),
    ("g-funk", "major"): ((0, 3), (0, 1, 0, 3), (0, 5, 1, 4), (0, 3, 1, 4)),
}

#: Chord size (3 = triads, 4 = sevenths, 5 = ninths) choices per style.
CHORD_SIZES = {
    "trap": (3,),
    "drill": (3,),
    "boom-bap": (3, 4),
    "lo-fi": (4, 5),
    "g-funk": (4, 5),
}


def _table(style: str, mode: str) -> tuple[tuple[int, ...], ...]:
    try:
        return PROGRESSIONS[(style, mode)]
    except KeyError:
        styles = sorted({s for s, _ in PROGRESSIONS})
        raise ValueError(
            f"no progressions for style {style!r} in mode {mode!r}: styles are {', '.join(styles)}"
        ) from None


def progression(
    style: str, key: str, mode: str, bars: int, rng: np.random.Generator
) -> list[Chord]:
    """The chord of every bar: `result[b]` plays in bar `b` (a chord held 2 bars appears twice).

    A progression is drawn from the style's table for the mode; four-chord loops take one bar
    per chord, two- and three-chord loops take two bars per chord when the pattern is long
    enough. The loop repeats to fill `bars`; it starts on the tonic, and the last bar of every
    8-bar phrase (and of a pattern of 3+ bars that stops mid-loop) is the tonic chord again.
    """
    if bars < 1:
        raise ValueError(f"bars must be ≥ 1, got {bars}")
    table = _table(style, mode)
    degrees = table[int(rng.integers(len(table)))]
    size = int(rng.choice(CHORD_SIZES[style]))
    bars_per_chord = 2 if len(degrees) < 4 and bars >= 2 * len(degrees) else 1
    # Ninths only where they confirm the key: on iv/IV the ninth is the key's fifth, on a
    # minor i it is the colour of lo-fi's m9. Ninths on every chord pile up the key's second
    # and sixth degrees (ii9, V9, Imaj9 add them) until a listener hears the dominant's key.
    ninths = (3, 0) if mode == "minor" else (3,)
    chords = [diatonic_chord(key, mode, d, size if d in ninths else min(size, 4)) for d in degrees]
    tonic = chords[0]
    out = [chords[(bar // bars_per_chord) % len(chords)] for bar in range(bars)]
    # Each 8-bar phrase resolves: its last bar returns to the tonic, so the tonic opens and
    # closes the phrase (a loop of i–VI–III–VII alone is as much III's key as i's). So does
    # the pattern's last bar when it would otherwise stop in the middle of the loop.
    for bar in range(7, bars, 8):
        out[bar] = tonic
    if bars >= 3 and bars % (len(degrees) * bars_per_chord):
        out[-1] = tonic
    return out


# ---------------------------------------------------------------------------------------------
# The rhythmic grid, shared by every part so drums, bass and chords swing together.
# ---------------------------------------------------------------------------------------------


#: 8th-note swing per style (where the off-beat 8th lands inside its beat). One value per style,
#: shared by drums, bass and chords so that every part of a beat swings by the same amount; a
#: stem's `params["swing"]` overrides it. Trap and drill are straight (their lilt is triplets).
STYLE_SWING = {"trap": 0.5, "drill": 0.5, "boom-bap": 0.58, "lo-fi": 0.61, "g-funk": 0.54}


def swing_time(beat: float, amount: float) -> float:
    """Move a straight grid position to its swung place: 8th-note swing of `amount`.

    `amount` is where the off-beat 8th lands inside its beat: 0.5 is straight, 0.58 a light
    MPC swing, 0.667 full triplet swing. The beat is warped piecewise-linearly, so 16ths move
    proportionally (the "e" to amount/2, the "a" to (1 + amount)/2) and downbeats never move.
    """
    if not 0.5 <= amount < 1.0:
        raise ValueError(f"swing amount must be in [0.5, 1.0), got {amount}")
    whole = float(np.floor(beat))
    frac = beat - whole
    if frac <= 0.5:
        return whole + frac * 2.0 * amount
    return whole + amount + (frac - 0.5) * 2.0 * (1.0 - amount)


def fit_to_loop(events: list[NoteEvent], bars: int) -> list[NoteEvent]:
    """Events that start inside the loop, trimmed to end by its last beat, sorted by time.

    A pattern of `bars` bars spans exactly `4 * bars` beats; nothing may ring past the loop
    point, or the stem would not loop cleanly.
    """
    total = 4.0 * bars
    kept = []
    for ev in events:
        if not 0.0 <= ev.start < total:
            continue
        duration = min(ev.duration, total - ev.start)
        velocity = float(min(1.0, max(0.01, ev.velocity)))
        if duration != ev.duration or velocity != ev.velocity:
            ev = NoteEvent(ev.start, duration, ev.pitch, velocity, ev.instrument, ev.glide_to)
        kept.append(ev)
    return sorted(kept, key=lambda e: (e.start, e.instrument, e.pitch))
