"""Fit a writer-language mix script to a song from its stems and its mix.

Songs in the training data rarely come with the script that mixed them. `fit_script` writes
one that approximates the mix: for each stem a fader gain, low/high shelves and a pan, and a
bypass master (`_, _`), every value snapped to the writer's grids (`writer.py`), so the result
is a sentence the decoder could have written.

The model behind it is the writer's own signal path: each stem's mono downmix `m_r` (what the
renderer feeds a mono chain) goes through a filter `H_r`, a gain and `sp.panner(p)` (left
`1 - p`, right `p`), and the stems are summed:

    Y_c(f) ≈ Σ_r a_rc(f) · M_r(f),    |a_rL| = g_r (1 - p_r) |H_r|,  |a_rR| = g_r p_r |H_r|

The complex gains `a_rc` are fitted by least squares per sub-band (about a third of an
octave) of the spectrum. Complex, because any EQ shifts phase: a real-valued waveform fit
would read a stem shifted by 90° as absent. Energy-weighted magnitudes of `a` over the low
(< 200 Hz), mid and high (≥ 5 kHz) groups of sub-bands give each stem's gain per group; the
overall ratio of the channels gives the pan (`g = a_L + a_R`, `p = a_R / g`) and the low/high
gains relative to the mid become shelf gains. A shelf is written only when it is significant
(`SHELF_Z` standard errors of the fit), so what the mono downmixes cannot explain (stereo
width, reverb, bleed between stems) is not mistaken for EQ.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from producer.audio.io import check_audio_array
from producer.faust.writer import (
    EQ_GAIN,
    FADER,
    GAIN,
    HIGH_SHELF,
    HIGH_SHELF_FREQ,
    LOW_SHELF,
    LOW_SHELF_FREQ,
    PAN,
    PANNER,
    STEREO_BYPASS,
    chain_text,
    check_roles,
    script_text,
)

#: Shelf transition frequencies, which are also the band edges of the fit (Hz).
LOW_EDGE = 200.0
HIGH_EDGE = 5000.0
#: A band takes part in the shelf fit only if it holds at least this fraction of a stem's energy
#: (and so does the mid band): a ratio of two near-silent bands is noise.
MIN_BAND_SHARE = 0.02
#: How many standard errors a band's level must differ from the mid band's to become a shelf.
SHELF_Z = 3.0
#: Longest stretch analysed (the middle of the song): the balance of a mix is stable over time,
#: and this bounds the FFT cost of long songs.
MAX_SECONDS = 60.0
#: Lowest sub-band edge (Hz); everything below is one sub-band.
SUB_BAND_START = 20.0


def fit_script(
    stems: Mapping[str, np.ndarray],
    mix: np.ndarray,
    sample_rate: int,
    *,
    max_seconds: float | None = MAX_SECONDS,
) -> str:
    """A writer-language script (roles in the order of `stems`) approximating `mix`.

    `stems` maps roles to (2, T) (or mono / (T, 2)) audio and `mix` is the song at the same
    `sample_rate`; lengths may differ (stems are padded with silence or cut to the mix).
    Gains are relative: when the fitted gains leave the fader grid (e.g. the mix was mastered
    louder than the stems' sum), they are rescaled together so the loudest stem sits at unity,
    since the renderer sets the final loudness anyway. Raises `AudioInputError` on unusable
    audio and `ProducerError` on roles that cannot name a process.
    """
    roles = check_roles(list(stems))
    y = check_audio_array(mix, sample_rate, name="mix")
    mono = np.stack(
        [
            _fit_length(check_audio_array(stems[r], sample_rate, name=f"stem {r}"), y.shape[1])
            for r in roles
        ]
    )
    y, mono = _window(y, mono, sample_rate, max_seconds)

    groups = _group_edges(sample_rate)
    t = _transfer(mono, y, sample_rate, groups)
    # Each stem's gain to each mix channel: output over input amplitude, per group and overall.
    with np.errstate(divide="ignore", invalid="ignore"):
        band_gain = np.sqrt(t.out_energy / t.in_energy[:, :, None])  # (G, S, 2)
        overall = np.sqrt(t.out_energy.sum(0) / t.in_energy.sum(0)[:, None])  # (S, 2)
    band_gain = np.nan_to_num(band_gain).sum(-1)  # g = a_L + a_R
    overall = np.nan_to_num(overall)
    broadband = overall.sum(-1)
    pans = np.divide(
        overall[:, 1], broadband, out=np.full_like(broadband, 0.5), where=broadband > 0
    )

    gains, shelves = [], []
    for k in range(len(roles)):
        low_db, high_db = (_shelf_db(t, k, b) for b in (0, 2))
        # Shelves are relative to the mid band, which they leave alone: the fader sets it.
        use_mid = low_db != 0 or high_db != 0
        gains.append(band_gain[1, k] if use_mid else broadband[k])
        shelves.append((low_db, high_db))
    gains = _into_fader_range(np.asarray(gains, dtype=np.float64))

    chains = {}
    for k, role in enumerate(roles):
        low_db, high_db = shelves[k]
        effects = []
        if low_db != 0:
            effects.append(
                LOW_SHELF.text(
                    low_db, LOW_SHELF_FREQ.snap(LOW_EDGE, sample_rate), sample_rate=sample_rate
                )
            )
        if high_db != 0:
            effects.append(
                HIGH_SHELF.text(
                    high_db, HIGH_SHELF_FREQ.snap(HIGH_EDGE, sample_rate), sample_rate=sample_rate
                )
            )
        gain = GAIN.snap(gains[k])
        if gain != 1:
            effects.append(FADER.text(gain))
        chains[role] = chain_text(effects, PANNER.text(PAN.snap(pans[k])))
    return script_text(chains, STEREO_BYPASS.text())


def _fit_length(stem: np.ndarray, length: int) -> np.ndarray:
    """The stem's mono downmix, cut or padded with silence to `length` samples."""
    mono = stem.mean(axis=0, dtype=np.float64)[:length]
    return np.pad(mono, (0, length - mono.size))


def _window(
    y: np.ndarray, mono: np.ndarray, sample_rate: int, max_seconds: float | None
) -> tuple[np.ndarray, np.ndarray]:
    length = y.shape[1]
    if max_seconds is None or length <= max_seconds * sample_rate:
        return y.astype(np.float64), mono
    n = int(max_seconds * sample_rate)
    start = (length - n) // 2
    return y[:, start : start + n].astype(np.float64), mono[:, start : start + n]


def _group_edges(sample_rate: int) -> tuple[float, ...]:
    """Low/mid edge, and the mid/high edge when a high shelf is usable at this rate."""
    return (LOW_EDGE, HIGH_EDGE) if HIGH_SHELF_FREQ.allowed(sample_rate) else (LOW_EDGE,)


def _sub_bands(freqs: np.ndarray, groups: tuple[float, ...], min_bins: int) -> np.ndarray:
    """Each FFT bin's sub-band label: about a third of an octave, split at the group edges.

    A sub-band narrower than `min_bins` bins merges into its upper neighbour (the last into
    the one below), so every fit has more equations than unknowns; with very short audio a
    merged sub-band may straddle a group edge and then counts towards its majority group.
    """
    bounds = [0.0, *groups, float(freqs[-1]) + 1.0]
    edges: set[float] = set()
    for lo, hi in itertools.pairwise(bounds):
        lo = max(lo, SUB_BAND_START)
        if hi <= lo:
            continue
        n = max(1, math.ceil(3 * math.log2(hi / lo)))
        edges.update(float(e) for e in np.geomspace(lo, hi, n + 1))
    sub = np.searchsorted(np.asarray(sorted(edges)), freqs, side="right")
    counts = np.bincount(sub, minlength=len(edges) + 1)
    lut = np.empty(counts.size, dtype=np.int64)
    label, size = -1, 0
    for k, count in enumerate(counts):
        if label < 0 or size >= min_bins:
            label, size = label + 1, 0
        lut[k] = label
        size += count
    if size < min_bins and label > 0:
        lut[lut == label] = label - 1
    return lut[sub]


@dataclass(frozen=True)
class _Transfer:
    """How much of each stem reaches each mix channel, per band group (low, mid[, high])."""

    out_energy: np.ndarray  # (G, S, 2) energy each stem contributes to each channel
    out_var: np.ndarray  # (G, S, 2) variance of that estimate
    in_energy: np.ndarray  # (G, S) each stem's own energy


def _transfer(
    mono: np.ndarray, y: np.ndarray, sample_rate: int, groups: tuple[float, ...]
) -> _Transfer:
    """Fit each stem's transfer function to the mix, piecewise constant over sub-bands.

    In every sub-band (about a third of an octave) the mix spectrum is fitted as a sum of the
    stems' spectra with one complex gain per stem and channel (least squares over the bins),
    phase included, so an EQ's phase shift does not hide a stem the way a real-valued
    waveform fit would. Energies are summed per group.
    """
    n_stems = mono.shape[0]
    n = _fast_length(y.shape[1])
    stems_f = np.fft.rfft(mono, n=n, axis=-1)  # (S, F)
    mix_f = np.fft.rfft(y, n=n, axis=-1)  # (2, F)
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    group = np.searchsorted(np.asarray(groups), freqs, side="right")
    sub = _sub_bands(freqs, groups, min_bins=max(8, 4 * n_stems))
    shape = (len(groups) + 1, n_stems, 2)
    out_energy, out_var = np.zeros(shape), np.zeros(shape)
    in_energy = np.zeros(shape[:2])
    # Sub-bands are contiguous runs of bins (labels grow with frequency): slice, don't mask.
    starts = [0, *(np.flatnonzero(np.diff(sub)) + 1).tolist(), sub.size]
    for lo, hi in itertools.pairwise(starts):
        x, m = stems_f[:, lo:hi], mix_f[:, lo:hi]
        energy = (np.abs(x) ** 2).sum(-1)  # (S,)
        gram = x.conj() @ x.T  # (S, S): Σ conj(X_r) X_s
        cross = x.conj() @ m.T  # (S, 2): Σ conj(X_r) Y_c
        ridge = 1e-9 * max(float(energy.sum()), 1e-30)
        inverse = np.linalg.inv(gram + ridge * np.eye(n_stems))
        alpha = inverse @ cross  # (S, 2) complex gains
        # What the stems' mono downmixes cannot explain (stereo content, reverb, bleed) acts
        # as noise of power σ² per bin: the estimate's variance is v = σ² (G⁻¹)_rr, and
        # |alpha|² overestimates the squared gain by v, so v is subtracted; a complex
        # Gaussian error makes the variance of that power estimate 2 |alpha|² v + v².
        residual = m - alpha.T @ x  # (2, bins)
        noise = (np.abs(residual) ** 2).sum(-1) / max(hi - lo - n_stems, 1)  # (2,)
        v = np.outer(np.diag(inverse).real, noise)  # (S, 2)
        power = np.maximum(np.abs(alpha) ** 2 - v, 0.0)
        g = np.bincount(group[lo:hi]).argmax()
        out_energy[g] += power * energy[:, None]
        out_var[g] += (2 * power * v + v**2) * (energy**2)[:, None]
        in_energy[g] += energy
    return _Transfer(out_energy, out_var, in_energy)


def _fast_length(n: int) -> int:
    """The smallest 2^a·3^b·5^c ≥ n (pocketfft is fast on those)."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


def _shelf_db(t: _Transfer, stem: int, band: int) -> float:
    """A stem's shelf gain (dB, on the grid; 0 = no shelf) for the low (0) or high (2) group.

    The level of the group relative to the mid group, kept only when both hold a fair share
    of the stem's energy and the difference is significant (`SHELF_Z` standard errors), so
    noise in the fit does not turn into EQ.
    """
    if band >= t.in_energy.shape[0]:
        return 0.0
    share = t.in_energy[:, stem] / max(float(t.in_energy[:, stem].sum()), 1e-30)
    if share[1] < MIN_BAND_SHARE or share[band] < MIN_BAND_SHARE:
        return 0.0
    this, mid = t.out_energy[band, stem].sum(), t.out_energy[1, stem].sum()
    if this <= 0 or mid <= 0:
        return 0.0
    db = 10 * math.log10((this / t.in_energy[band, stem]) / (mid / t.in_energy[1, stem]))
    # Standard error of a level ratio in dB, from the relative errors of both energies.
    rel = math.sqrt(t.out_var[band, stem].sum() / this**2 + t.out_var[1, stem].sum() / mid**2)
    if abs(db) < SHELF_Z * 10 / math.log(10) * rel:
        return 0.0
    return EQ_GAIN.snap(db)


def _into_fader_range(gains: np.ndarray) -> np.ndarray:
    """Gains as fitted if they fit the fader grid, else rescaled so the loudest is unity."""
    lo, hi = GAIN.values[0], GAIN.values[-1]
    top = float(gains.max()) if gains.size else 0.0
    if top <= 1e-9:
        return np.ones_like(gains)  # a silent mix or silent stems: nothing to balance
    if gains.min() >= lo and top <= hi:
        return gains
    return gains / top
