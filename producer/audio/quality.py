"""The objective quality meter: ``assess(audio, sr) -> QualityReport``.

Measures loudness (BS.1770-4), loudness range, true and sample peak, crest factor, clipping, DC
offset, stereo correlation and width, and the balance of six frequency bands against a hip-hop
reference; then turns what is out of range into plain findings ("too quiet: -23.1 LUFS"). A
well-made hip-hop master gives an empty list. Every threshold is a named constant below.

Band balance. The band energies come from one averaged power spectrum (Hann-windowed FFT
frames of ~0.2 s with 50% overlap; not one filter per band), summed over both channels, as a
share of the energy of all six bands. The reference is :data:`HIP_HOP_REFERENCE_DB` (or a
style's curve, ``assess(..., style="trap")``), from :mod:`producer.audio.reference_spectra`:
the long-term average spectrum of commercial popular music measured by Elowsson & Friberg
(AES 142nd Convention, 2017: 12,345 tracks; its published fit and slopes) and Pestana et al.
(AES 135th Convention, 2013: 772 number-one records, ~5 dB/octave from 100 Hz to 4 kHz), with
a modelled hip-hop low end and a drum-led lift of the low end and top. That module says which
parts are measured and which are judgment. Until the project has band statistics of its own
corpus the tolerances stay wide (±6 dB), so only clear imbalances are reported. The tests
build a mix with the reference's spectrum (noise shaped by ``reference_spectra.ltas_db`` plus a
50 Hz kick), master it, and check that it draws no findings; plain pink noise with the same
kick reads bright at the top (commercial records fall ~4.5-9 dB/octave per Hz up there, pink
noise 3), which is what the measurements say.

Deviations are taken after removing the median offset over the bands, because shares of a
total saturate: boosting the band that already holds most of the energy barely raises its
share, but lowers every other band's. Against the median, a +10 dB bass boost reads as +10 dB
low end, not as four quiet bands.
"""

from __future__ import annotations

import math

import numpy as np

from producer.audio.io import AudioLimits, check_audio_array
from producer.audio.loudness import (
    ABSOLUTE_GATE_LUFS,
    integrated_loudness_from_power,
    k_weighted_power,
    loudness_range_from_short_term,
    sample_peak_db,
    short_term_loudness_from_power,
    true_peak_dbtp,
)
from producer.audio.reference_spectra import BANDS, reference_db
from producer.audio.report import BandEnergy, QualityReport

__all__ = [
    "BANDS",
    "HIP_HOP_REFERENCE_DB",
    "assess",
    "band_energies_db",
]

# Share of total energy per band, in dB, of a typical hip-hop master: the measured curve of
# `reference_spectra` (module docstring there). Shares sum to one up to the rounding.
HIP_HOP_REFERENCE_DB: dict[str, float] = reference_db(None)

# Finding thresholds.
TOO_QUIET_LUFS = -20.0  # streaming normalises to about -14; a master under -20 is too quiet
TOO_LOUD_LUFS = -7.0  # past -7 LUFS even loud hip-hop masters are crushed and distort on codecs
TRUE_PEAK_MAX_DBTP = -1.0  # EBU R128 / streaming delivery ceiling; above it codecs clip
CLIP_LEVEL = 0.999  # a sample at or above this (linear) counts towards clipping...
CLIP_MIN_SAMPLES = 1  # ...if it is in a run of 2+ such samples; report from this many on
CREST_MIN_DB = 6.0  # peak-to-RMS under 6 dB: a square-wave-like, over-compressed master
DC_OFFSET_MAX = 0.01  # a channel mean above 1% of full scale (-40 dBFS) wastes headroom
CORRELATION_MIN = -0.1  # long-term L/R correlation under this: anti-phase, collapses in mono
MONO_SIDE_SHARE_MAX = 1e-4  # side energy under 0.01% (-40 dB) of the total: a mono mix
LOW_END_TOLERANCE_DB = 6.0  # sub + bass (20-250 Hz) together, against the reference
BAND_TOLERANCE_DB = 6.0  # each band from low-mid up, against the reference

# Floors that keep the report finite (and valid JSON) for silence.
_LUFS_FLOOR = ABSOLUTE_GATE_LUFS
_DB_FLOOR = -120.0
_BAND_FLOOR_DB = -120.0

_NO_LENGTH_LIMIT = AudioLimits(max_seconds=math.inf)
_FFT_BATCH = 256  # spectrum frames transformed at once
_BAND_LABEL = {"low_mid": "low-mid", "high_mid": "high-mid"}


