"""Loudness and peak meters: ITU-R BS.1770-4 loudness, EBU Tech 3342 loudness range, true peak.

Pure functions over ``(C, T)`` float arrays (a 1-D array is one channel). They are vectorised
end to end — one K-weighting pass (``scipy.signal.sosfilt``), then every block or window mean
comes from one ``np.add.reduceat`` pass and a short cumulative sum; true peak is a polyphase
matrix product — so a 3-minute stereo file takes about 0.2 s per measure, where
``pyloudnorm.Meter`` loops over blocks in Python (0.8 s for integrated loudness alone). The
K-weighting filters, block layout and gating are pyloudnorm's own (the tests check the two
agree to 1e-6 LU), so numbers match the reference implementation that the rest of the Python
audio world uses.

Silence: every level in dB here (loudness, sample peak, true peak) is ``-inf`` for digital
silence, and integrated loudness is ``-inf`` whenever no 400 ms block reaches the -70 LUFS
absolute gate (that is what BS.1770 gating gives: nothing to average). Callers test
``math.isfinite``; the JSON report layer floors them (see ``producer.audio.quality``). The
loudness range of audio with no short-term value above the gate is 0.0 LU.

Short audio: BS.1770 needs one full 400 ms block and pyloudnorm raises below that. Here a clip
shorter than a block is measured as a single block over its whole length (still gated at
-70 LUFS), and a clip shorter than 3 s gives one short-term value over its whole length.

Loudness functions accept up to 5 channels with the BS.1770 channel weights
(L, R, C: 1.0; Ls, Rs: 1.41); fold to stereo first for anything else.
"""

from __future__ import annotations

import functools
import math

import numpy as np

# scipy.signal (and pyloudnorm, which imports it) are imported inside the functions that use
# them: scipy.signal pulls in scipy.stats and takes seconds to import, which every command
# that merely imports producer.audio would otherwise pay.

__all__ = [
    "ABSOLUTE_GATE_LUFS",
    "integrated_loudness",
    "integrated_loudness_from_power",
    "k_weighted_power",
    "loudness_range",
    "loudness_range_from_short_term",
    "oversampled_peak_envelope",
    "sample_peak_db",
    "short_term_loudness",
    "short_term_loudness_from_power",
    "true_peak_dbtp",
]

# BS.1770-4 constants.
ABSOLUTE_GATE_LUFS = -70.0  # blocks quieter than this are ignored
_RELATIVE_GATE_LU = -10.0  # integrated: blocks 10 LU under the ungated mean are ignored
_BLOCK_S = 0.4  # gating block length
_BLOCK_OVERLAP = 0.75  # blocks start every 100 ms
_LOUDNESS_OFFSET = -0.691  # makes a 997 Hz 0 dBFS sine in one channel read -3.01 LKFS
_CHANNEL_GAINS = (1.0, 1.0, 1.0, 1.41, 1.41)  # L, R, C, Ls, Rs

# EBU Tech 3342 (loudness range) constants.
_SHORT_TERM_S = 3.0  # short-term loudness window
_SHORT_TERM_HOP_S = 0.1  # one short-term value every 100 ms (10 Hz)
_LRA_RELATIVE_GATE_LU = -20.0
_LRA_PERCENTILES = (10.0, 95.0)

_FILTER_CHUNK = 1 << 16  # samples per K-weighting call

# True peak: resample_poly's default anti-imaging filter has 10 input samples each side.
_TP_HALF_TAPS = 10
_TP_FRAME = 32  # output samples per GEMM row; 2 * _TP_HALF_TAPS must fit in one frame
# Frames per matrix product. Kept small on purpose: m*n*k = 80*96*32 stays under OpenBLAS's
# threading threshold (262144), and threaded products this small are slower, and collapse
# (10x) when other processes compete for the cores.
_TP_CHUNK_FRAMES = 80
_TP_TINY = 1e-20  # inputs under this (-400 dBFS) are zeroed: see oversampled_peak_envelope


def _as_channels(audio: np.ndarray, dtype=np.float64) -> np.ndarray:
    """View a (C, T) or (T,) array as (C, T) in ``dtype``."""
    arr = np.asarray(audio, dtype=dtype)
    return arr[None, :] if arr.ndim == 1 else arr


def _db(value: float) -> float:
    """Amplitude to dB, -inf for zero."""
    return 20.0 * math.log10(value) if value > 0 else -math.inf


