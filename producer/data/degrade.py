"""Degraded copies of a mix, with scores: the training signal of the quality head.

A song's mastered mix is the good example; each degraded copy is the same music with one
typical mixing fault, scored lower the worse the fault:

    clipping         driven 6–24 dB into hard clipping at full scale
    imbalance        one stem pushed 0–12 dB over the mix (or one channel cut, with no stems)
    mud              +6–15 dB at 250 Hz and the top end dulled, re-mastered to -14 LUFS
    overcompression  limited 4–14 dB harder, then brought back down to -14 LUFS
    too_quiet        6–30 dB under the -14 LUFS target
    too_loud         limited to 3–12 LU over the target

Every fault but the level ones is re-mastered to the same -14 LUFS as the original, so the
quality head has to hear the fault itself and cannot just read the loudness.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from producer.audio.loudness import integrated_loudness
from producer.audio.mastering import master

__all__ = [
    "DEGRADATIONS",
    "TARGET_LUFS",
    "degrade",
    "degraded_score",
    "quality_examples",
]

DEGRADATIONS = ("clipping", "imbalance", "mud", "overcompression", "too_quiet", "too_loud")
#: Loudness of the good example and of the re-mastered faults.
TARGET_LUFS = -14.0
# Lowest severity drawn by quality_examples: milder faults are too close to the original
# to deserve a different score.
_MIN_SEVERITY = 0.15


def _gain_db(x: np.ndarray, db: float) -> np.ndarray:
    return (x * np.float32(10.0 ** (db / 20.0))).astype(np.float32)


def _to_lufs(x: np.ndarray, sample_rate: int, target: float) -> np.ndarray:
    """Plain gain to `target` LUFS (no limiting); silence is returned unchanged."""
    lufs = integrated_loudness(x, sample_rate)
    return x.astype(np.float32) if not math.isfinite(lufs) else _gain_db(x, target - lufs)


def _mastered(x: np.ndarray, sample_rate: int, target: float = TARGET_LUFS) -> np.ndarray:
    return master(x, sample_rate, target_lufs=target).audio


def _biquad_peak(freq: float, gain_db: float, q: float, sample_rate: int) -> np.ndarray:
    """RBJ cookbook peaking EQ as one second-order section."""
    a = 10.0 ** (gain_db / 40.0)
    w = 2 * math.pi * freq / sample_rate
    alpha = math.sin(w) / (2 * q)
    b = [1 + alpha * a, -2 * math.cos(w), 1 - alpha * a]
    den = [1 + alpha / a, -2 * math.cos(w), 1 - alpha / a]
    return np.array([[*(v / den[0] for v in b), 1.0, den[1] / den[0], den[2] / den[0]]])


def _biquad_high_shelf(freq: float, gain_db: float, sample_rate: int) -> np.ndarray:
    """RBJ cookbook high shelf (slope 1) as one second-order section."""
    a = 10.0 ** (gain_db / 40.0)
    w = 2 * math.pi * freq / sample_rate
    cos, alpha = math.cos(w), math.sin(w) / 2 * math.sqrt(2)
    sq = 2 * math.sqrt(a) * alpha
    b = [a * ((a + 1) + (a - 1) * cos + sq), -2 * a * ((a - 1) + (a + 1) * cos)]
    b.append(a * ((a + 1) + (a - 1) * cos - sq))
    den = [(a + 1) - (a - 1) * cos + sq, 2 * ((a - 1) - (a + 1) * cos)]
    den.append((a + 1) - (a - 1) * cos - sq)
    return np.array([[*(v / den[0] for v in b), 1.0, den[1] / den[0], den[2] / den[0]]])


def _imbalance(
    x: np.ndarray,
    stems: Mapping[str, np.ndarray] | None,
    sample_rate: int,
    severity: float,
    rng: np.random.Generator,
) -> np.ndarray:
    audible = {
        role: s
        for role, s in (stems or {}).items()
        if math.isfinite(integrated_loudness(s, sample_rate))
    }
    if len(audible) < 2:
        # No stems to rebalance: lose one side of the stereo image instead.
        out = x.copy()
        side = int(rng.integers(2))
        out[side] = _gain_db(out[side], -(6.0 + 18.0 * severity))
        return _mastered(out, sample_rate)
    role = sorted(audible)[int(rng.integers(len(audible)))]
    stem = np.zeros_like(x)
    n = min(x.shape[1], audible[role].shape[1])
    stem[:, :n] = audible[role][:, :n]
    # The stem at the mix's own loudness, then 6 dB under to 6 dB over it: it swamps the rest.
    # (Measured: scoring by how far the stem rose above its own level in the mix instead made
    # the fault much harder to hear, held-out Spearman 0.40 → 0.24 for this fault.)
    boost = _to_lufs(stem, sample_rate, integrated_loudness(x, sample_rate))
    return _mastered(x + _gain_db(boost, -6.0 + 12.0 * severity), sample_rate)


def degrade(
    mix: np.ndarray,
    stems: Mapping[str, np.ndarray] | None,
    sample_rate: int,
    kind: str,
    severity: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """A copy of `mix` ((2, T), any loudness) with one fault of strength `severity` in (0, 1].

    `stems` ((2, T) each, by role) are used by "imbalance" only; None or fewer than two
    audible stems make it cut one stereo channel instead. Returns (2, T) float32.
    """
    if kind not in DEGRADATIONS:
        raise ValueError(f"unknown degradation '{kind}' (known: {', '.join(DEGRADATIONS)})")
    if not 0.0 < severity <= 1.0:
        raise ValueError(f"severity must be in (0, 1], got {severity}")
    x = _mastered(np.asarray(mix, dtype=np.float32), sample_rate)
    return _degrade_mastered(x, stems, sample_rate, kind, severity, rng)[0]


def _degrade_mastered(
    x: np.ndarray,
    stems: Mapping[str, np.ndarray] | None,
    sample_rate: int,
    kind: str,
    severity: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float]:
    """`degrade` of a mix already mastered to TARGET_LUFS, and the severity actually reached.

    The limiter cannot push every mix as loud as asked (a kick-heavy mix tops out around -9
    LUFS), so for the two limiter faults the severity is read back from the loudness reached:
    copies that came out alike then get alike scores, which the quality head can learn.
    """
    if kind == "clipping":
        return np.clip(_gain_db(x, 6.0 + 18.0 * severity), -1.0, 1.0), severity
    if kind == "too_quiet":
        return _gain_db(x, -(6.0 + 24.0 * severity)), severity
    if kind in ("too_loud", "overcompression"):
        lo, span = (3.0, 9.0) if kind == "too_loud" else (4.0, 10.0)
        pushed = _mastered(x, sample_rate, TARGET_LUFS + lo + span * severity)
        reached = (integrated_loudness(pushed, sample_rate) - TARGET_LUFS - lo) / span
        reached = float(np.clip(reached, _MIN_SEVERITY, severity))
        if kind == "too_loud":
            return pushed, reached
        return _to_lufs(pushed, sample_rate, TARGET_LUFS), reached
    if kind == "mud":
        from scipy.signal import sosfilt  # slow import; only needed here

        sos = np.concatenate(
            [
                _biquad_peak(250.0, 6.0 + 9.0 * severity, 0.8, sample_rate),
                _biquad_high_shelf(
                    min(4000.0, 0.4 * sample_rate), -(3.0 + 9.0 * severity), sample_rate
                ),
            ]
        )
        return _mastered(sosfilt(sos, x, axis=1).astype(np.float32), sample_rate), severity
    return _imbalance(x, stems, sample_rate, severity, rng), severity


def degraded_score(base_quality: float, severity: float) -> float:
    """Score of a copy with a fault of `severity`: falls linearly to 20 % of the base."""
    return float(base_quality * (1.0 - 0.8 * severity))


def quality_examples(
    mix: np.ndarray,
    stems: Mapping[str, np.ndarray] | None,
    sample_rate: int,
    rng: np.random.Generator,
    n_degraded: int,
    base_quality: float = 1.0,
) -> list[tuple[np.ndarray, float]]:
    """The mix mastered to -14 LUFS with score `base_quality`, then `n_degraded` faulty copies.

    Faults cycle through DEGRADATIONS in a random order (so a song's copies differ in kind),
    severities are uniform in [0.15, 1]; each copy scores `degraded_score(base, severity)`.
    """
    original = _mastered(np.asarray(mix, dtype=np.float32), sample_rate)
    examples = [(original, float(base_quality))]
    kinds = [DEGRADATIONS[i] for i in rng.permutation(len(DEGRADATIONS))]
    for k in range(n_degraded):
        severity = float(rng.uniform(_MIN_SEVERITY, 1.0))
        kind = kinds[k % len(kinds)]
        audio, reached = _degrade_mastered(original, stems, sample_rate, kind, severity, rng)
        examples.append((audio, degraded_score(base_quality, reached)))
    return examples
