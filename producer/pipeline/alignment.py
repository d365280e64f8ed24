"""Putting generated stems on an input song's beat grid.

Generators start their first bar at t = 0. An input song's first downbeat is usually later (a
pickup, a breath, silence before the first word). To line the new beat up with the song, each
stem is generated one bar longer than needed and then cut so that its bar lines fall at
`offset + k * bar`: the kept stem is never moved, so a vocal stays exactly where it was sung.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from producer.generators.events import Stem

__all__ = ["grid_cut", "shift_stem"]


def grid_cut(offset: float, seconds_per_bar: float) -> float:
    """Seconds to cut from the start of a stem generated from t = 0 so that its bars start at
    `offset` (mod one bar). 0 when the offset is on a bar line already."""
    phase = offset % seconds_per_bar
    if phase < 1e-4 or seconds_per_bar - phase < 1e-4:
        return 0.0
    return seconds_per_bar - phase


def shift_stem(stem: Stem, cut: float, duration: float) -> Stem:
    """The stem with its first `cut` seconds removed and exactly `duration` seconds long.

    Note events move with the audio (events that started before the cut are dropped, since
    their onsets are gone), so the MIDI written beside the stem still matches it.
    """
    sr = stem.sample_rate
    start = round(cut * sr)
    length = round(duration * sr)
    audio = stem.audio[:, start : start + length]
    if audio.shape[1] < length:
        audio = np.pad(audio, ((0, 0), (0, length - audio.shape[1])))
    beats_cut = cut * stem.bpm / 60.0
    events = [
        dataclasses.replace(e, start=e.start - beats_cut)
        for e in stem.events
        if e.start >= beats_cut - 1e-6
    ]
    return dataclasses.replace(stem, audio=np.ascontiguousarray(audio), events=events)
