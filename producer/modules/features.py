"""Fixed-size audio features: ``audio_features(audio, sr) -> float32 (AUDIO_FEATURE_DIM,)``.

The one description of a clip (a mix or a stem) that the planner, the quality head and the
stem-set encoder read. Layout (:data:`FEATURE_NAMES` names every slot):

=========  ==========================================================================
0..31      mean over time of the 32 log-mel band levels, ``(dB + 50) / 25``
32..63     standard deviation over time of the same levels, ``dB / 10``
64         integrated loudness (BS.1770-4), ``(LUFS + 20) / 15``, floored at -70 LUFS
65         true peak, ``(dBTP + 10) / 10``, floored at -80 dBTP
66         crest factor (true peak over RMS), ``(dB - 12) / 6``; 0 dB for silence
67         RMS level, ``(dBFS + 20) / 15``, floored at -80 dBFS
68         loudness range (EBU Tech 3342), ``LU / 10``
69         share of samples at or above 0.999 full scale, ``log10(share + 1e-6) / 6 + 1``
70         spectral centroid, ``log2(Hz / 1000) / 2`` (0 for silence)
71..73     low (< 250 Hz), mid (250 Hz - 4 kHz), high (> 4 kHz) shares of the spectrum energy
74         stereo width: side energy over mid + side energy (0 for mono and silence)
=========  ==========================================================================

Each slot is scaled so that real music lands roughly in [-2, 2]; silence and empty bands give
finite values at the floors, never NaN or inf.

Sample-rate independence: frames are 40 ms long at every rate (1764 samples at 44.1 kHz, 1920
at 48 kHz, 882 at 22.05 kHz), so the FFT bins sit at the same frequencies (multiples of 25 Hz)
whatever the rate, and so do the mel triangles; band levels are power spectral densities (per
Hz, scaled to read as the variance of a flat spectrum over 22.05 kHz), which do not change when
band-limited audio is resampled; the mel basis and every band edge stop at
``min(sr / 2, 16 kHz)``, so content above 16 kHz (which only some rates can hold) never counts.
The same song at 44.1 and 48 kHz gives features within a few hundredths of each other (the
tests check it). Below 32 kHz the basis itself is narrower (it stops at sr / 2), so features
of such audio are only comparable with each other: resample to 44.1 kHz first.

Speed: about 10 ms for 4 s of stereo at 44.1 kHz on one core (true peak ~5 ms, K-weighting ~3
ms, the STFT ~2 ms). The FFT is ``scipy.fft`` in float32, several times faster than
``numpy.fft`` on these frames; one K-weighting pass serves integrated loudness and loudness
range; the mel filterbank is built once per (sample rate, FFT size).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from producer.audio import loudness  # imports scipy.signal lazily, on first use
from producer.errors import AudioInputError

__all__ = [
    "AUDIO_FEATURE_DIM",
    "FEATURE_NAMES",
    "N_MELS",
    "audio_features",
    "fft_size",
    "mel_filterbank",
]

N_MELS = 32
MEL_FMAX = 16000.0  # Hz; the top of the mel basis and of every band, whatever the rate
BIN_HZ = 25.0  # FFT bin spacing at every rate: 40 ms frames, hop 20 ms
MIN_SAMPLE_RATE = 8000.0  # below it the 32 mel bands get narrower than an FFT bin
_REF_BANDWIDTH = 22050.0  # Hz: a flat spectrum of variance v over this band reads v

# Band edges (Hz) for the energy shares; the high band ends at the mel basis' top.
LOW_MID_HZ = 250.0
MID_HIGH_HZ = 4000.0

CLIP_LEVEL = 0.999  # a sample at or above this (linear) counts as clipped
# STFT frames per FFT call: bounds memory on long songs, and blocks of this size (~2 MB) are
# reused by the allocator, where 4x larger ones were mapped afresh (page faults) on every call.
_FRAME_BATCH = 128

# Floors (dB) that keep levels finite on silence.
_MEL_FLOOR_DB = -100.0
_LUFS_FLOOR = -70.0  # the BS.1770 absolute gate: nothing quieter is measured
_LEVEL_FLOOR_DB = -80.0

_METER_NAMES = (
    "integrated_lufs",
    "true_peak_dbtp",
    "crest_factor_db",
    "rms_db",
    "loudness_range_lu",
    "clip_share",
    "spectral_centroid",
    "low_share",
    "mid_share",
    "high_share",
    "stereo_width",
)

#: Name of every feature slot, in order.
FEATURE_NAMES: tuple[str, ...] = (
    tuple(f"mel_mean_{i:02d}" for i in range(N_MELS))
    + tuple(f"mel_std_{i:02d}" for i in range(N_MELS))
    + _METER_NAMES
)
#: Length of the vector :func:`audio_features` returns.
AUDIO_FEATURE_DIM: int = len(FEATURE_NAMES)


# ---------------------------------------------------------------------------- mel basis


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, ``htk=False``): linear to 1 kHz, log above."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    with np.errstate(divide="ignore"):
        log_part = min_log_mel + np.log(np.maximum(hz, 1e-12) / min_log_hz) / logstep
    return np.where(hz >= min_log_hz, log_part, hz / f_sp)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    return np.where(
        mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel
    )


def fft_size(sample_rate: float) -> int:
    """FFT size giving 25 Hz bins (40 ms frames): 1764 at 44.1 kHz, 1920 at 48, 882 at 22.05.

    Not a power of two on purpose: with the same bin spacing at every rate, the FFT bins — and
    so the mel triangles — sit at the same frequencies, and a pure tone reads the same at 44.1
    and 48 kHz (with power-of-two sizes it moved by up to 2 dB between its bands).
    """
    return max(16, round(sample_rate / BIN_HZ))


@functools.lru_cache(maxsize=16)
def mel_filterbank(sample_rate: float, n_fft: int, n_mels: int = N_MELS) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) float64 triangles, equal to ``librosa.filters.mel`` (slaney).

    ``fmin = 0``, ``fmax = min(sr / 2, 16 kHz)``, area-normalised ("slaney" norm: each
    triangle integrates to 1 over Hz). Written out here because importing ``librosa.filters``
    takes seconds; the tests compare the two.
    """
    fft_freqs = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    mel_freqs = _mel_corners(sample_rate, n_mels)
    widths = np.diff(mel_freqs)
    ramps = mel_freqs[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_freqs[2:] - mel_freqs[:-2]))[:, None]
    return weights


