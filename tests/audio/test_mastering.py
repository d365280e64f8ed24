"""Tests for producer.audio.mastering: loudness target, true-peak ceiling, smooth gain."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest
import scipy.signal

from producer.audio.loudness import integrated_loudness, oversampled_peak_envelope, sample_peak_db
from producer.audio.mastering import MasteringConfig, limiter_gain, master
from producer.errors import AudioInputError

SR = 44100


def drum_mix(seconds: float = 6.0, seed: int = 0, bpm: float = 90.0) -> np.ndarray:
    """A noise-ish drum-like stereo mix: 808-style kick, snare bursts, hats and a pink pad."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    out = np.zeros((2, n))
    beat = 60.0 / bpm

    def place(sound: np.ndarray, every: float, start: float = 0.0) -> None:
        for when in np.arange(start, seconds, every):
            i = int(when * SR)
            m = min(sound.shape[-1], n - i)
            out[:, i : i + m] += sound[..., :m]

    tk = np.arange(int(0.4 * SR)) / SR  # kick: a sine gliding from 120 Hz to 45 Hz
    place(
        np.sin(2 * np.pi * (45 * tk + 2.25 * (1 - np.exp(-tk / 0.03)))) * np.exp(-tk / 0.15), beat
    )
    ts = np.arange(int(0.25 * SR)) / SR  # snare on 2 and 4: noise plus a 190 Hz body
    snare = rng.standard_normal((2, ts.size)) * np.exp(-ts / 0.06) * 0.5
    place(snare + 0.3 * np.sin(2 * np.pi * 190 * ts) * np.exp(-ts / 0.05), 2 * beat, beat)
    th = np.arange(int(0.05 * SR)) / SR  # hats on eighths: high-passed noise
    b, a = scipy.signal.butter(4, 7000 / (SR / 2), "high")
    hat = scipy.signal.lfilter(b, a, rng.standard_normal((2, th.size))) * np.exp(-th / 0.015)
    place(0.3 * hat, beat / 2)
    # Pink pad (Paul Kellet's economy filter on white noise).
    pink = scipy.signal.lfilter(
        [0.049922035, -0.095993537, 0.050612699, -0.004408786],
        [1, -2.494956002, 2.017265875, -0.522189400],
        rng.standard_normal((2, n)),
        axis=-1,
    )
    return (out + 0.05 * pink).astype(np.float32)


def _at_lufs(audio: np.ndarray, lufs: float) -> np.ndarray:
    return (audio * 10 ** ((lufs - integrated_loudness(audio, SR)) / 20)).astype(np.float32)


def _reference_lufs(audio: np.ndarray) -> float:
    return pyloudnorm.Meter(SR).integrated_loudness(audio.T.astype(np.float64))


def _reference_dbtp(audio: np.ndarray) -> float:
    over = scipy.signal.resample_poly(audio.astype(np.float64), 4, 1, axis=-1)
    return 20 * math.log10(np.abs(over).max())


@pytest.fixture(scope="module")
def mix() -> np.ndarray:
    return drum_mix()


def _assert_mastered(result, source, target=-14.0, ceiling=-1.0):
    assert result.audio.shape == (2, source.shape[-1])
    assert result.audio.dtype == np.float32
    assert _reference_lufs(result.audio) == pytest.approx(target, abs=0.2)
    assert result.lufs == pytest.approx(_reference_lufs(result.audio), abs=1e-3)
    assert _reference_dbtp(result.audio) <= ceiling
    assert result.dbtp == pytest.approx(_reference_dbtp(result.audio), abs=1e-3)
    # The documented invariant: audio = input * gain * limiter curve.
    expected = source * np.float32(10 ** (result.gain_db / 20)) * result.gain_curve
    np.testing.assert_allclose(result.audio, expected, atol=1e-5)


def test_quiet_mix_is_raised_and_limited(mix):
    quiet = _at_lufs(mix, -30.0)
    result = master(quiet, SR)
    _assert_mastered(result, quiet)
    assert result.gain_db > 10
    assert result.max_gain_reduction_db > 1.0  # drums this dynamic need the limiter


def test_hot_mix_with_overs_is_brought_down(mix):
    hot = _at_lufs(np.tanh(2 * mix), -5.0)
    assert sample_peak_db(hot) >= 3.0
    result = master(hot, SR)
    _assert_mastered(result, hot)
    assert result.gain_db < -5