def band_energies_db(audio: np.ndarray, sample_rate: float) -> dict[str, float]:
    """Energy share of each band in :data:`BANDS`, in dB relative to all bands together.

    ``audio`` is ``(C, T)``; the channels' spectra are summed. Bands that start at or above the
    Nyquist frequency are left out; a band that straddles it is cut there.
    """
    x = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    size = 2 ** max(8, round(math.log2(sample_rate / 5.0)))  # ~5 Hz bins: 8192 at 44.1 kHz
    freqs = np.fft.rfftfreq(size, 1.0 / sample_rate)
    spectrum = _average_power_spectrum(x, size)
    nyquist = sample_rate / 2.0
    energy = {}
    for name, low, high in BANDS:
        if low >= nyquist:
            continue
        in_band = (freqs >= low) & (freqs < min(high, nyquist))
        energy[name] = float(spectrum[in_band].sum())
    total = sum(energy.values())
    return {
        name: (10.0 * math.log10(e / total) if e > 0 and total > 0 else _BAND_FLOOR_DB)
        for name, e in energy.items()
    }


def _average_power_spectrum(x: np.ndarray, size: int) -> np.ndarray:
    """Mean |FFT|^2 of Hann-windowed frames with 50% overlap, summed over channels."""
    channels, n = x.shape
    if n < size:
        x = np.pad(x, ((0, 0), (0, size - n)))
        n = size
    import scipy.fft  # here, not at the top: importing it costs about a second

    window = np.hanning(size).astype(np.float32)
    total = np.zeros(size // 2 + 1)
    count = 0
    # Two reshapes, the second shifted by half a frame, make the 50%-overlapping frames; they
    # are transformed a batch at a time to bound the memory of the spectra.
    for offset in (0, size // 2):
        frames_count = (n - offset) // size
        frames = x[:, offset : offset + frames_count * size].reshape(channels, -1, size)
        for lo in range(0, frames_count, _FFT_BATCH):
            spectra = scipy.fft.rfft(frames[:, lo : lo + _FFT_BATCH] * window, axis=-1, workers=-1)
            total += (spectra.real**2 + spectra.imag**2).sum(axis=(0, 1))
        count += frames_count
    return total / max(count, 1)


def _clipped_samples(x: np.ndarray) -> int:
    """Samples at or above CLIP_LEVEL that have a neighbour at or above it on their channel.

    A lone full-scale sample is what a well-set limiter produces now and then; clipping makes
    flat tops, i.e. runs. Every sample of every run of 2+ is counted.
    """
    hot = np.abs(x) >= CLIP_LEVEL
    neighbour = np.zeros_like(hot)
    neighbour[:, 1:] |= hot[:, :-1]
    neighbour[:, :-1] |= hot[:, 1:]
    return int(np.count_nonzero(hot & neighbour))


def _stereo(x: np.ndarray) -> tuple[float, float]:
    """Long-term L/R correlation and side share S²/(M²+S²) of a (2, T) array."""
    left, right = x[0], x[1]
    ll, rr, lr = float(left @ left), float(right @ right), float(left @ right)
    if ll == 0.0 and rr == 0.0:
        return 1.0, 0.0  # silence: identical channels
    correlation = lr / math.sqrt(ll * rr) if ll > 0 and rr > 0 else 0.0
    mid, side = ll + rr + 2 * lr, ll + rr - 2 * lr  # 4 * sum(M^2), 4 * sum(S^2)
    side_share = side / (mid + side) if mid + side > 0 else 0.0
    return max(-1.0, min(1.0, correlation)), max(0.0, min(1.0, side_share))


def _median_offset(energies: dict[str, float], reference: dict[str, float]) -> float:
    """Median over bands of (measured - reference): the overall level the deviations ignore."""
    offsets = [energies[name] - reference[name] for name in energies]
    return float(np.median(offsets)) if offsets else 0.0


def _band_rows(
    energies: dict[str, float], sample_rate: float, reference: dict[str, float]
) -> list[BandEnergy]:
    median = _median_offset(energies, reference)
    return [
        BandEnergy(
            name=name,
            low_hz=low,
            high_hz=min(high, sample_rate / 2.0),
            energy_db=round(energies[name], 2),
            reference_db=reference[name],
            deviation_db=round(energies[name] - reference[name] - median, 2),
        )
        for name, low, high in BANDS
        if name in energies
    ]


def _low_end_deviation(energies: dict[str, float], reference: dict[str, float]) -> float | None:
    """Sub + bass together against the reference, after the same median offset as the bands."""
    low = [name for name in ("sub", "bass") if name in energies]
    if not low:
        return None
    measured = 10.0 * math.log10(sum(10 ** (energies[name] / 10) for name in low))
    expected = 10.0 * math.log10(sum(10 ** (reference[name] / 10) for name in low))
    return measured - expected - _median_offset(energies, reference)


def assess(audio: np.ndarray, sample_rate: int, *, style: str | None = None) -> QualityReport:
    """Measure a mix or master and list what is wrong with it (see the module docstring).

    ``audio`` is anything :func:`~producer.audio.io.check_audio_array` accepts; it is folded to
    stereo first, so a mono input reads as "mono". Any length is accepted. ``style`` picks the
    style's tonal reference (``reference_spectra.STYLES``); None is the generic hip-hop one.

    Raises:
        AudioInputError: when the audio is unusable (NaN/Inf, empty, bad shape or rate).
        ValueError: for a style with no reference curve.
    """
    reference = HIP_HOP_REFERENCE_DB if style is None else reference_db(style)
    x = check_audio_array(audio, sample_rate, name="audio to assess", limits=_NO_LENGTH_LIMIT)
    n = x.shape[1]
    power = k_weighted_power(x, sample_rate)
    lufs = integrated_loudness_from_power(power, sample_rate)
    lra = loudness_range_from_short_term(short_term_loudness_from_power(power, sample_rate))
    tp = true_peak_dbtp(x, sample_rate)
    peak_db = sample_peak_db(x)
    mean_square = float(np.einsum("ct,ct->", x, x, dtype=np.float64)) / x.size
    crest = peak_db - 10.0 * math.log10(mean_square) if mean_square > 0 else 0.0
    clipped = _clipped_samples(x)
    dc = float(np.abs(x.mean(axis=1, dtype=np.float64)).max())
    correlation, side_share = _stereo(x)
    energies = band_energies_db(x, sample_rate)
    bands = _band_rows(energies, sample_rate, reference)

    findings: list[str] = []
    if not math.isfinite(lufs):
        findings.append(f"silent: nothing above the {ABSOLUTE_GATE_LUFS:g} LUFS gate")
    else:
        findings += _level_findings(lufs, tp, clipped, crest)
        findings += _balance_findings(bands, _low_end_deviation(energies, reference))
        if correlation < CORRELATION_MIN:
            findings.append(f"stereo phase problem: correlation {correlation:.2f}")
        if side_share < MONO_SIDE_SHARE_MAX:
            findings.append("mono: left and right are the same")
    if dc > DC_OFFSET_MAX:
        findings.append(f"DC offset {dc:.3f}")

    return QualityReport(
        duration_s=n / sample_rate,
        sample_rate=int(sample_rate),
        integrated_lufs=round(max(lufs, _LUFS_FLOOR), 2),
        loudness_range_lu=round(lra, 2),
        true_peak_dbtp=round(max(tp, _DB_FLOOR), 2),
        sample_peak_dbfs=round(max(peak_db, _DB_FLOOR), 2),
        crest_factor_db=round(crest, 2),
        clipped_samples=clipped,
        dc_offset=round(dc, 5),
        stereo_correlation=round(correlation, 3),
        stereo_width=round(side_share, 4),
        bands=bands,
        findings=findings,
    )


def _level_findings(lufs: float, tp: float, clipped: int, crest: float) -> list[str]:
    findings = []
    if clipped >= CLIP_MIN_SAMPLES:
        findings.append(f"clipping: {clipped} samples")
    if lufs < TOO_QUIET_LUFS:
        findings.append(f"too quiet: {lufs:.1f} LUFS")
    elif lufs > TOO_LOUD_LUFS:
        findings.append(f"too loud: {lufs:.1f} LUFS")
    if tp > TRUE_PEAK_MAX_DBTP:
        findings.append(f"true peak above {TRUE_PEAK_MAX_DBTP:g} dBTP: {tp:.1f} dBTP")
    if crest < CREST_MIN_DB:
        findings.append(f"over-compressed: crest factor {crest:.1f} dB")
    return findings


def _balance_findings(bands: list[BandEnergy], low_end: float | None) -> list[str]:
    findings = []
    if low_end is not None and abs(low_end) > LOW_END_TOLERANCE_DB:
        side = "above" if low_end > 0 else "below"
        findings.append(f"low end {abs(low_end):.1f} dB {side} reference")
    for band in bands:
        if band.name in ("sub", "bass") or abs(band.deviation_db) <= BAND_TOLERANCE_DB:
            continue
        side = "above" if band.deviation_db > 0 else "below"
        label = _BAND_LABEL.get(band.name, band.name)
        findings.append(f"{label} {abs(band.deviation_db):.1f} dB {side} reference")
    return findings
