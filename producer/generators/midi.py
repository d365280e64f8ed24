"""MIDI export of a stem's events, for a DAW.

One track per stem at the plan's tempo. Drum stems play on channel 10 with General MIDI drum
numbers; 808 slides become pitch-bend ramps with the bend range set to ±12 semitones (RPN 0), so
the slide survives the trip into a sampler.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mido

from producer.atomic import atomic_path
from producer.generators.events import NoteEvent

#: Ticks per beat of the exported files.
TICKS_PER_BEAT = 480
#: Pitch-bend range written with RPN 0, in semitones; slides wider than this are clamped.
BEND_RANGE = 12
_GLIDE_STEPS = 16


def events_to_midi(
    events: Sequence[NoteEvent], bpm: float, *, drums: bool = False, name: str = "stem"
) -> mido.MidiFile:
    """A type-1 MIDI file with a tempo track and one note track."""
    channel = 9 if drums else 0
    timed: list[tuple[int, int, mido.Message]] = []  # (tick, order, message); offs before ons

    def at(beats: float) -> int:
        return max(0, round(beats * TICKS_PER_BEAT))

    if not drums:
        for number, value in ((101, 0), (100, 0), (6, BEND_RANGE), (38, 0)):
            timed.append(
                (0, 0, mido.Message("control_change", channel=channel, control=number, value=value))
            )
    for ev in events:
        start, end = at(ev.start), at(ev.start + ev.duration)
        end = max(end, start + 1)
        velocity = max(1, min(127, round(ev.velocity * 127)))
        timed.append(
            (start, 2, mido.Message("note_on", channel=channel, note=ev.pitch, velocity=velocity))
        )
        timed.append((end, 1, mido.Message("note_off", channel=channel, note=ev.pitch, velocity=0)))
        if ev.glide_to is not None and not drums:
            semis = max(-BEND_RANGE, min(BEND_RANGE, ev.glide_to - ev.pitch))
            for k in range(1, _GLIDE_STEPS + 1):
                tick = start + (end - start) * k // (_GLIDE_STEPS + 1)
                bend = round(8191 * semis / BEND_RANGE * k / _GLIDE_STEPS)
                timed.append((tick, 3, mido.Message("pitchwheel", channel=channel, pitch=bend)))
            timed.append((end, 0, mido.Message("pitchwheel", channel=channel, pitch=0)))
    timed.sort(key=lambda item: (item[0], item[1]))

    tempo = mido.MidiTrack()
    tempo.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    tempo.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    notes = mido.MidiTrack()
    notes.append(mido.MetaMessage("track_name", name=name, time=0))
    last = 0
    for tick, _, message in timed:
        notes.append(message.copy(time=tick - last))
        last = tick
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks += [tempo, notes]
    return midi


def save_midi(
    path: str | Path,
    events: Sequence[NoteEvent],
    bpm: float,
    *,
    drums: bool = False,
    name: str = "stem",
) -> Path:
    """Write the events as a .mid file atomically (temp file + rename)."""
    midi = events_to_midi(events, bpm, drums=drums, name=name)
    with atomic_path(path) as tmp:
        midi.save(filename=str(tmp))
    return Path(path)