def test_other_targets(mix):
    source = _at_lufs(mix, -20.0)
    result = master(source, SR, target_lufs=-9.0, ceiling_dbtp=-0.5)
    _assert_mastered(result, source, target=-9.0, ceiling=-0.5)


def test_gain_curve_is_smooth(mix):
    config = MasteringConfig()
    result = master(_at_lufs(mix, -30.0), SR, config=config)
    curve_db = 20 * np.log10(result.gain_curve.astype(np.float64))
    assert curve_db.max() <= 1e-6  # the limiter only ever reduces
    assert -curve_db.min() == pytest.approx(result.max_gain_reduction_db, abs=1e-4)
    # Gain falls along linear ramps of (look-ahead) samples: no step can be steeper than the
    # deepest reduction spread over the ramp.
    ramp = 2 * round(config.lookahead_ms * 1e-3 * SR / 2) + 1
    steepest = np.abs(np.diff(curve_db)).max()
    assert steepest <= result.max_gain_reduction_db / ramp * 1.05
    assert steepest < 0.2


def test_isolated_peak_ramps_down_ahead_and_recovers_exponentially():
    config = MasteringConfig()
    x = np.zeros((2, SR), np.float32)
    click = SR // 2
    x[:, click] = 1.0  # a single 0 dBFS click in silence
    ceiling = 10 ** (-6 / 20)
    curve = limiter_gain(x, SR, ceiling, config)
    env = oversampled_peak_envelope(x)
    assert np.all(curve * env <= ceiling * (1 + 1e-5))
    reduction_db = -20 * np.log10(curve.astype(np.float64))
    # Look-ahead: the gain starts to move a few ms ahead of the click, not sooner.
    lead_ms = (click - int(np.argmax(curve < 1.0))) / SR * 1e3
    assert config.lookahead_ms / 2 <= lead_ms <= 5.0
    assert reduction_db[click] == pytest.approx(reduction_db.max(), abs=1e-4)
    assert reduction_db.max() == pytest.approx(6.0, abs=0.05)
    # Release: no dips after the deepest point (no pumping), and an exponential recovery.
    bottom = int(np.argmax(curve == curve.min()))
    assert np.all(np.diff(curve[bottom:]) >= -1e-7)
    tau = round(config.release_ms * 1e-3 * SR)
    later = click + round(0.02 * SR)
    ratio = reduction_db[later + tau] / reduction_db[later]
    assert ratio == pytest.approx(1 / math.e, rel=0.02)


def test_silence_is_returned_unchanged():
    silence = np.zeros((2, SR), np.float32)
    result = master(silence, SR)
    np.testing.assert_array_equal(result.audio, silence)
    assert result.gain_db == 0.0
    assert result.lufs == -math.inf
    assert result.notes and "silent" in result.notes[0]
    # Under the -70 LUFS gate is silence too: no +80 dB of hiss.
    hiss = (np.random.default_rng(0).standard_normal((2, SR)) * 1e-5).astype(np.float32)
    result = master(hiss, SR)
    np.testing.assert_array_equal(result.audio, hiss)


def test_gain_is_capped_for_near_silence(mix):
    faint = _at_lufs(mix, -66.0)
    result = master(faint, SR, config=MasteringConfig(max_gain_db=40.0))
    assert result.gain_db == pytest.approx(40.0, abs=0.1)
    assert any("capped" in note for note in result.notes)


def test_unreachable_target_stops_and_says_so():
    # A kick-heavy mix saturates this limiter near -9 LUFS: pushing for -4 must stop early
    # instead of piling on gain reduction, and say so.
    config = MasteringConfig()
    result = master(drum_mix(seed=1), SR, target_lufs=-4.0, config=config)
    assert result.dbtp <= -1.0
    assert -14.0 < result.lufs < -6.0
    assert result.iterations < config.max_iterations
    assert any("saturates" in note for note in result.notes)


def test_mono_input_comes_out_stereo(mix):
    result = master(_at_lufs(mix[0], -20.0), SR)
    assert result.audio.shape == (2, mix.shape[1])
    np.testing.assert_array_equal(result.audio[0], result.audio[1])


def test_non_finite_input_is_refused(mix):
    bad = mix.copy()
    bad[0, 5] = np.nan
    with pytest.raises(AudioInputError, match="audio to master"):
        master(bad, SR)
