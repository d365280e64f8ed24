"""Tests for producer.audio.loudness against pyloudnorm, scipy and known reference values."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest
import scipy.signal

from producer.audio.loudness import (
    integrated_loudness,
    k_weighted_power,
    loudness_range,
    oversampled_peak_envelope,
    sample_peak_db,
    short_term_loudness,
    true_peak_dbtp,
)

SR = 48000


def _sine(freq: float, seconds: float, amp: float, sr: int = SR, phase: float = 0.0):
    t = np.arange(round(seconds * sr)) / sr
    return amp * np.sin(2 * np.pi * freq * t + phase)


def _noise(seconds: float, sr: int = SR, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((2, int(seconds * sr))) * 0.1


def _resample_poly_peak(audio: np.ndarray, up: int = 4) -> np.ndarray:
    """Reference: linked per-input-sample peak of scipy's polyphase oversampling."""
    y = np.abs(scipy.signal.resample_poly(np.atleast_2d(audio).astype(np.float64), up, 1, axis=-1))
    return y.reshape(y.shape[0], -1, up).max(axis=(0, 2))


# ------------------------------------------------------------------------ integrated


def test_stereo_sine_at_minus_20_dbfs_reads_minus_20_lufs():
    # BS.1770: a 997 Hz sine at 0 dBFS in ONE channel reads -3.01 LUFS; the -0.691 offset
    # cancels the K-filter's gain at 997 Hz. Two channels at -20 dBFS each: -23.01 + 3.01.
    tone = _sine(997, 5.0, 0.1)
    assert integrated_loudness(np.stack([tone, tone]), SR) == pytest.approx(-20.0, abs=0.05)
    assert integrated_loudness(tone, SR) == pytest.approx(-23.01, abs=0.05)
    meter = pyloudnorm.Meter(SR)
    assert integrated_loudness(tone, SR) == pytest.approx(meter.integrated_loudness(tone), abs=1e-6)


@pytest.mark.parametrize("sr", [8000, 44100, 48000, 192000])
def test_matches_pyloudnorm(sr):
    x = _noise(6.0, sr)
    x[:, : sr * 2] *= 0.05  # a quiet stretch the relative gate must drop
    x[0] += _sine(40, 6.0, 0.3, sr)  # bass: the 38 Hz high-pass in the K-filter matters
    expected = pyloudnorm.Meter(sr).integrated_loudness(x.T)
    assert integrated_loudness(x, sr) == pytest.approx(expected, abs=1e-6)


def test_integrated_loudness_of_silence_is_minus_inf():
    assert integrated_loudness(np.zeros((2, SR)), SR) == -math.inf
    # Below the -70 LUFS absolute gate counts as silence too.
    assert integrated_loudness(_noise(2.0) * 1e-4, SR) == -math.inf
    assert integrated_loudness(np.zeros((2, 0)), SR) == -math.inf


def test_short_audio_is_one_block():
    tone = np.stack([_sine(997, 0.2, 0.1)] * 2)  # shorter than a 400 ms block
    assert integrated_loudness(tone, SR) == pytest.approx(-20.0, abs=0.1)
    assert integrated_loudness(tone * 1e-4, SR) == -math.inf


def test_k_weighted_power_shape():
    assert k_weighted_power(_noise(0.5), SR).shape == (SR // 2,)
    with pytest.raises(ValueError, match="5 channels"):
        k_weighted_power(np.zeros((6, 100)), SR)


# ------------------------------------------------------------------------ peaks


def test_sample_peak():
    assert sample_peak_db(np.array([[0.0, -0.5], [0.25, 0.1]])) == pytest.approx(-6.0206, abs=1e-4)
    assert sample_peak_db(np.zeros((2, 10))) == -math.inf


def test_inter_sample_peak_reads_above_sample_peak():
    # A sine at fs/4 sampled 45 degrees off its crests: every sample is at 0.707 of the
    # amplitude, the waveform between samples reaches the full amplitude (+3 dB).
    x = _sine(SR / 4, 1.0, 0.5, phase=math.pi / 4)
    sample = sample_peak_db(x)
    true = true_peak_dbtp(x, SR)
    assert sample == pytest.approx(20 * math.log10(0.5 / math.sqrt(2)), abs=1e-3)
    assert true - sample > 2.5
    assert true == pytest.approx(20 * math.log10(_resample_poly_peak(x).max()), abs=1e-4)


@pytest.mark.parametrize("up", [2, 4, 8])
def test_envelope_equals_resample_poly(up):
    x = _noise(0.3).astype(np.float32)
    x[:, 5000:6000] *= 8  # a loud burst
    env = oversampled_peak_envelope(x, up)
    np.testing.assert_allclose(env, _resample_poly_peak(x, up), atol=1e-5)


def test_envelope_floor_is_exact_above_and_a_lower_bound_below():
    x = _noise(0.5).astype(np.float32)
    x[:, 10000:10100] *= 6
    reference = _resample_poly_peak(x)
    floor = 0.6
    env = oversampled_peak_envelope(x, 4, floor=floor)
    above = reference > floor
    assert above.any()
    np.testing.assert_allclose(env[above], reference[above], atol=1e-5)
    assert np.all(env <= reference + 1e-5)
    assert np.all(env[~above] <= floor + 1e-5)


def test_true_peak_never_below_sample_peak_and_silence():
    x = _noise(1.0, seed=3)
    assert true_peak_dbtp(x, SR) >= sample_peak_db(x)
    assert true_peak_dbtp(x, SR) == pytest.approx(
        20 * math.log10(_resample_poly_peak(x).max()), abs=1e-4
    )
    assert true_peak_dbtp(np.zeros((2, 100)), SR) == -math.inf


# ------------------------------------------------------------------ short-term and LRA


def test_short_term_layout_and_level():
    tone = np.stack([_sine(997, 10.0, 0.1)] * 2)
    st = short_term_loudness(tone, SR)
    assert st.shape == (int((10.0 - 3.0) / 0.1) + 1,)
    np.testing.assert_allclose(st, -20.0, atol=0.05)
    assert short_term_loudness(tone[:, :SR], SR).shape == (1,)  # < 3 s: one value


def test_lra_of_a_10_db_step_is_10_lu():
    quiet = _noise(15.0, seed=1) * 10 ** (-10 / 20)
    loud = _noise(15.0, seed=2)
    lra = loudness_range(np.concatenate([quiet, loud], axis=1), SR)
    assert lra == pytest.approx(10.0, abs=1.0)


def test_lra_of_steady_noise_is_small_and_of_silence_zero():
    assert loudness_range(_noise(12.0), SR) < 1.0
    assert loudness_range(np.zeros((2, 5 * SR)), SR) == 0.0