def _power_to_lufs(mean_power: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return _LOUDNESS_OFFSET + 10.0 * np.log10(np.maximum(mean_power, 0.0))


# ----------------------------------------------------------------------------- K-weighting


@functools.lru_cache(maxsize=16)
def _k_weighting_sos(sample_rate: float) -> np.ndarray:
    """pyloudnorm's two K-weighting biquads (shelf, then high-pass) as one SOS array."""
    from pyloudnorm.iirfilter import IIRfilter

    # The same parameters pyloudnorm.Meter uses for filter_class="K-weighting".
    stages = (
        IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sample_rate, "high_shelf"),
        IIRfilter(0.0, 0.5, 38.0, sample_rate, "high_pass"),
    )
    return np.array([np.concatenate([s.b, s.a]) for s in stages])


def k_weighted_power(audio: np.ndarray, sample_rate: float) -> np.ndarray:
    """Channel-weighted power of the K-weighted signal per sample, ``sum_c G_c * z_c**2``.

    The shared first step of every BS.1770 measure: pass the result to the ``*_from_power``
    functions to measure several things with a single filtering pass. Shape ``(T,)``, float64.
    """
    x = _as_channels(audio, np.float32)
    channels, n = x.shape
    if channels > len(_CHANNEL_GAINS):
        raise ValueError(f"loudness supports at most 5 channels, got {channels}")
    import scipy.signal

    sos = _k_weighting_sos(float(sample_rate))
    # The filter runs in float64 (float32 recursion errs by ~0.02 LU on bass at 192 kHz, where
    # the 38 Hz high-pass poles sit very close to 1), in cache-sized chunks that carry the
    # filter state across: same result as one call, without whole-signal float64 copies.
    state = np.zeros((sos.shape[0], channels, 2))
    gains = np.asarray(_CHANNEL_GAINS[:channels])[:, None]
    power = np.empty(n)
    for lo in range(0, n, _FILTER_CHUNK):
        chunk = x[:, lo : lo + _FILTER_CHUNK].astype(np.float64)
        z, state = scipy.signal.sosfilt(sos, chunk, axis=-1, zi=state)
        np.square(z, out=z)
        np.sum(z * gains, axis=0, out=power[lo : lo + _FILTER_CHUNK])
    return power


def _window_means(power: np.ndarray, starts: np.ndarray, stops: np.ndarray, norm: float):
    """Sum of ``power`` over [start, stop) for many windows at once, divided by ``norm``.

    One ``np.add.reduceat`` pass sums the stretches between consecutive window edges; each
    window is then a difference of a short cumulative sum over those stretches. Cheaper than a
    cumulative sum over every sample, and more precise (no large running total).
    """
    n = power.shape[0]
    stops = np.minimum(stops, n)
    edges = np.unique(np.concatenate([starts, stops, [n]]))
    stretch = np.add.reduceat(power, edges[:-1]) if edges.size > 1 else np.zeros(0)
    cumulative = np.concatenate([[0.0], np.cumsum(stretch)])
    return (
        cumulative[np.searchsorted(edges, stops)] - cumulative[np.searchsorted(edges, starts)]
    ) / norm


# ---------------------------------------------------------------------- integrated loudness


def integrated_loudness_from_power(power: np.ndarray, sample_rate: float) -> float:
    """Gated integrated loudness (LUFS) from :func:`k_weighted_power` output."""
    n = power.shape[0]
    if n == 0:
        return -math.inf
    block = _BLOCK_S * sample_rate
    if n < block:
        level = float(_power_to_lufs(np.mean(power)))
        return level if level >= ABSOLUTE_GATE_LUFS else -math.inf
    # Block layout exactly as pyloudnorm writes it (same float expressions, same truncation),
    # so the two agree to rounding.
    step = 1.0 - _BLOCK_OVERLAP
    n_blocks = int(np.round((n / sample_rate - _BLOCK_S) / (_BLOCK_S * step))) + 1
    j = np.arange(n_blocks)
    starts = (_BLOCK_S * (j * step) * sample_rate).astype(np.int64)
    stops = (_BLOCK_S * (j * step + 1) * sample_rate).astype(np.int64)
    z = _window_means(power, starts, stops, block)
    levels = _power_to_lufs(z)

    above_abs = levels >= ABSOLUTE_GATE_LUFS
    if not above_abs.any():
        return -math.inf
    relative_gate = float(_power_to_lufs(z[above_abs].mean())) + _RELATIVE_GATE_LU
    gated = (levels > relative_gate) & (levels > ABSOLUTE_GATE_LUFS)
    return float(_power_to_lufs(z[gated].mean()))


