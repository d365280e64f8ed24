"""Short-time spectra of stereo signals, and the band numbers the mix critic reads from them:
L/R correlation, side share and side power between two frequencies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Spectrum", "correlation", "db", "side_power", "side_share", "spectrum"]


@dataclass
class Spectrum:
    """Short-time spectra of a (2, T) signal: what every spectral check reads."""

    freqs: np.ndarray  # (K,)
    power: np.ndarray  # (F, K) |L|^2 + |R|^2 per frame
    cross: np.ndarray  # (K,) mean Re(L conj R) over frames
    left: np.ndarray  # (K,) mean |L|^2
    right: np.ndarray  # (K,) mean |R|^2

    @property
    def mean(self) -> np.ndarray:
        return self.left + self.right

    def between(self, lo: float, hi: float) -> np.ndarray:
        return (self.freqs >= lo) & (self.freqs < hi)


def spectrum(x: np.ndarray, sample_rate: int, seconds: float) -> Spectrum:
    """Half-overlapping Hann-windowed spectra of `x` (2, T), frames of ~`seconds`."""
    import scipy.fft  # here, not at the top: importing it costs about a second

    size = 2 ** max(8, round(math.log2(sample_rate * seconds)))
    hop = size // 2
    n = x.shape[1]
    if n < size:
        x = np.pad(x, ((0, 0), (0, size - n)))
        n = size
    frames = np.lib.stride_tricks.sliding_window_view(x, size, axis=-1)[:, ::hop]
    window = np.hanning(size).astype(np.float32)
    spec = scipy.fft.rfft(frames * window, axis=-1, workers=-1)  # (2, F, K) complex64
    left, right = spec[0], spec[1]
    pl = left.real**2 + left.imag**2
    pr = right.real**2 + right.imag**2
    cross = (left.real * right.real + left.imag * right.imag).mean(axis=0)
    return Spectrum(
        freqs=np.fft.rfftfreq(size, 1.0 / sample_rate),
        power=pl + pr,
        cross=cross,
        left=pl.mean(axis=0),
        right=pr.mean(axis=0),
    )


def correlation(spec: Spectrum, lo: float, hi: float) -> float | None:
    """L/R correlation in [lo, hi) Hz (None where a channel is silent)."""
    sel = spec.between(lo, hi)
    ll, rr, lr = (
        float(spec.left[sel].sum()),
        float(spec.right[sel].sum()),
        float(spec.cross[sel].sum()),
    )
    if ll <= 0 or rr <= 0:
        return None
    return max(-1.0, min(1.0, lr / math.sqrt(ll * rr)))


def side_share(spec: Spectrum, lo: float, hi: float) -> float | None:
    """Side share S²/(M²+S²) in [lo, hi) Hz (None where silent)."""
    sel = spec.between(lo, hi)
    ll, rr, lr = (
        float(spec.left[sel].sum()),
        float(spec.right[sel].sum()),
        float(spec.cross[sel].sum()),
    )
    if ll + rr <= 0:
        return None
    return max(0.0, min(1.0, (ll + rr - 2 * lr) / (2 * (ll + rr))))


def side_power(spec: Spectrum, lo: float, hi: float) -> float:
    """Mean side power in [lo, hi) Hz."""
    sel = spec.between(lo, hi)
    ll, rr = float(spec.left[sel].sum()), float(spec.right[sel].sum())
    return max(0.0, (ll + rr - 2.0 * float(spec.cross[sel].sum())) / 4.0)


def db(x: float) -> float:
    """10·log10 of a power (-inf for 0)."""
    return 10.0 * math.log10(x) if x > 0 else -math.inf
