"""Note and hit events, and the stem they become.

Events are placed on the musical grid in beats (quarter notes) from the start of the stem, so a
pattern is independent of tempo and loops on bar lines; `NoteEvent.seconds` converts with the
plan's tempo. Drum hits use General MIDI drum numbers as `pitch` so the MIDI export opens in any
DAW's drum rack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: General MIDI drum map numbers for the drum instruments the generators play.
GM_DRUMS = {
    "kick": 36,
    "rim": 37,
    "snare": 38,
    "clap": 39,
    "hat_closed": 42,
    "perc": 45,
    "hat_open": 46,
    "crash": 49,
}


@dataclass(frozen=True)
class NoteEvent:
    """One note or drum hit."""

    start: float  # beats from the stem's start (may be slightly off-grid: swing, lazy timing)
    duration: float  # beats
    pitch: int  # MIDI note number; for drums the GM drum number of `instrument`
    velocity: float  # 0..1
    instrument: str  # "kick", "snare", "808", "keys", … (what plays it)
    glide_to: int | None = None  # 808 slides: pitch reached by the end of the note

    def seconds(self, bpm: float) -> tuple[float, float]:
        """(start, duration) in seconds at `bpm`."""
        beat = 60.0 / bpm
        return self.start * beat, self.duration * beat


@dataclass
class Stem:
    """A generated (or kept) stem: stereo audio at the working rate plus the events played."""

    role: str
    audio: np.ndarray  # (2, T) float32, T == round(duration * sample_rate)
    sample_rate: int
    bpm: float
    events: list[NoteEvent] = field(default_factory=list)
    generator: str = ""

    @property
    def duration(self) -> float:
        return self.audio.shape[1] / self.sample_rate
