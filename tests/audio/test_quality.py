"""Tests for producer.audio.quality: measurements and findings on synthetic mixes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.signal

from producer.audio.mastering import master
from producer.audio.quality import (
    BANDS,
    HIP_HOP_REFERENCE_DB,
    assess,
    band_energies_db,
)
from producer.audio.reference_spectra import ltas_db
from producer.schemas import QualityReport

SR = 44100


def hip_hop_like_mix(seconds: float = 6.0, noise_gain: float = 0.25, seed: int = 0):
    """Noise with the measured reference's spectrum plus an 808-style kick, in stereo.

    The noise's power spectrum is `reference_spectra.ltas_db` (the long-term average spectrum
    the hip-hop reference is integrated from), independent per channel; the kick is a mono
    50 Hz sine with a short pitch drop, on every beat at 90 BPM.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    spectrum = np.fft.rfft(rng.standard_normal((2, n)), axis=-1)
    freqs = np.fft.rfftfreq(n, 1 / SR)
    shape = np.where(freqs >= 20, 10 ** (ltas_db(np.maximum(freqs, 1.0)) / 20), 0.0)
    noise = np.fft.irfft(spectrum * shape, n, axis=-1)
    out = noise_gain * noise / np.sqrt(np.mean(noise**2))
    tk = np.arange(int(0.5 * SR)) / SR
    kick = np.sin(2 * np.pi * (50 * tk + 1.4 * (1 - np.exp(-tk / 0.02)))) * np.exp(-tk / 0.25)
    for start in np.arange(0, seconds, 60 / 90):
        i = int(start * SR)
        m = min(kick.size, n - i)
        out[:, i : i + m] += kick[:m]
    return out.astype(np.float32)


@pytest.fixture(scope="module")
def mastered() -> np.ndarray:
    return master(hip_hop_like_mix(), SR).audio


def test_clean_master_has_no_findings(mastered):
    report = assess(mastered, SR)
    assert report.findings == []
    assert report.integrated_lufs == pytest.approx(-14.0, abs=0.2)
    assert report.true_peak_dbtp <= -1.0
    assert report.clipped_samples == 0
    assert [b.name for b in report.bands] == [name for name, _, _ in BANDS]
    for band in report.bands:
        assert band.reference_db == HIP_HOP_REFERENCE_DB[band.name]
    assert report.duration_s == pytest.approx(6.0)
    assert report.sample_rate == SR


def test_plain_pink_noise_with_a_kick_reads_bright_at_the_top():
    # Commercial records fall ~4.5 dB/octave (per Hz) through the mids and steeper above 2 kHz
    # (reference_spectra); pink noise falls 3, so its top band reads well above the reference.
    rng = np.random.default_rng(1)
    pink = scipy.signal.lfilter(
        [0.049922035, -0.095993537, 0.050612699, -0.004408786],
        [1, -2.494956002, 2.017265875, -0.522189400],
        rng.standard_normal((2, 6 * SR)),
        axis=-1,
    )
    kick_only = hip_hop_like_mix(noise_gain=0.0)
    mix = kick_only + 0.2 * pink / np.sqrt(np.mean(pink**2))
    report = assess(master(mix, SR).audio, SR)
    assert any(f.startswith("high ") and "above reference" in f for f in report.findings)
    deviation = {b.name: b.deviation_db for b in report.bands}
    assert deviation["high"] > deviation["mid"] + 6


def test_style_reference_is_used():
    report = assess(master(hip_hop_like_mix(), SR).audio, SR, style="lo-fi")
    from producer.audio.reference_spectra import reference_db

    assert {b.name: b.reference_db for b in report.bands} == reference_db("lo-fi")
    with pytest.raises(ValueError, match="known"):
        assess(master(hip_hop_like_mix(), SR).audio, SR, style="polka")


def test_report_round_trips_through_json(mastered):
    report = assess(mastered, SR)
    again = QualityReport.model_validate_json(report.model_dump_json())
    assert again == report
    schema = QualityReport.model_json_schema()
    assert all("description" in field for field in schema["properties"].values())


