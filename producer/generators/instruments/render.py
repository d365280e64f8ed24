"""Play note events on the Faust instruments: events → control signals → one `run_faust` call.

    audio = render_events(events, "808", bpm=140, num_samples=30 * 44100)   # (2, T) float32
    drums = render_drum_kit(events, bpm=140, num_samples=30 * 44100)        # (2, T) float32

The control signals (see `dsp.py` for what each one means) are built here with numpy, so a
stem of any number of notes is a single render of a single cached program: the per-note work
is a few slice assignments. Notes are placed by rounding beats → samples at `bpm`; notes that
start at or after the end are dropped, and tails are cut at `num_samples`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from producer.errors import ProducerError
from producer.faust.engine import run_faust
from producer.generators.events import NoteEvent
from producer.generators.instruments.dsp import (
    KIT_PIECES,
    KIT_PROGRAM,
    InstrumentSpec,
    UnknownInstrumentError,
    get_instrument,
)

# Frequency a voice that never plays holds: any value > 1 Hz (the program takes its log for
# portamento), and silent anyway.
_IDLE_HZ = 220.0


def midi_to_hz(pitch: float) -> float:
    """Equal-tempered frequency of a MIDI note number (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def _check_args(bpm: float, num_samples: int, sample_rate: int) -> None:
    if not np.isfinite(bpm) or bpm <= 0:
        raise ProducerError(f"bpm must be a positive number, got {bpm}")
    if num_samples < 0:
        raise ProducerError(f"num_samples must be >= 0, got {num_samples}")
    if sample_rate <= 0:
        raise ProducerError(f"sample_rate must be positive, got {sample_rate}")


def _placed(
    events: Sequence[NoteEvent], bpm: float, num_samples: int, sample_rate: int
) -> list[tuple[int, int, NoteEvent]]:
    """(start, end) sample of each audible event inside the stem, sorted by start then pitch.

    Starts before 0 are moved to 0 (a swung upbeat); events that start at or after the end,
    end before 0, or have no velocity are dropped. Every kept note lasts >= 1 sample.
    """
    per_beat = 60.0 * sample_rate / bpm
    placed = []
    for ev in events:
        if not (ev.velocity > 0 and np.isfinite(ev.start) and np.isfinite(ev.duration)):
            continue
        start = round(ev.start * per_beat)
        end = round((ev.start + max(ev.duration, 0.0)) * per_beat)
        if start >= num_samples or end <= 0:
            continue
        start = max(start, 0)
        placed.append((start, max(end, start + 1), ev))
    placed.sort(key=lambda p: (p[0], p[2].pitch))
    return placed


def allocate_voices(spans: Sequence[tuple[int, int]], polyphony: int, release: int) -> list[int]:
    """Voice index of each note (spans sorted by start), least recently used first.

    A voice is free `release` samples after its note ends; a note takes the free voice that
    has been free longest (round-robin in practice, so tails of repeated chords overlap
    instead of cutting each other). With no voice free it steals the one that frees first.
    """
    free_at = [0] * polyphony  # sample from which each voice is free
    voices = []
    for start, end in spans:
        voice = min(range(polyphony), key=lambda v: (free_at[v] > start, free_at[v]))
        free_at[voice] = end + release
        voices.append(voice)
    return voices


def _pitched_controls(
    spec: InstrumentSpec,
    placed: list[tuple[int, int, NoteEvent]],
    num_samples: int,
    sample_rate: int,
) -> np.ndarray:
    """(polyphony, T) float32: the `note` control of each voice (see dsp.py).

    Per note on a voice: its velocity on the first sample, +Hz while held (a glide is an
    exponential ramp to `glide_to` over the note), then -Hz (the last pitch) until the next
    note on the voice; before its first note a voice holds -Hz of that note.
    """
    if num_samples < 2:  # no room for a velocity sample after a pitch
        return np.full((spec.polyphony, num_samples), -_IDLE_HZ, dtype=np.float32)
    n = spec.polyphony
    voices = allocate_voices([(s, e) for s, e, _ in placed], n, round(spec.release * sample_rate))
    controls = np.empty((n, num_samples), dtype=np.float32)
    for v in range(n):
        notes = [p for p, voice in zip(placed, voices, strict=True) if voice == v]
        row = controls[v]
        row[:] = -(_hz(notes[0][2].pitch) if notes else _IDLE_HZ)
        for i, (start, end, ev) in enumerate(notes):
            # A note at sample 0 starts at 1 (23 µs later): the voice must hold its pitch
            # (sample 0: -Hz) before the velocity sample, or the program has none yet.
            start, end = max(start, 1), max(end, 2)
            nxt = max(notes[i + 1][0], 1) if i + 1 < len(notes) else num_samples
            if nxt <= start:  # two notes start together on this voice: the later one plays
                continue
            stop = min(end, nxt)  # a note cut short by the next one on its voice
            f0 = _hz(ev.pitch)
            f1 = f0 if ev.glide_to is None else _hz(ev.glide_to)
            row[start] = min(max(float(ev.velocity), 1e-3), 1.0)
            if stop > start + 1:
                # 808 slide: even in pitch from the note to glide_to, reached at the note's end.
                ramp = np.linspace(0.0, 1.0, end - start)[1 : stop - start]
                row[start + 1 : stop] = f0 * (f1 / f0) ** ramp if f1 != f0 else f0
            row[stop:nxt] = -(row[stop - 1] if stop > start + 1 else f0)
    return controls


def _hz(pitch: float) -> float:
    """A note's frequency, kept >= 8 Hz so that it can never read as a velocity (<= 1)."""
    return max(midi_to_hz(pitch), 8.0)


def _hits(placed: list[tuple[int, int, NoteEvent]], num_samples: int) -> np.ndarray:
    """(T,) float32: an impulse of the velocity at each hit (the louder of two at once)."""
    hits = np.zeros(num_samples, dtype=np.float32)
    for start, _, ev in placed:
        hits[start] = max(hits[start], min(float(ev.velocity), 1.0))
    return hits


def _drum_controls(
    spec: InstrumentSpec, placed: list[tuple[int, int, NoteEvent]], num_samples: int
) -> np.ndarray:
    """(len(controls), T) float32 for one drum piece played alone (an open hat: no choke)."""
    rows = {"hit": _hits(placed, num_samples), "choke": np.zeros(num_samples, np.float32)}
    return np.stack([rows[name] for name in spec.controls])


def controls_for(
    spec: InstrumentSpec,
    events: Sequence[NoteEvent],
    bpm: float,
    num_samples: int,
    sample_rate: int = 44100,
) -> np.ndarray:
    """The control inputs (C_in, T) float32 that play `events` on `spec`."""
    _check_args(bpm, num_samples, sample_rate)
    placed = _placed(events, bpm, num_samples, sample_rate)
    if spec.drum:
        return _drum_controls(spec, placed, num_samples)
    return _pitched_controls(spec, placed, num_samples, sample_rate)


def render_events(
    events: Sequence[NoteEvent],
    instrument: str,
    bpm: float,
    num_samples: int,
    sample_rate: int = 44100,
) -> np.ndarray:
    """Play `events` on `instrument`: a (2, num_samples) float32 stereo stem, peak <= 1.

    All events are played on `instrument` whatever their own `instrument` field says (use
    `render_drum_kit` for a mix of drum pieces). Beats become samples at `bpm`; tails ring
    past a note's end but the stem is exactly `num_samples` long. The same events give
    bit-identical audio. Raises `UnknownInstrumentError` (a ValueError) for an unknown name.
    """
    spec = get_instrument(instrument)
    _check_args(bpm, num_samples, sample_rate)
    if not _placed(events, bpm, num_samples, sample_rate):  # nothing plays: skip the compile
        return np.zeros((2, num_samples), dtype=np.float32)
    return run_faust(
        spec.code, controls_for(spec, events, bpm, num_samples, sample_rate), sample_rate
    )


def render_drum_kit(
    events: Sequence[NoteEvent], bpm: float, num_samples: int, sample_rate: int = 44100
) -> np.ndarray:
    """Play drum events on the kit: (2, num_samples) float32, each piece by its `instrument`.

    One program holds every piece at the kit balance and placement of its spec (kick, snare
    and clap centred, hats a little left, rim/perc/crash right), so the kit is the sum of the
    pieces rendered alone, except that closed hats choke a ringing open hat, and one shared
    soft clip keeps the sum below 1. Raises `UnknownInstrumentError` if an event names an
    unknown instrument or one that is not a drum.
    """
    _check_args(bpm, num_samples, sample_rate)
    by_piece: dict[str, list[NoteEvent]] = {p.name: [] for p in KIT_PIECES}
    for ev in events:
        if ev.instrument not in by_piece:
            get_instrument(ev.instrument)  # raises for unknown names
            raise UnknownInstrumentError(
                f"'{ev.instrument}' is not a drum; a kit plays: {', '.join(by_piece)}"
            )
        by_piece[ev.instrument].append(ev)
    placed = {name: _placed(evs, bpm, num_samples, sample_rate) for name, evs in by_piece.items()}
    if num_samples == 0 or not any(placed.values()):
        return np.zeros((2, num_samples), dtype=np.float32)
    return run_faust(KIT_PROGRAM, _pack_hits(placed, num_samples)[None, :], sample_rate)


def _pack_hits(placed: dict[str, list[tuple[int, int, NoteEvent]]], num_samples: int) -> np.ndarray:
    """(T,) float32: the kit's one input, `id + velocity / 2` at each hit of piece `id`.

    `id` is the 1-based position in `KIT_PIECES`. One sample holds one hit, so a hit landing
    on another piece's (kick and hat on the same beat) moves one sample later (23 µs at
    44.1 kHz, far below what anyone hears), pieces in kit order. Two hits of one piece on
    one sample keep the louder.
    """
    packed = np.zeros(num_samples, dtype=np.float32)
    for piece_id, piece in enumerate(KIT_PIECES, start=1):
        hits = _hits(placed[piece.name], num_samples)
        for start in np.flatnonzero(hits):
            at = start
            while at < num_samples and packed[at] != 0:
                at += 1
            if at < num_samples:
                packed[at] = piece_id + 0.5 * hits[start]
    return packed