@dataclass(frozen=True)
class _MelBands:
    """A mel filterbank stored by segments, for a matrix product without BLAS.

    Between two consecutive triangle corners ``f_j`` and ``f_(j+1)`` every FFT bin lies on the
    rising edge of band ``j`` and on the falling edge of band ``j - 1``, and on no other band.
    So with ``up[k]`` / ``down[k]`` the two weights of bin ``k`` and one ``np.add.reduceat``
    per edge over those segments, ``band_i = rise[i] + fall[i + 1]``. This costs two
    multiply-adds per bin where the dense product costs ``n_mels``, and, unlike a BLAS call of
    this size, never starts threads: threaded BLAS products this small are slower, and stall
    when other processes hold the cores (as Ray workers and Serve replicas do).
    """

    lo: int  # first bin any band uses
    starts: np.ndarray  # segment start offsets from lo, one per corner (n_mels + 1)
    up: np.ndarray  # (bins used,) float32 weight on the rising edge of the segment's band
    down: np.ndarray  # (bins used,) float32 weight on the falling edge of the band before

    def __call__(self, power: np.ndarray) -> np.ndarray:
        """(frames, bins) power → (frames, n_mels) band levels."""
        used = power[:, self.lo : self.lo + self.up.size]
        rise = np.add.reduceat(used * self.up, self.starts, axis=1)
        fall = np.add.reduceat(used * self.down, self.starts, axis=1)
        return rise[:, :-1] + fall[:, 1:]


def _segment_bands(weights: np.ndarray, freqs: np.ndarray, corners: np.ndarray) -> _MelBands:
    """Split a dense (n_mels, bins) triangle matrix into :class:`_MelBands` form."""
    n_mels = weights.shape[0]
    used = np.flatnonzero(weights.any(axis=0))
    lo, hi = int(used[0]), int(used[-1]) + 1
    # Segment of each bin: the number of corners at or below it, minus one (corner j starts
    # segment j); bins exactly on a corner belong to the segment it starts.
    segment = np.searchsorted(corners, freqs[lo:hi], side="right") - 1
    segment = np.clip(segment, 0, n_mels)
    columns = np.arange(lo, hi)
    up = np.where(segment < n_mels, weights[np.minimum(segment, n_mels - 1), columns], 0.0)
    down = np.where(segment > 0, weights[np.maximum(segment - 1, 0), columns], 0.0)
    starts = np.searchsorted(segment, np.arange(n_mels + 1))
    if np.any(np.diff(starts) == 0) or starts[-1] >= hi - lo:
        raise ValueError("mel bands narrower than an FFT bin")  # cannot happen at 25 Hz bins
    return _MelBands(lo, starts, up.astype(np.float32), down.astype(np.float32))


