"""Musical analysis of audio: tempo and beat grid (librosa), key and mode (Krumhansl–Schmuckler).

Used on input songs (the plan takes their tempo and key) and by the tests as an independent
measurement of what the generators made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from producer.plan import KEYS

# Krumhansl–Kessler probe-tone profiles (Krumhansl 1990), index 0 = tonic.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True)
class KeyEstimate:
    """Most likely key: tonic (with sharps), mode, and the profile correlation (−1..1)."""

    key: str
    mode: str
    correlation: float


@dataclass(frozen=True)
class TempoEstimate:
    """Tempo in bpm and beat times in seconds."""

    bpm: float
    beats: np.ndarray


def _mono(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float32)
    return audio.mean(axis=0) if audio.ndim == 2 else audio


def chroma_profile(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Energy per pitch class (12,), C first, from a constant-Q chroma (resolves bass notes)."""
    import librosa

    chroma = librosa.feature.chroma_cqt(y=_mono(audio), sr=sample_rate, hop_length=2048)
    return chroma.sum(axis=1)


def key_from_profile(profile: np.ndarray) -> KeyEstimate:
    """Krumhansl–Schmuckler: correlate the pitch-class profile with all 24 rotated key profiles."""
    best = KeyEstimate("C", "major", -2.0)
    for tonic in range(12):
        rotated = np.roll(profile, -tonic)
        for mode, reference in (("major", _MAJOR_PROFILE), ("minor", _MINOR_PROFILE)):
            r = float(np.corrcoef(rotated, reference)[0, 1])
            if r > best.correlation:
                best = KeyEstimate(KEYS[tonic], mode, r)
    return best


def estimate_key(audio: np.ndarray, sample_rate: int) -> KeyEstimate:
    """Key and mode of (2, T) or (T,) audio."""
    return key_from_profile(chroma_profile(audio, sample_rate))


def estimate_key_from_stems(stems: list[np.ndarray], sample_rate: int) -> KeyEstimate:
    """Key and mode of several pitched stems, each weighted equally whatever its level.

    Summing the audio first lets the loudest stem (usually the bass, whose saturated partials
    blur its pitch classes) decide alone; normalising each stem's pitch-class profile before
    adding them lets chords and melody, which carry the mode, count as much as the bass.
    """
    total = np.zeros(12)
    for audio in stems:
        profile = chroma_profile(audio, sample_rate)
        if profile.sum() > 0:
            total += profile / profile.sum()
    return key_from_profile(total)


def estimate_tempo(audio: np.ndarray, sample_rate: int, start_bpm: float = 120.0) -> TempoEstimate:
    """Tempo and beat times with librosa's dynamic-programming beat tracker."""
    import librosa

    tempo, beats = librosa.beat.beat_track(
        y=_mono(audio), sr=sample_rate, start_bpm=start_bpm, units="time"
    )
    return TempoEstimate(float(np.atleast_1d(tempo)[0]), np.asarray(beats))


def tempo_matches(measured: float, expected: float, tolerance: float = 0.02) -> bool:
    """Whether a measured tempo is the expected one, or its half or double, within tolerance."""
    return any(abs(measured - expected * f) <= tolerance * expected * f for f in (0.5, 1.0, 2.0))
