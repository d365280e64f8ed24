"""Power responses |H(f)|² of the writer language's linear effects, in closed form.

    butterworth_power(freqs, order, cutoff, sr, highpass=True)   fi.highpass / fi.lowpass
    shelf_power(freqs, gain_db, corner, sr, high=False)          fi.low_shelf / fi.high_shelf
    peak_power(freqs, gain_db, centre, q, sr)                    fi.peak_eq_cq
    k_weighting_power(freqs, sr)                                 BS.1770's K-weighting
    equalize(x, sr, highpass=, lowpass=, low_shelf=, peak=, high_shelf=)   the same, as filters

The mixing teacher (`teacher.py`) predicts what an EQ move does to a stem's spectrum with these
instead of rendering it, and filters with `equalize` instead of compiling a Faust program per EQ
setting (libfaust + LLVM take 0.05-0.2 s per program; a 6 s stem filters in a few ms). Each is
the digital filter that faustlibraries' `filters.lib` builds (tests/mixing/test_response.py
renders through Faust and agrees to 0.01 dB, and sample by sample to float32 rounding):

- `fi.highpass(N, fc)` / `fi.lowpass(N, fc)`: an N-th order Butterworth through the bilinear
  transform, prewarped at fc, so with W = tan(πf/sr) / tan(πfc/sr) the power is
  1 / (1 + W^-2N) (high-pass) or 1 / (1 + W^2N) (low-pass).
- `fi.low_shelf(L, fx)` = `lowshelf(3, L, fx)`: `filterbank(3, fx)` splits the signal into a
  third-order Butterworth high-pass and low-pass at fx (`an.analyzer`), and the low band is
  scaled by A = 10^(L/20): H = HP₃ + A·LP₃ (the high shelf: A·HP₃ + LP₃). The two share their
  poles, and they are power- and allpass-complementary, so the cross term of the power vanishes:
  |H|² = A²|LP₃|² + |HP₃|².
- `fi.peak_eq_cq(L, fx, Q)` = `peak_eq(L, fx, fx/Q)`: the analog bell (s² + b·s + 1) /
  (s² + a·s + 1) through `tf2s` (bilinear, prewarped at fx), with a = π·B·T / sin(2π·fx·T) and
  b = 10^(|L|/20)·a for a boost (a and b swapped for a cut), B = fx/Q, T = 1/sr.

Compressors, gates, saturation and sends are not linear and have no response here.
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = [
    "butterworth_ba",
    "butterworth_power",
    "equalize",
    "k_weighting_power",
    "peak_ba",
    "peak_power",
    "shelf_ba",
    "shelf_power",
]


def _warped(freqs: np.ndarray, corner: float, sample_rate: float) -> np.ndarray:
    """tan(πf/sr) / tan(πfc/sr): the bilinear transform's frequency axis, prewarped at fc."""
    f = np.minimum(np.asarray(freqs, dtype=np.float64), 0.4999 * sample_rate)
    return np.tan(np.pi * f / sample_rate) / math.tan(math.pi * corner / sample_rate)


def butterworth_power(
    freqs: np.ndarray, order: int, cutoff: float, sample_rate: float, *, highpass: bool
) -> np.ndarray:
    """|H|² of `fi.highpass(order, cutoff)` (or `fi.lowpass`) at `freqs` Hz."""
    w = _warped(freqs, cutoff, sample_rate)
    with np.errstate(divide="ignore", over="ignore"):
        ratio = w ** (2 * order)
        if highpass:
            return ratio / (1.0 + ratio)
        return 1.0 / (1.0 + ratio)


def shelf_power(
    freqs: np.ndarray, gain_db: float, corner: float, sample_rate: float, *, high: bool
) -> np.ndarray:
    """|H|² of `fi.low_shelf(gain_db, corner)` (or `fi.high_shelf` with `high=True`)."""
    a2 = 10.0 ** (gain_db / 10.0)
    low = butterworth_power(freqs, 3, corner, sample_rate, highpass=False)
    if high:
        return a2 * (1.0 - low) + low
    return a2 * low + (1.0 - low)


def peak_power(
    freqs: np.ndarray, gain_db: float, centre: float, q: float, sample_rate: float
) -> np.ndarray:
    """|H|² of `fi.peak_eq_cq(gain_db, centre, q)` at `freqs` Hz."""
    t = 1.0 / sample_rate
    a = math.pi * (centre / q) * t / math.sin(2.0 * math.pi * centre * t)
    b = 10.0 ** (abs(gain_db) / 20.0) * a
    num, den = (b, a) if gain_db > 0 else (a, b)
    w = _warped(freqs, centre, sample_rate)
    base = (1.0 - w**2) ** 2
    return (base + (num * w) ** 2) / (base + (den * w) ** 2)