def integrated_loudness(audio: np.ndarray, sample_rate: float) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770-4, gated), ``-inf`` for silence.

    Matches ``pyloudnorm.Meter(sample_rate).integrated_loudness`` on audio of 0.4 s or more;
    shorter audio is measured as one block (see the module docstring).
    """
    return integrated_loudness_from_power(k_weighted_power(audio, sample_rate), sample_rate)


# -------------------------------------------------------------- short-term loudness and LRA


def short_term_loudness_from_power(power: np.ndarray, sample_rate: float) -> np.ndarray:
    """Short-term loudness (3 s windows every 100 ms, LUFS) from :func:`k_weighted_power`."""
    n = power.shape[0]
    window = round(_SHORT_TERM_S * sample_rate)
    if n == 0:
        return np.empty(0)
    if n < window:
        return _power_to_lufs(np.array([power.mean()]))
    hop = round(_SHORT_TERM_HOP_S * sample_rate)
    starts = np.arange(0, n - window + 1, hop)
    return _power_to_lufs(_window_means(power, starts, starts + window, window))


def short_term_loudness(audio: np.ndarray, sample_rate: float) -> np.ndarray:
    """Short-term loudness in LUFS: 3 s rectangular windows, one value every 100 ms.

    K-weighted as BS.1770 (EBU Tech 3341 "S" meter). Window ``k`` covers
    ``[k * 0.1 s, k * 0.1 s + 3 s)``; only full windows are returned, except that audio
    shorter than 3 s gives one value over its whole length. Silent windows are ``-inf``.
    """
    return short_term_loudness_from_power(k_weighted_power(audio, sample_rate), sample_rate)


def loudness_range_from_short_term(short_term: np.ndarray) -> float:
    """Loudness range (LU) from a short-term loudness series (EBU Tech 3342)."""
    st = np.asarray(short_term, dtype=np.float64)
    st = st[st >= ABSOLUTE_GATE_LUFS]
    if st.size == 0:
        return 0.0
    # The relative gate sits 20 LU under the power mean of the absolutely-gated values.
    gate = 10.0 * np.log10(np.mean(10.0 ** (st / 10.0))) + _LRA_RELATIVE_GATE_LU
    st = st[st >= gate]
    low, high = np.percentile(st, _LRA_PERCENTILES)
    return float(high - low)


def loudness_range(audio: np.ndarray, sample_rate: float) -> float:
    """Loudness range in LU (EBU Tech 3342): the spread of short-term loudness.

    Short-term values are gated at -70 LUFS absolute and 20 LU under their power mean, and
    LRA is the 95th minus the 10th percentile of what remains. 0.0 for silence.
    """
    return loudness_range_from_short_term(short_term_loudness(audio, sample_rate))


# ------------------------------------------------------------------------------ peaks


def sample_peak_db(audio: np.ndarray) -> float:
    """Largest absolute sample value in dBFS (``-inf`` for silence)."""
    x = np.asarray(audio)
    return _db(float(np.max(np.abs(x)))) if x.size else -math.inf


def _linked_abs(x: np.ndarray) -> np.ndarray:
    """``max_c |x[c]|`` per sample, as float32 (pairwise maxima beat ``max(axis=0)``)."""
    out = np.abs(x[0]).astype(np.float32, copy=False)
    for channel in x[1:]:
        np.maximum(out, np.abs(channel), out=out)
    return out


@functools.lru_cache(maxsize=8)
def _true_peak_filter(up: int):
    """Polyphase form of ``scipy.signal.resample_poly(x, up, 1)``'s anti-imaging filter.

    Returns ``(c0, mat_a, mat_b, bound)``: phase 0 is a pure gain ``c0`` (the windowed sinc is
    zero at every other multiple of ``up``, up to 1e-17), the other ``up - 1`` phases are laid
    out as two matrices so a frame of ``_TP_FRAME`` input samples (``mat_a``) plus the first
    ``2 * _TP_HALF_TAPS`` samples of the next frame (``mat_b``) give all interpolated outputs
    of the frame in one matrix product, and ``bound`` is the largest L1 norm of a phase (no
    output can exceed ``bound`` times the largest input it sees).
    """
    import scipy.signal

    half_len = _TP_HALF_TAPS * up
    h = scipy.signal.firwin(2 * half_len + 1, 1.0 / up, window=("kaiser", 5.0)) * up
    width = 2 * _TP_HALF_TAPS + 1
    # y[up*n + p] = sum_m xpad[n + m] * taps[p, m], with xpad = x shifted right by half taps.
    taps = np.zeros((up, width))
    for p in range(up):
        for m in range(width):
            idx = p + half_len - up * (m - _TP_HALF_TAPS)
            if 0 <= idx <= 2 * half_len:
                taps[p, m] = h[idx]
    frame = _TP_FRAME
    mat_a = np.zeros((frame, up - 1, frame))
    mat_b = np.zeros((width - 1, up - 1, frame))
    for i in range(frame):  # output position inside the frame
        for m in range(width):
            j = i + m  # input position, counted from the frame start
            if j < frame:
                mat_a[j, :, i] = taps[1:, m]
            else:
                mat_b[j - frame, :, i] = taps[1:, m]
    bound = float(np.abs(taps).sum(axis=1).max())
    shape = (-1, (up - 1) * frame)
    return (
        float(taps[0, _TP_HALF_TAPS]),
        mat_a.reshape(shape).astype(np.float32),
        mat_b.reshape(shape).astype(np.float32),
        bound,
    )


def oversampled_peak_envelope(
    audio: np.ndarray, oversample: int = 4, floor: float = 0.0
) -> np.ndarray:
    """Per-sample peak of the oversampled signal, linked across channels; shape ``(T,)``.

    ``env[n] = max over channels c and phases p < oversample of |y_c[n * oversample + p]|``,
    where ``y = scipy.signal.resample_poly(x, oversample, 1)`` (same filter, same edges: the
    tests check equality). Its maximum is the true peak; the limiter in
    ``producer.audio.mastering`` turns it into a required gain.

    Speed: the interpolated phases are computed with matrix products on 32-sample frames,
    and only for frames that could reach above ``floor`` (a frame whose largest neighbouring
    sample times the filter's L1 bound stays at or under ``floor`` is skipped). Where a frame
    is skipped ``env`` holds the sample values themselves, a lower bound that is also
    ``<= floor``; everywhere else it is exact.
    """
    x = _as_channels(audio, np.float32)
    channels, n = x.shape
    linked = _linked_abs(x)
    if oversample == 1 or n == 0:
        return linked
    c0, mat_a, mat_b, bound = _true_peak_filter(int(oversample))

    frame, half = _TP_FRAME, _TP_HALF_TAPS
    n_frames = -(-n // frame)
    padded = np.zeros((channels, (n_frames + 1) * frame), np.float32)
    padded[:, half : half + n] = x
    # Zero what is under -400 dBFS: the tails of exponential decays otherwise turn into
    # float32 subnormals inside the matrix products, which then run ten times slower.
    padded[np.abs(padded) < _TP_TINY] = 0.0
    frames = padded.reshape(channels, n_frames + 1, frame)
    # Phase 0 is the input itself (times c0); rows of `env_rows` are output frames.
    env_rows = np.zeros(n_frames * frame, np.float32)
    env_rows[:n] = linked * np.float32(c0)
    env_rows = env_rows.reshape(n_frames, frame)
    # Input window of output frame f is frames f and f+1: bound its interpolated values.
    linked_padded = np.zeros((n_frames + 1) * frame, np.float32)
    linked_padded[half : half + n] = linked
    frame_max = linked_padded.reshape(n_frames + 1, frame).max(axis=1)
    window_max = np.maximum(frame_max[:-1], frame_max[1:])
    needed = window_max * bound > floor

    for lo in range(0, n_frames, _TP_CHUNK_FRAMES):
        sel = lo + np.flatnonzero(needed[lo : lo + _TP_CHUNK_FRAMES])
        if sel.size == 0:
            continue
        if sel.size * 4 >= sel[-1] - sel[0] + 1:
            # Dense enough: computing the whole span with slices beats gathering the rows.
            rows = slice(sel[0], sel[-1] + 1)
            count = sel[-1] + 1 - sel[0]
            a = frames[:, sel[0] : sel[-1] + 1]
            b = frames[:, sel[0] + 1 : sel[-1] + 2, : 2 * half]
        else:
            rows, count = sel, sel.size
            a = frames[:, sel]
            b = frames[:, sel + 1, : 2 * half]
        y = a @ mat_a  # (C, frames, phases * frame)
        y += b @ mat_b
        np.abs(y, out=y)
        y = y.reshape(channels, count, oversample - 1, frame)
        peak = env_rows[rows]
        for c in range(channels):  # pairwise maxima: much faster than max(axis=(0, 2))
            for p in range(oversample - 1):
                np.maximum(peak, y[c, :, p], out=peak)
        env_rows[rows] = peak
    return env_rows.reshape(-1)[:n]


def true_peak_dbtp(audio: np.ndarray, sample_rate: float | None = None, oversample: int = 4):
    """True peak in dBTP: the peak of the ``oversample``-times oversampled signal.

    Oversampling is ``scipy.signal.resample_poly``'s (a 21-tap-per-phase Kaiser windowed
    sinc), so the value equals ``20*log10(max|resample_poly(x, 4, 1)|)`` to float32 rounding.
    BS.1770-4 asks for 4x at 48 kHz; ``sample_rate`` is accepted for a uniform signature and
    not needed. ``-inf`` for silence.
    """
    x = _as_channels(audio, np.float32)
    if x.size == 0:
        return -math.inf
    peak = float(np.abs(x).max())
    if peak == 0.0:
        return -math.inf
    c0 = _true_peak_filter(int(oversample))[0] if oversample > 1 else 1.0
    # The (scaled) sample peak is already a lower bound: only frames that could beat it count.
    env = oversampled_peak_envelope(x, oversample, floor=peak * c0)
    return _db(float(env.max()))
