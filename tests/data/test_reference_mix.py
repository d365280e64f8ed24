"""`reference_mix` (the stems summed and mastered) and `reference_features` built on it."""

from __future__ import annotations

import numpy as np
import pytest

from producer.audio.loudness import integrated_loudness, true_peak_dbtp
from producer.audio.mastering import REFERENCE_LUFS, reference_mix
from producer.generators.events import Stem
from tests.conftest import synth_stem

SR = 32000


@pytest.fixture(scope="module")
def stems() -> dict[str, np.ndarray]:
    return {role: synth_stem(role, 1.5, SR, seed=1) for role in ("drums", "bass", "melody")}


def _sine(freq: float, seconds: float, amp: float = 0.05) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return np.stack([amp * np.sin(2 * np.pi * freq * t)] * 2).astype(np.float32)


def test_no_stems_gives_none():
    assert reference_mix({}, SR) is None


def test_sums_stems_of_different_lengths_zero_padded_to_the_longest():
    # Quiet sines: mastering only applies a makeup gain (no limiting), so the output is a
    # scaled copy of the sum and the sum can be read back exactly.
    long = _sine(220.0, 2.0)
    short = _sine(330.0, 1.0, amp=0.08)
    out = reference_mix({"bass": long, "melody": short}, SR)
    assert out.shape == long.shape
    assert out.dtype == np.float32
    expected = long.copy()
    expected[:, : short.shape[1]] += short
    gain = float((out * expected).sum() / (expected * expected).sum())
    assert gain > 1.0  # made louder, to the target
    np.testing.assert_allclose(out, gain * expected, atol=1e-5)
    # the order of the stems does not matter, and neither does which one is longest
    swapped = reference_mix({"melody": short, "bass": long}, SR)
    np.testing.assert_allclose(swapped, out, atol=1e-6)


def test_a_single_stem_is_just_mastered():
    x = _sine(440.0, 1.0)
    out = reference_mix({"vocals": x}, SR)
    gain = float((out * x).sum() / (x * x).sum())
    np.testing.assert_allclose(out, gain * x, atol=1e-5)


@pytest.mark.parametrize("scale", [0.02, 1.0, 6.0])
def test_mastered_to_target_loudness_under_the_ceiling(stems, scale):
    """Quiet, ordinary and clipping-loud stems all come out at about -14 LUFS, <= -1 dBTP."""
    out = reference_mix({r: s * scale for r, s in stems.items()}, SR)
    assert out.shape == (2, round(1.5 * SR))
    assert np.isfinite(out).all()
    assert integrated_loudness(out, SR) == pytest.approx(REFERENCE_LUFS, abs=0.2)
    assert true_peak_dbtp(out, SR) <= -1.0 + 1e-3


def test_reference_features_from_stems_or_arrays(stems):
    from producer.models.unified import reference_features
    from producer.modules.features import AUDIO_FEATURE_DIM, audio_features

    as_stems = {r: Stem(r, a, SR, 120.0) for r, a in stems.items()}
    from_arrays = reference_features(stems, SR)
    from_stems = reference_features(as_stems, SR)
    assert from_arrays.dtype == np.float32
    assert from_arrays.shape == (AUDIO_FEATURE_DIM,)
    assert np.isfinite(from_arrays).all()
    np.testing.assert_array_equal(from_stems, from_arrays)
    np.testing.assert_array_equal(from_arrays, audio_features(reference_mix(stems, SR), SR))
    # the features describe the stems: a different set of stems reads differently
    other = reference_features({"bass": stems["bass"]}, SR)
    assert not np.allclose(other, from_arrays)
    # mixed input kinds in one dict work too
    mixed = reference_features({"drums": as_stems["drums"], "bass": stems["bass"]}, SR)
    both = reference_features({"drums": stems["drums"], "bass": stems["bass"]}, SR)
    np.testing.assert_array_equal(mixed, both)


def test_reference_features_of_no_stems_is_none():
    from producer.models.unified import reference_features

    assert reference_features({}, SR) is None