@functools.lru_cache(maxsize=8)
def _k_weighting_ba(sample_rate: float) -> tuple[np.ndarray, np.ndarray]:
    from pyloudnorm.iirfilter import IIRfilter

    # The two stages `audio.loudness` filters with (pyloudnorm's K-weighting parameters).
    shelf = IIRfilter(4.0, 1 / math.sqrt(2), 1500.0, sample_rate, "high_shelf")
    highpass = IIRfilter(0.0, 0.5, 38.0, sample_rate, "high_pass")
    return np.polymul(shelf.b, highpass.b), np.polymul(shelf.a, highpass.a)


def k_weighting_power(freqs: np.ndarray, sample_rate: float) -> np.ndarray:
    """|K|² of BS.1770's K-weighting (the filter of `audio.loudness`) at `freqs` Hz."""
    import scipy.signal

    b, a = _k_weighting_ba(float(sample_rate))
    _, h = scipy.signal.freqz(b, a, worN=np.asarray(freqs, dtype=np.float64), fs=sample_rate)
    return np.abs(h) ** 2


# --- the same filters, as coefficients -------------------------------------------------------


def butterworth_ba(
    order: int, cutoff: float, sample_rate: float, *, highpass: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of `fi.highpass(order, cutoff)` (or `fi.lowpass`): scipy's Butterworth design is
    the same bilinear transform, prewarped at the cutoff."""
    import scipy.signal

    btype = "highpass" if highpass else "lowpass"
    return scipy.signal.butter(int(order), cutoff, btype, fs=sample_rate)


def shelf_ba(
    gain_db: float, corner: float, sample_rate: float, *, high: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of `fi.low_shelf(gain_db, corner)` (or `fi.high_shelf`): HP₃ + A·LP₃ over their
    common denominator."""
    a_gain = 10.0 ** (gain_db / 20.0)
    b_lp, a = butterworth_ba(3, corner, sample_rate, highpass=False)
    b_hp, _ = butterworth_ba(3, corner, sample_rate, highpass=True)
    if high:
        return a_gain * b_hp + b_lp, a
    return b_hp + a_gain * b_lp, a


def peak_ba(
    gain_db: float, centre: float, q: float, sample_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of `fi.peak_eq_cq(gain_db, centre, q)`: `tf2s`'s bilinear transform of the bell,
    prewarped at the centre (s → (1 - z⁻¹) / (K (1 + z⁻¹)), K = tan(π·fx/sr))."""
    t = 1.0 / sample_rate
    a1 = math.pi * (centre / q) * t / math.sin(2.0 * math.pi * centre * t)
    b1 = 10.0 ** (abs(gain_db) / 20.0) * a1
    num, den = (b1, a1) if gain_db > 0 else (a1, b1)
    k = math.tan(math.pi * centre / sample_rate)

    def poly(mid: float) -> np.ndarray:  # (s² + mid·s + 1) after the transform, times K²
        return np.array([1 + mid * k + k * k, 2 * k * k - 2, 1 - mid * k + k * k])

    b, a = poly(num), poly(den)
    return b / a[0], a / a[0]


def equalize(
    x: np.ndarray,
    sample_rate: float,
    *,
    highpass: tuple[float, float] | None = None,
    lowpass: tuple[float, float] | None = None,
    low_shelf: tuple[float, float] | None = None,
    peak: tuple[float, float, float] | None = None,
    high_shelf: tuple[float, float] | None = None,
) -> np.ndarray:
    """`x` (mono, float) through the writer's linear EQ slots, in slot order, as float32:
    `highpass`/`lowpass` (order, Hz), `low_shelf`/`high_shelf` (dB, Hz), `peak` (dB, Hz, Q).
    A slot that is None (or a 0 dB shelf or bell) is left out."""
    import scipy.signal

    stages = []
    if highpass:
        stages.append(butterworth_ba(int(highpass[0]), highpass[1], sample_rate, highpass=True))
    if lowpass:
        stages.append(butterworth_ba(int(lowpass[0]), lowpass[1], sample_rate, highpass=False))
    if low_shelf and low_shelf[0]:
        stages.append(shelf_ba(*low_shelf, sample_rate, high=False))
    if peak and peak[0]:
        stages.append(peak_ba(*peak, sample_rate))
    if high_shelf and high_shelf[0]:
        stages.append(shelf_ba(*high_shelf, sample_rate, high=True))
    if not stages:
        return np.asarray(x, dtype=np.float32)
    sos = np.concatenate([scipy.signal.tf2sos(b, a) for b, a in stages])
    return scipy.signal.sosfilt(sos, np.asarray(x, dtype=np.float64)).astype(np.float32)
