"""The mixing teacher's first-pass model of a mix: the meters an engineer sets a mix by.

    model = MixModel(mono_stems, sample_rate, targets)
    model.cost(power, pans, kept, extra)     # (C,) costs of C candidate mixes at once
    model.calibrate(verdict, power, pans, kept)

An engineer sets up a first mix from meters: each stem's loudness against the mix, the mix's
tonal curve against a reference, the width, and moves faders, EQ and pans until each reads in
the middle of its target. This model does that arithmetic on the stems' average spectra, so the
teacher (`teacher.py`) can try thousands of fader, pan and EQ settings in the time one render
and critique takes:

- A stem is the mono signal its chain receives (the renderer feeds each chain the stem's mono
  downmix) with average power P_r(f) in ~1/12-octave bins. Its EQ multiplies that by |H_r(f)|²
  (`response.py`, exact for the writer's filters), its fader by g², and its pan sends (1-p)² of
  it left and p² right (`sp.panner`). Stems add as powers (uncorrelated).
- Loudness is the K-weighted power, offset per stem so that the raw stem reads its BS.1770
  loudness; a stem's balance is its loudness minus the power sum of all of them.
- The tonal bands, the 2-5 kHz and 200-500 Hz ranges, the 2-5 kHz lift of the chains over the
  stems (each at its broadband gain, so a fader is no lift), the side share above 500 Hz, the L/R
  correlation under 150 Hz and the low end kept by bass and drums are computed as the critic
  computes them (`critic.py`), from the modelled spectra instead of rendered ones.

The cost aims at the *middle* of each target, not its edge: each balance at the centre of its
range, each tonal band on the style curve, the side level at the middle of the width range (in
dB, as `descriptors.side_level_db`), and the pre-master mix at `MIX_LUFS`; it keeps a margin
from the critic's hard limits (harshness, mud, presence boost, overpowering, low end kept, mono
low end).

What the model leaves out (compressors, saturation, the master bus, loudness gating, stems that
correlate, anything over time such as kick-bass masking) is measured instead: `calibrate` takes
the critic's numbers for a rendered mix and shifts each of the model's numbers by its error
there, so the next solve aims from where the mix really is (each offset assumed constant near
that mix).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import numpy as np

from producer.audio.loudness import integrated_loudness
from producer.audio.reference_spectra import BANDS, range_share_db
from producer.mixing.critic import (
    BURIED_DEFAULT_LU,
    HARSH_DB,
    HARSH_RANGE_HZ,
    LOW_END_HZ,
    LOW_END_PRESENT_MIN,
    MUD_DB,
    MUD_RANGE_HZ,
    OVERPOWER_LU,
    PRESENCE_BOOST_DB,
    MixVerdict,
)
from producer.mixing.descriptors import side_level_db
from producer.mixing.response import k_weighting_power
from producer.mixing.targets import MONO_BELOW_HZ, WIDTH_FROM_HZ, MixTargets

__all__ = ["MIX_LUFS", "MixModel"]

#: Loudness the teacher aims the pre-master mix at, LUFS: mixing-bus practice of about -18 LUFS
#: (-20 dBFS RMS) leaves ~12-15 dB of crest under full scale, so the master bus's limiter
#: (`co.limiter_1176_R4_stereo`, threshold -6 dBFS) only catches the highest peaks.
MIX_LUFS = -18.0

# Fixed bin edges: every edge the critic measures at, so no bin straddles a band or a range.
_EDGES_HZ = (20, 40, 60, 100, 150, 200, 250, 500, 2000, 5000, 6000, 16000, 20000)
_BINS_PER_OCTAVE = 12
_SPECTRUM_S = 0.37  # frames of ~0.37 s (16384 at 44.1 kHz): 2.7 Hz bins for the 20-60 Hz band
_KEPT_RANGE_HZ = (20.0, 16000.0)  # where the critic compares the low-end shares

# Cost weights: one unit is a balance at the edge of its range. The critic's basics weigh
# more (a margin from their limit), the tonal bands and width less, as in the critic's score.
_W_BALANCE = 1.0
_W_TONAL = 0.3
_W_LIMIT = 4.0  # harshness, mud, overpowering: past (limit - margin)
_W_LOW_END = 10.0  # low end kept, mono low end: past (limit + margin)
_W_WIDTH = 0.5
_W_LEVEL = 0.05
# What the prompt's words asked for (`MixTargets.asked`) weighs this much more: a word moves
# its target by 2-3 dB, well inside the critic's tolerance (tonal ±4.5 dB), where the plain
# weights cost about as much as one EQ band's price and the mix would not follow the words.
# Measured on the descriptor pairs of benchmarks/mix_quality.py (RESULTS.md).
_EMPHASIS = 10.0
_RANGE_MARGIN_DB = 1.5  # harshness and mud aimed this far under their limit
_OVERPOWER_MARGIN_LU = 1.0
_KEPT_AIM = 0.82  # the critic's floor is 0.7: the compressor and the master move it a little
_CORR_MARGIN = 0.05
_BURIED_AIM_LU = BURIED_DEFAULT_LU + 5.0  # roles without a range: at least this loud
_SILENT = 1e-20


class MixModel:
    """The stems' average spectra and the arithmetic of the critic's numbers on them."""

    def __init__(
        self, mono: Mapping[str, np.ndarray], sample_rate: int, targets: MixTargets
    ) -> None:
        self.roles = tuple(mono)
        self.sample_rate = sr = int(sample_rate)
        self.targets = targets
        edges = _bin_edges(sr)
        self.freqs = np.sqrt(edges[:-1] * edges[1:])  # (B,) bin centres
        spectra = [_average_power(np.asarray(mono[r], np.float32), sr) for r in self.roles]
        fft_freqs = np.fft.rfftfreq(2 * (spectra[0].size - 1), 1.0 / sr)
        index = np.digitize(fft_freqs, edges) - 1  # bin of each FFT bin (-1 / B: outside)
        inside = (index >= 0) & (index < self.freqs.size)
        self.power = np.stack(  # (S, B) raw power per bin
            [np.bincount(index[inside], s[inside], self.freqs.size) for s in spectra]
        )
        self.audible = self.power.sum(axis=1) > _SILENT
        self.k_weight = k_weighting_power(self.freqs, sr)
        # Offsets that make the model read each raw stem's BS.1770 loudness, measured on the
        # stem's mono downmix on both channels (a power weight of 2 in the model's terms).
        self.kappa = np.zeros(len(self.roles))
        for k, role in enumerate(self.roles):
            if self.audible[k]:
                x = np.asarray(mono[role], np.float32)
                measured = integrated_loudness(np.stack([x, x]), sr)
                modelled = _db(2.0 * float(np.sum(self.k_weight * self.power[k])))
                if math.isfinite(measured):
                    self.kappa[k] = measured - modelled

        lo, hi = edges[:-1], edges[1:]
        nyquist = sr / 2.0
        present = [(n, blo, bhi) for n, blo, bhi in BANDS if blo < nyquist]
        self.band_names = tuple(n for n, _, _ in present)
        self.band_matrix = np.stack(  # (B, nb): which bins sum into each band
            [((lo >= blo) & (hi <= bhi)).astype(np.float64) for _, blo, bhi in present], axis=1
        )
        target = targets.tonal_target_db()
        self.band_target = np.array([target[n] for n in self.band_names])
        self.band_weight = np.array(
            [_EMPHASIS if f"band:{n}" in targets.asked else 1.0 for n in self.band_names]
        )
        self.balance_weight = np.array(
            [_EMPHASIS if f"balance:{r}" in targets.asked else 1.0 for r in self.roles]
        )
        self.ranges = {}  # name → (mask, expected share dB, limit dB)
        for name, (rlo, rhi), limit in (
            ("harshness", HARSH_RANGE_HZ, HARSH_DB),
            ("mud", MUD_RANGE_HZ, MUD_DB),
        ):
            if rlo < nyquist:
                expected = range_share_db(rlo, rhi, targets.style, targets.tonal_offset_db)
                self.ranges[name] = ((lo >= rlo) & (hi <= rhi), expected, limit)
        self.presence = (lo >= HARSH_RANGE_HZ[0]) & (hi <= HARSH_RANGE_HZ[1])
        self._raw_total = np.maximum(self.power.sum(-1), _SILENT)  # (S,)
        self._raw_presence = self.power[:, self.presence].sum(-1)  # (S,)
        self.low_mono = (lo >= 20.0) & (hi <= MONO_BELOW_HZ)
        self.wide = lo >= WIDTH_FROM_HZ
        self.kept_sel = (lo >= _KEPT_RANGE_HZ[0]) & (hi <= _KEPT_RANGE_HZ[1])
        self.kept_low = self.kept_sel & (hi <= LOW_END_HZ)
        low_share = self.power[:, self.kept_low].sum(1) / np.maximum(
            self.power[:, self.kept_sel].sum(1), _SILENT
        )
        #: Bass and drums with a low end to keep (the critic's `low_end_kept` applies).
        self.keeps_low = np.array(
            [
                r in ("bass", "drums") and s >= LOW_END_PRESENT_MIN
                for r, s in zip(self.roles, low_share, strict=True)
            ]
        )
        self._raw_low_share = np.maximum(low_share, _SILENT)

        balance = targets.balance_lu
        self.centre = np.array(
            [sum(balance[r]) / 2 if r in balance else np.nan for r in self.roles]
        )
        self.half = np.array(
            [(balance[r][1] - balance[r][0]) / 2 if r in balance else 1.0 for r in self.roles]
        )
        w_lo, w_hi = targets.width
        self.width_aim = (side_level_db(w_lo) + side_level_db(w_hi)) / 2.0
        self.width_half = max((side_level_db(w_hi) - side_level_db(w_lo)) / 2.0, 1.0)

        # Calibration offsets (`calibrate`), added to the model's numbers.
        self.d_balance = np.zeros(len(self.roles))
        self.d_band = np.zeros(len(self.band_names))
        self.d_range = dict.fromkeys(self.ranges, 0.0)
        self.d_presence = 0.0
        self.d_width = 0.0
        self.d_corr = 0.0
        self.d_kept = np.zeros(len(self.roles))
        self.d_mix = 0.0

    # --- per-stem numbers ---------------------------------------------------------------

    def kept(self, k: int, response: np.ndarray) -> np.ndarray | float:
        """Stem k's low end kept through an EQ with power response `response` ((B,) or
        (C, B)): its share under 100 Hz after over before (the critic's `low_end_kept`)."""
        if not self.keeps_low[k]:
            return np.nan
        hp = response * self.power[k]
        after = hp[..., self.kept_low].sum(-1) / np.maximum(hp[..., self.kept_sel].sum(-1), _SILENT)
        return after / self._raw_low_share[k] + self.d_kept[k]

    # --- the numbers of whole mixes (leading axis: candidates) ----------------------------

    def numbers(self, power: np.ndarray, pans: np.ndarray) -> dict[str, np.ndarray]:
        """The critic's numbers, modelled, for C mixes: `power` (C, S, B) each stem's mono power
        after EQ and fader, `pans` (C, S)."""
        left = (1.0 - pans) ** 2
        right = pans**2
        both = (left + right)[..., None]
        mean = (both * power).sum(1)  # (C, B) left + right power
        band = mean @ self.band_matrix  # (C, nb)
        total = np.maximum(band.sum(-1), _SILENT)
        share = _db_array(band / total[:, None])
        raw_dev = share - self.band_target
        median = np.median(raw_dev, axis=-1)
        out = {"band_dev": raw_dev - median[:, None] + self.d_band}
        for name, (mask, expected, _) in self.ranges.items():
            out[name] = (
                _db_array(mean[:, mask].sum(-1) / total) - expected - median + self.d_range[name]
            )
        # The chains' 2-5 kHz lift over the stems, each stem at its own broadband gain.
        gain = power.sum(-1) / self._raw_total  # (C, S)
        lifted = power[..., self.presence].sum((-1, -2))
        went_in = (gain * self._raw_presence).sum(-1)
        out["presence_boost"] = _db_array(lifted / np.maximum(went_in, _SILENT)) + self.d_presence
        loud = _db_array((both * power * self.k_weight).sum(-1)) + self.kappa  # (C, S)
        loud = np.where(self.audible, loud, -np.inf)
        mix = _db_array(np.sum(10.0 ** (loud / 10.0), axis=-1))
        out["stem_lufs"] = loud
        out["mix_lufs"] = mix + self.d_mix
        out["balance"] = loud - mix[:, None] + self.d_balance
        # Side share S²/(M²+S²) = (LL + RR - 2LR) / (2 (LL + RR)), as a side level in dB.
        side = (((1.0 - 2.0 * pans) ** 2)[..., None] * power)[..., self.wide].sum((-1, -2))
        wide = 2.0 * np.maximum(mean[:, self.wide].sum(-1), _SILENT)
        side_db = _db_array(side / np.maximum(wide - side, _SILENT))
        out["side_db"] = np.maximum(side_db, -40.0) + self.d_width
        lo = power[..., self.low_mono].sum(-1)  # (C, S)
        ll, rr = (left * lo).sum(-1), (right * lo).sum(-1)
        lr = (pans * (1.0 - pans) * lo).sum(-1)
        out["low_corr"] = lr / np.maximum(np.sqrt(ll * rr), _SILENT) + self.d_corr
        return out

    def cost(
        self, power: np.ndarray, pans: np.ndarray, kept: np.ndarray, extra: np.ndarray
    ) -> np.ndarray:
        """(C,) costs: `power` (C, S, B), `pans` (C, S), `kept` (C, S) (NaN where it does not
        apply), `extra` (C,) the chains' own costs (the teacher's EQ penalty)."""
        t = self.targets
        n = self.numbers(power, pans)
        bal = n["balance"]
        ranged = ~np.isnan(self.centre) & self.audible
        tonal = _huber(n["band_dev"] / t.tonal_tolerance_db)
        cost = extra + _W_TONAL * np.sum(self.band_weight * tonal, -1)
        if ranged.any():
            z = (bal[:, ranged] - self.centre[ranged]) / self.half[ranged]
            cost = cost + _W_BALANCE * np.sum(self.balance_weight[ranged] * z**2, -1)
        unranged = np.isnan(self.centre) & self.audible
        if unranged.any():
            short = np.maximum(_BURIED_AIM_LU - bal[:, unranged], 0.0) / 3.0
            cost = cost + _W_BALANCE * np.sum(short**2, -1)
        if self.audible.sum() >= 2:
            power_lu = 10.0 ** (bal / 10.0)
            rest = np.maximum(power_lu.sum(-1, keepdims=True) - power_lu, _SILENT)
            over = np.where(self.audible, bal - _db_array(rest), -np.inf)
            excess = np.maximum(over - (OVERPOWER_LU - _OVERPOWER_MARGIN_LU), 0.0)
            cost = cost + _W_LIMIT * np.sum(excess**2, -1)
        for name, (_, _, limit) in self.ranges.items():
            excess = np.maximum(n[name] - (limit - _RANGE_MARGIN_DB), 0.0) / _RANGE_MARGIN_DB
            cost = cost + _W_LIMIT * excess**2
        excess = (
            np.maximum(n["presence_boost"] - (PRESENCE_BOOST_DB - _RANGE_MARGIN_DB), 0.0)
            / _RANGE_MARGIN_DB
        )
        cost = cost + _W_LIMIT * excess**2
        short = np.maximum(_KEPT_AIM - np.nan_to_num(kept, nan=1.0), 0.0) / 0.1
        cost = cost + _W_LOW_END * np.sum(short**2, -1)
        corr_aim = t.low_end_min_correlation + _CORR_MARGIN
        short = np.maximum(corr_aim - n["low_corr"], 0.0) / _CORR_MARGIN
        cost = cost + _W_LOW_END * short**2
        width = _W_WIDTH * (_EMPHASIS if "width" in t.asked else 1.0)
        cost = cost + width * ((n["side_db"] - self.width_aim) / self.width_half) ** 2
        cost = cost + _W_LEVEL * ((n["mix_lufs"] - MIX_LUFS) / 3.0) ** 2
        return cost

    # --- measurement ----------------------------------------------------------------------

    def calibrate(
        self, verdict: MixVerdict, power: np.ndarray, pans: np.ndarray, kept: np.ndarray
    ) -> None:
        """Shift the model's numbers by their error on a rendered mix: `verdict` is the critic's
        on it, `power` (S, B), `pans` (S,), `kept` (S,) the model's view of the same mix."""
        n = {k: v[0] for k, v in self.numbers(power[None], pans[None]).items()}
        for k, role in enumerate(self.roles):
            measured = verdict.balance_lu.get(role)
            if measured is not None and np.isfinite(n["balance"][k]):
                self.d_balance[k] += measured - n["balance"][k]
            if self.keeps_low[k]:
                check = _find(verdict, "low_end_kept", role)
                if check is not None and check.value is not None and np.isfinite(kept[k]):
                    self.d_kept[k] += check.value - kept[k]
        for j, name in enumerate(self.band_names):
            dev = verdict.bands.get(name, {}).get("deviation_db")
            if dev is not None:
                self.d_band[j] += dev - n["band_dev"][j]
        for name in self.ranges:
            check = _find(verdict, name)
            if check is not None and check.value is not None:
                self.d_range[name] += check.value - n[name]
        check = _find(verdict, "presence_boost")
        if check is not None and check.value is not None:
            self.d_presence += check.value - n["presence_boost"]
        check = _find(verdict, "width")
        if check is not None and check.value is not None and 0.0 < check.value < 1.0:
            self.d_width += max(side_level_db(check.value), -40.0) - n["side_db"]
        check = _find(verdict, "low_end_mono")
        if check is not None and check.value is not None:
            self.d_corr += check.value - n["low_corr"]
        if verdict.mix_lufs is not None:
            self.d_mix += verdict.mix_lufs - n["mix_lufs"]


def _huber(z: np.ndarray) -> np.ndarray:
    """z² inside ±1, then linear: far off the curve, the tonal cost grows as the critic's
    severity does (linearly), so one hopeless band (a lone whistle has no sub) does not buy
    extreme EQ."""
    a = np.abs(z)
    return np.where(a <= 1.0, a * a, 2.0 * a - 1.0)


def _find(verdict: MixVerdict, name: str, stem: str | None = None):
    try:
        return verdict.check(name, stem=stem)
    except KeyError:
        return None


def _bin_edges(sample_rate: int) -> np.ndarray:
    top = min(20000.0, sample_rate / 2.0)
    fixed = [float(e) for e in _EDGES_HZ if e < top] + [top]
    df = sample_rate / _frame(sample_rate)
    edges = [fixed[0]]
    for lo, hi in itertools.pairwise(fixed):
        n = max(1, round(math.log2(hi / lo) * _BINS_PER_OCTAVE))
        inner = lo * (hi / lo) ** (np.arange(1, n) / n)
        for e in inner:  # keep at least two FFT bins per model bin
            if e - edges[-1] >= 2 * df and hi - e >= 2 * df:
                edges.append(float(e))
        edges.append(hi)
    return np.asarray(edges)


def _frame(sample_rate: int) -> int:
    return 2 ** max(8, round(math.log2(sample_rate * _SPECTRUM_S)))


def _average_power(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean power spectrum of a mono signal (Hann frames, half overlap)."""
    size = _frame(sample_rate)
    if x.size < size:
        x = np.pad(x, (0, size - x.size))
    frames = np.lib.stride_tricks.sliding_window_view(x, size)[:: size // 2]
    spec = np.fft.rfft(frames * np.hanning(size).astype(np.float32), axis=-1)
    return (spec.real**2 + spec.imag**2).mean(axis=0).astype(np.float64)


def _db(x: float) -> float:
    return 10.0 * math.log10(x) if x > 0 else -math.inf


def _db_array(x: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.maximum(x, _SILENT))
