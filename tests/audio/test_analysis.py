"""Tempo and key analysis on synthetic audio with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from producer.audio.analysis import (
    estimate_key,
    estimate_key_from_stems,
    estimate_tempo,
    key_from_profile,
    tempo_matches,
)

SR = 22050


def tones(midi_notes, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return sum(np.sin(2 * np.pi * 440 * 2 ** ((n - 69) / 12) * t) for n in midi_notes) / len(
        midi_notes
    )


def test_click_track_tempo():
    bpm = 128.0
    audio = np.zeros(int(12 * SR), dtype=np.float32)
    burst = np.random.default_rng(0).standard_normal(1000) * np.exp(-np.arange(1000) / 150)
    for k in range(int(12 * bpm / 60)):
        start = int(k * 60 / bpm * SR)
        audio[start : start + 1000] = burst[: audio.size - start]
    measured = estimate_tempo(audio, SR).bpm
    assert tempo_matches(measured, bpm), measured


@pytest.mark.parametrize(
    ("chords", "expected"),
    [
        ([(60, 64, 67), (65, 69, 72), (67, 71, 74), (60, 64, 67)], ("C", "major")),
        ([(57, 60, 64), (62, 65, 69), (64, 68, 71), (57, 60, 64)], ("A", "minor")),
        ([(65, 68, 72), (61, 65, 68), (63, 67, 70), (65, 68, 72)], ("F", "minor")),
    ],
)
def test_cadences_give_their_key(chords, expected):
    audio = np.concatenate([tones(c, 1.0) for c in chords])
    found = estimate_key(audio, SR)
    assert (found.key, found.mode) == expected


def test_stem_estimate_is_level_independent():
    harmony = np.concatenate(
        [tones(c, 1.0) for c in [(57, 60, 64), (62, 65, 69), (64, 68, 71), (57, 60, 64)]]
    )
    bass = 20 * tones([45], 4.0)  # a loud A pedal: alone it says nothing about the mode
    found = estimate_key_from_stems([bass, harmony], SR)
    assert (found.key, found.mode) == ("A", "minor")


def test_profile_rotation():
    major = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
    found = key_from_profile(np.roll(major, 7))  # tonic G
    assert (found.key, found.mode) == ("G", "major")
    assert found.correlation == pytest.approx(1.0)