def _mel_corners(sample_rate: float, n_mels: int = N_MELS) -> np.ndarray:
    """The n_mels + 2 triangle corner frequencies (Hz) of :func:`mel_filterbank`."""
    fmax = min(sample_rate / 2.0, MEL_FMAX)
    return _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(fmax), n_mels + 2))


@functools.lru_cache(maxsize=16)
def _analysis_setup(sample_rate: float, n_fft: int):
    """Window, PSD-scaled mel bands and bin masks for one (rate, FFT size)."""
    window = np.hanning(n_fft).astype(np.float32)
    # One-sided PSD per Hz of bin k: 2 |X_k|^2 / (sr * sum(w^2)). A slaney triangle integrates
    # to 1 over Hz, so sum_k w_k PSD_k df (df = sr / n_fft) is the band's mean PSD; times the
    # reference bandwidth it reads as the variance of a flat spectrum. The sr cancels.
    psd_scale = 2.0 / (float(np.sum(window.astype(np.float64) ** 2)) * n_fft)
    freqs = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    weights = mel_filterbank(sample_rate, n_fft) * (psd_scale * _REF_BANDWIDTH)
    mel = _segment_bands(weights, freqs, _mel_corners(sample_rate))
    fmax = min(sample_rate / 2.0, MEL_FMAX)
    in_range = (freqs > 0) & (freqs <= fmax)  # DC carries no musical energy
    low = in_range & (freqs < LOW_MID_HZ)
    mid = in_range & (freqs >= LOW_MID_HZ) & (freqs < MID_HIGH_HZ)
    high = in_range & (freqs >= MID_HIGH_HZ)
    return window, mel, freqs, in_range, (low, mid, high)


# ------------------------------------------------------------------------------- helpers


def _as_channels(audio: np.ndarray) -> np.ndarray:
    """(2, T) float32 from 1 or 2 channels; refuses what cannot be a clip."""
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] not in (1, 2):
        raise AudioInputError(
            f"audio features need a (channels, samples) array with 1 or 2 channels, "
            f"got shape {tuple(np.shape(audio))}"
        )
    if x.shape[1] == 0:
        raise AudioInputError("audio features need at least one sample, got an empty array")
    if not np.all(np.isfinite(x)):
        raise AudioInputError("audio features need finite samples (found NaN or inf)")
    # Mono is measured as it plays: the same signal on both speakers (BS.1770 would otherwise
    # read one channel 3 dB quieter than the same audio on two).
    return np.repeat(x, 2, axis=0) if x.shape[0] == 1 else x


def _db(power_ratio: float, floor: float) -> float:
    """10 log10 of a power ratio, floored (finite for zero)."""
    return max(floor, 10.0 * math.log10(power_ratio)) if power_ratio > 0 else floor


