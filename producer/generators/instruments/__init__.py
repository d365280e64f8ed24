"""Faust instruments played by note events: one program per instrument, one render per stem.

    from producer.generators.instruments import render_events, render_drum_kit
    bass = render_events(events, "808", bpm=140, num_samples=44100 * 8)   # (2, T) float32
    kit = render_drum_kit(drum_events, bpm=140, num_samples=44100 * 8)

`INSTRUMENTS` maps each name to its `InstrumentSpec` (Faust source, control inputs,
polyphony, gain, placement); `dsp.py` documents the designs, `render.py` the control signals.
"""

from __future__ import annotations

from producer.generators.instruments.dsp import (
    INSTRUMENTS,
    KIT_PIECES,
    KIT_PROGRAM,
    InstrumentSpec,
    UnknownInstrumentError,
    get_instrument,
)
from producer.generators.instruments.render import (
    allocate_voices,
    controls_for,
    midi_to_hz,
    render_drum_kit,
    render_events,
)

#: Names of the drum pieces (instruments `render_drum_kit` plays).
DRUM_INSTRUMENTS: tuple[str, ...] = tuple(p.name for p in KIT_PIECES)

__all__ = [
    "DRUM_INSTRUMENTS",
    "INSTRUMENTS",
    "KIT_PIECES",
    "KIT_PROGRAM",
    "InstrumentSpec",
    "UnknownInstrumentError",
    "allocate_voices",
    "controls_for",
    "get_instrument",
    "midi_to_hz",
    "render_drum_kit",
    "render_events",
]