def test_clipping_is_counted():
    t = np.arange(SR) / SR
    clipped = np.clip(1.5 * np.sin(2 * np.pi * 100 * t), -1.0, 1.0)
    audio = np.stack([clipped, 0.5 * clipped]).astype(np.float32)
    audio[1, 1000] = 1.0  # a lone full-scale sample is not clipping
    expected = int(np.count_nonzero(np.abs(clipped) >= 0.999))
    report = assess(audio, SR)
    assert report.clipped_samples == expected
    assert f"clipping: {expected} samples" in report.findings


def test_too_quiet(mastered):
    report = assess(mastered * 10 ** (-12 / 20), SR)
    assert f"too quiet: {report.integrated_lufs:.1f} LUFS" in report.findings


def test_too_loud_and_over_the_true_peak_ceiling(mastered):
    report = assess(mastered * 10 ** (9 / 20), SR)  # -14 LUFS + 9 dB, no limiting
    assert any(f.startswith("too loud: -5.") for f in report.findings)
    assert f"true peak above -1 dBTP: {report.true_peak_dbtp:.1f} dBTP" in report.findings


def test_bass_boost_is_a_low_end_finding():
    b, a = scipy.signal.butter(2, 250 / (SR / 2))
    mix = hip_hop_like_mix()
    boosted = mix + 3 * scipy.signal.lfilter(b, a, mix, axis=-1)  # about +12 dB under 250 Hz
    report = assess(master(boosted, SR).audio, SR)
    low = [f for f in report.findings if f.startswith("low end")]
    assert low and "above reference" in low[0]


def test_missing_top_end_is_a_band_finding(mastered):
    b, a = scipy.signal.butter(4, 2000 / (SR / 2))
    dull = scipy.signal.lfilter(b, a, mastered, axis=-1).astype(np.float32)
    findings = assess(dull, SR).findings
    assert any(f.startswith("high") and "below reference" in f for f in findings)


def test_polarity_inverted_channel_is_a_phase_problem(mastered):
    flipped = mastered.copy()
    flipped[1] *= -1
    report = assess(flipped, SR)
    assert report.stereo_correlation < -0.5
    assert f"stereo phase problem: correlation {report.stereo_correlation:.2f}" in report.findings


def test_mono_and_dc_offset(mastered):
    mono = np.stack([mastered[0], mastered[0]])
    report = assess(mono, SR)
    assert report.stereo_correlation == pytest.approx(1.0)
    assert report.stereo_width == 0.0
    assert "mono: left and right are the same" in report.findings
    baseline = assess(mastered, SR).dc_offset  # the kick's decaying sine has a little DC
    assert baseline < 0.005
    report = assess(mastered + np.float32(0.02), SR)
    assert report.dc_offset == pytest.approx(0.02, abs=baseline + 1e-4)
    assert f"DC offset {report.dc_offset:.3f}" in report.findings


def test_over_compressed():
    squashed = np.tanh(40 * hip_hop_like_mix()) * 0.5
    report = assess(squashed, SR)
    assert report.crest_factor_db < 6.0
    assert any(f.startswith("over-compressed: crest factor") for f in report.findings)


def test_silence_reports_floors_and_stays_valid_json():
    report = assess(np.zeros((2, SR), np.float32), SR)
    assert report.findings == ["silent: nothing above the -70 LUFS gate"]
    assert report.integrated_lufs == -70.0
    assert report.true_peak_dbtp == -120.0
    assert report.sample_peak_dbfs == -120.0
    json.loads(report.model_dump_json())  # strict JSON: no Infinity


def test_band_energies_of_a_tone_and_a_low_rate():
    t = np.arange(2 * SR) / SR
    tone = np.sin(2 * np.pi * 1000 * t)
    energies = band_energies_db(np.stack([tone, tone]), SR)
    assert energies["mid"] > -0.01
    assert max(v for k, v in energies.items() if k != "mid") < -40
    # At 8 kHz the high band (from 6 kHz) is above Nyquist and left out; high-mid is cut.
    low_rate = assess(np.random.default_rng(0).standard_normal((2, 8000)) * 0.1, 8000)
    names = [b.name for b in low_rate.bands]
    assert "high" not in names
    assert low_rate.bands[-1].high_hz == 4000.0


def test_short_clip_is_measured():
    report = assess(hip_hop_like_mix(seconds=0.2), SR)
    assert report.duration_s == pytest.approx(0.2)
    assert np.isfinite(report.integrated_lufs)