def _spectral_stats(
    x: np.ndarray, n_fft: int, window: np.ndarray, mel: _MelBands
) -> tuple[np.ndarray, np.ndarray]:
    """Mel band levels per frame ``(frames, n_mels)`` and the mean power spectrum ``(bins,)``.

    50%-overlapping Hann frames, transformed a batch at a time so that a long song never holds
    all its spectra at once; audio shorter than one frame is zero-padded to one frame. The
    channels' powers are averaged (not their samples, which would cancel anti-phase content).
    """
    import scipy.fft  # ~0.7 s to import; only feature extraction needs it

    hop = n_fft // 2
    if x.shape[1] < n_fft:
        x = np.pad(x, ((0, 0), (0, n_fft - x.shape[1])))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft, axis=-1)[:, ::hop]  # a view
    n_frames = frames.shape[1]
    mel_levels = np.empty((n_frames, N_MELS), np.float32)
    spectrum = np.zeros(n_fft // 2 + 1)
    for lo in range(0, n_frames, _FRAME_BATCH):
        spectra = scipy.fft.rfft(frames[:, lo : lo + _FRAME_BATCH] * window, axis=-1)
        power = spectra.real**2  # (C, batch, bins) float32
        power += spectra.imag**2
        power = power.mean(axis=0)
        mel_levels[lo : lo + _FRAME_BATCH] = mel(power)
        spectrum += power.sum(axis=0, dtype=np.float64)
    return mel_levels, spectrum / n_frames


# ------------------------------------------------------------------------------ features


def audio_features(audio: np.ndarray, sample_rate: float) -> np.ndarray:
    """Features of a (C, T) or (T,) clip (1 or 2 channels): float32 ``(AUDIO_FEATURE_DIM,)``.

    See the module docstring for the layout and scaling. Mono is measured as the same signal
    on both channels. Raises ``AudioInputError`` for empty, non-finite or wrongly shaped
    arrays and for sample rates under 8 kHz; silence is fine (finite floor values).
    """
    x = _as_channels(audio)
    sr = float(sample_rate)
    if not sr >= MIN_SAMPLE_RATE:  # also refuses NaN
        raise AudioInputError(
            f"audio features need a sample rate of at least {MIN_SAMPLE_RATE:.0f} Hz, got {sr:g}"
        )
    n_fft = fft_size(sr)
    window, mel, freqs, in_range, bands = _analysis_setup(sr, n_fft)

    # Spectral part: log-mel levels per frame, their mean and spread over time.
    mel_levels, spectrum = _spectral_stats(x, n_fft, window, mel)
    mel_db = 10.0 * np.log10(np.maximum(mel_levels, 10.0 ** (_MEL_FLOOR_DB / 10.0)))
    mel_mean = (mel_db.mean(axis=0) + 50.0) / 25.0
    mel_std = mel_db.std(axis=0) / 10.0

    total = float(spectrum[in_range].sum())
    if total > 0:
        centroid_hz = float((freqs[in_range] * spectrum[in_range]).sum()) / total
        centroid = math.log2(max(centroid_hz, 20.0) / 1000.0) / 2.0
        shares = [float(spectrum[b].sum()) / total for b in bands]
    else:
        centroid, shares = 0.0, [0.0, 0.0, 0.0]

    # Level meters.
    k_power = loudness.k_weighted_power(x, sr)
    lufs = loudness.integrated_loudness_from_power(k_power, sr)
    lufs = max(_LUFS_FLOOR, lufs) if math.isfinite(lufs) else _LUFS_FLOOR
    lra = loudness.loudness_range_from_short_term(
        loudness.short_term_loudness_from_power(k_power, sr)
    )
    true_peak = loudness.true_peak_dbtp(x, sr)
    true_peak = max(_LEVEL_FLOOR_DB, true_peak) if math.isfinite(true_peak) else _LEVEL_FLOOR_DB

    mean_square = float(np.mean(np.square(x, dtype=np.float64)))
    rms_db = _db(mean_square, _LEVEL_FLOOR_DB)
    # Crest from the true peak: the sample peak of the same audio moves with the sample rate
    # (where samples fall on the waveform), the true peak hardly does.
    crest_db = max(0.0, true_peak - rms_db) if mean_square > 0 else 0.0
    clip_share = float(np.count_nonzero(np.abs(x) >= CLIP_LEVEL)) / x.size

    # Width = S^2 / (M^2 + S^2) with M = L + R, S = L - R (the halves cancel). Sums of squares,
    # not float64 dot products: OpenBLAS runs a dot this long on threads, and in a process that
    # has imported torch and scipy (whose thread pools compete) it took 8-20 ms, not 0.05.
    side = float(np.sum(np.square(x[0] - x[1], dtype=np.float64)))
    both = side + float(np.sum(np.square(x[0] + x[1], dtype=np.float64)))
    width = min(1.0, max(0.0, side / both)) if both > 0 else 0.0

    meters = [
        (lufs + 20.0) / 15.0,
        (true_peak + 10.0) / 10.0,
        (crest_db - 12.0) / 6.0,
        (rms_db + 20.0) / 15.0,
        lra / 10.0,
        math.log10(clip_share + 1e-6) / 6.0 + 1.0,
        centroid,
        *shares,
        width,
    ]
    out = np.concatenate([mel_mean, mel_std, np.asarray(meters)]).astype(np.float32)
    assert out.shape == (AUDIO_FEATURE_DIM,)
    return out
