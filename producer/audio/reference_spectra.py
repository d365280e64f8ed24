"""Measured tonal targets: the long-term average spectrum (LTAS) of commercial music, per style.

The tonal checks (``audio.quality.assess`` and the mix critic) compare a master's share of energy
in each band of :data:`BANDS` with the share a typical commercial record of the style has. This
module says what that share is and where the numbers come from.

Sources
-------
[EF17] A. Elowsson and A. Friberg, "Long-term Average Spectrum in Popular Music and its Relation
    to the Level of the Percussion", AES 142nd Convention, Berlin, 2017, Convention Paper 9762.
    The mean LTAS of 12,345 popular-music tracks (loudness-normalised, BS.1770) on a
    log-frequency axis of 60 bins per octave, approximated by two quadratic fits. The fit above
    the spectrum's peak at about 94 Hz is

        y(x) = -0.000183 x^2 + 0.0213 x - 16.735   dB,   x = 1 + 60 log2(f / 30 Hz),

    whose slope the paper tabulates: -2.35 dB/octave at 200 Hz, -3.67 at 400 Hz, -4.99 at
    800 Hz, -6.30 at 1.6 kHz, -7.62 at 3.2 kHz, -8.94 at 6.4 kHz (i.e. it steepens by 1.32
    dB/octave per octave); a straight line over 89 Hz-4.5 kHz falls 4.53 dB/octave in every one
    of the paper's 11 percussion-level groups. The paper also finds the widest spread between
    tracks below ~100 Hz ("deviations of up to around 10 dB are not uncommon") and that genre
    differences are mostly a side effect of how loud the percussion is: more percussion, more
    energy below ~100 Hz and above ~2 kHz, with the mids nearly unmoved.
[P13] P. D. Pestana, Z. Ma, J. D. Reiss, A. Barbosa and D. A. A. Black, "Spectral
    Characteristics of Popular Commercial Recordings 1950-2010", AES 135th Convention, New
    York, 2013, Convention Paper 8960. The LTAS of 772 UK/US number-one records: a near-linear
    decay of about 5 dB/octave (per Hz) from 100 Hz to 4 kHz, steeper above; low-frequency
    energy rising over the decades; by genre, hip-hop (with electronic, pop and rock) louder
    below ~150 Hz and above ~5 kHz than jazz and folk, and the genre with the most energy
    around 30 Hz.

How the numbers were derived (honestly)
---------------------------------------
The papers themselves were not reachable while this was written: the fit coefficients and
slope table of [EF17] and the statements of [P13] above are as quoted, with page references,
in public secondary write-ups (code comments and design notes of audio tools that cite them).
The quotes check against each other: evaluating the quoted quadratic reproduces every quoted
slope to ±0.01 dB/octave and both quoted straight-line slopes (-4.54 over 89 Hz-4.5 kHz, -5.78
over 94 Hz-15.7 kHz) to ±0.02 (tests/mixing/test_reference.py). The fit is read as a level per
Hz (what an FFT analyser shows): only then does its 4.5 dB/octave agree with [P13]'s per-Hz
"about 5" (per octave of bandwidth it would be 7.5). Nothing was read off a figure. [EF17]'s
low fit, as quoted (y = 0.000907 x^2 + 0.256 x - 32.942), does not meet the high fit at the
94 Hz peak (it is 18 dB above it there), so it is not used.

1. Above 94 Hz the base is [EF17]'s fit exactly (:func:`ef17_mean_db`); above 6.4 kHz it is the
   fit's extrapolation ([EF17] fitted up to ~16 kHz, so the `high` band is covered).
2. Below 94 Hz [EF17]'s low fit describes the mean of all popular music, many tracks with
   little below 60 Hz: the least representative part for a genre built on a kick and an 808.
   Following [P13] (hip-hop has the most low end of all genres, down to 30 Hz), the hip-hop
   curve instead keeps equal energy per octave (-3 dB/octave per Hz, rising towards the lows)
   from the 94 Hz peak down into the 808's register, with a second-order roll-off at 35 Hz
   (C1 is 32.7 Hz, the lowest 808 fundamentals): the 40 Hz level per Hz sits ~2 dB above the
   94 Hz peak. This part is modelled, not measured.
3. Hip-hop is drum-led. [EF17] find that more percussion means more energy below ~100 Hz and
   above ~2 kHz, mids unmoved; the curve adds 3 dB on both sides (smooth first-order shelves at
   100 Hz and 2 kHz). The direction is [EF17]'s; the size is a judgment (no per-group level
   could be quoted), about a quarter of the ±10 dB spread [EF17] report at the low end.
4. The density (:func:`ltas_db`) is integrated over each band (1 Hz steps) and turned into
   shares of the total.
5. Styles move bands by the offsets in :data:`STYLE_OFFSETS_DB` (reasons beside each), then the
   shares are normalised to sum to one again. These are production practice, in the direction
   [EF17] and [P13] report (more drums or 808: more low end and top), with magnitudes chosen by
   judgment, not measured.

The resulting tables are :data:`STYLE_REFERENCE_DB` (rounded to 0.1 dB; the tests recompute
them from steps 1-5). Against the earlier *modelled* curve of `audio.quality` (a straight
-4.5 dB/octave line with a 6 dB bass shelf), the measured one, aligned on the median band, has
about 4 dB more low mids and mids, 2.5-4 dB less sub and bass, and 3 dB less `high`: [EF17]'s
slope is flatter than 4.5 dB/octave below ~600 Hz and steeper above ~2 kHz.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import numpy as np

__all__ = [
    "BANDS",
    "DEFAULT_STYLE",
    "STYLES",
    "STYLE_OFFSETS_DB",
    "STYLE_REFERENCE_DB",
    "band_shares_db",
    "ef17_mean_db",
    "ltas_db",
    "range_share_db",
    "reference_db",
    "style_key",
]

# (name, low Hz, high Hz): the six analysis bands of `audio.quality` and the mix critic.
BANDS: tuple[tuple[str, float, float], ...] = (
    ("sub", 20.0, 60.0),
    ("bass", 60.0, 250.0),
    ("low_mid", 250.0, 500.0),
    ("mid", 500.0, 2000.0),
    ("high_mid", 2000.0, 6000.0),
    ("high", 6000.0, 20000.0),
)

#: The curve used when no style is given: generic modern hip-hop.
DEFAULT_STYLE = "hip-hop"
#: Every style with a curve (the plan's styles plus the generic one).
STYLES = ("hip-hop", "trap", "drill", "boom-bap", "lo-fi", "g-funk")
_ALIASES = {
    "hiphop": "hip-hop",
    "hip hop": "hip-hop",
    "rap": "hip-hop",
    "boombap": "boom-bap",
    "boom bap": "boom-bap",
    "lofi": "lo-fi",
    "lo fi": "lo-fi",
    "gfunk": "g-funk",
    "g funk": "g-funk",
}

# [EF17]'s mid/high quadratic (module docstring): dB per Hz on x = 1 + 60 log2(f / 30 Hz).
_EF17_A, _EF17_B, _EF17_C = -0.000183, 0.0213, -16.735
_PEAK_HZ = 94.0  # where [EF17]'s mean LTAS peaks and its two fits meet
_LOW_SLOPE_DB_PER_OCT = 3.0  # below the peak: equal energy per octave (rises 3 dB/oct per Hz)
_ROLL_OFF_HZ = 35.0  # second-order roll-off of the hip-hop low end (C1 = 32.7 Hz)
_DRUM_LIFT_DB = 3.0  # step 3: drum-led genres carry more low end and top ([EF17]'s direction)
_DRUM_LOW_HZ, _DRUM_HIGH_HZ = 100.0, 2000.0  # corners of the two shelves of that lift

#: dB added to a band's share for each style, before renormalising (reasons beside each).
#: Generic hip-hop is the measured curve itself.
STYLE_OFFSETS_DB: dict[str, dict[str, float]] = {
    "hip-hop": {},
    # Long, sustained 808s whose fundamentals sit at 30-60 Hz carry the track; bright, busy
    # hi-hat rolls. [EF17]: heavy percussion lifts both ends.
    "trap": {"sub": 3.0, "high": 1.5},
    # UK/NY drill: sliding 808s as heavy as trap's, darker and sparser top than trap (dark
    # pads, fewer open hats).
    "drill": {"sub": 3.0, "low_mid": -1.0},
    # Sampled breaks and bass lines: kicks tuned at 60-100 Hz rather than an 808 sub, and the
    # sample's mids (horns, keys, snare body) forward; 90s mastering less bright.
    "boom-bap": {"sub": -3.0, "low_mid": 1.0, "mid": 1.5, "high": -1.0},
    # Tape/vinyl emulation and low-passed samples: rolled-off top, high-passed or soft sub,
    # warm low mids.
    "lo-fi": {"sub": -2.0, "low_mid": 1.5, "high_mid": -2.0, "high": -4.0},
    # Synth (Moog-style) bass lines that are full in 60-250 Hz, and the portamento sine lead in
    # the 1-4 kHz range; smooth, not bright, top.
    "g-funk": {"bass": 1.0, "high_mid": 1.0, "high": -1.0},
}

#: Share of each band in the total energy, in dB, per style: steps 1-5 of the module
#: docstring. Shares sum to one up to the rounding.
STYLE_REFERENCE_DB: dict[str, dict[str, float]] = {
    "hip-hop": {
        "sub": -8.0,
        "bass": -4.4,
        "low_mid": -7.6,
        "mid": -6.3,
        "high_mid": -12.0,
        "high": -19.8,
    },
    "trap": {
        "sub": -5.7,
        "bass": -5.1,
        "low_mid": -8.2,
        "mid": -7.0,
        "high_mid": -12.6,
        "high": -18.9,
    },
    "drill": {
        "sub": -5.5,
        "bass": -4.9,
        "low_mid": -9.1,
        "mid": -6.8,
        "high_mid": -12.5,
        "high": -20.3,
    },
    "boom-bap": {
        "sub": -11.3,
        "bass": -4.7,
        "low_mid": -6.8,
        "mid": -5.1,
        "high_mid": -12.2,
        "high": -21.0,
    },
    "lo-fi": {
        "sub": -10.0,
        "bass": -4.3,
        "low_mid": -6.0,
        "mid": -6.3,
        "high_mid": -13.9,
        "high": -23.7,
    },
    "g-funk": {
        "sub": -8.5,
        "bass": -3.9,
        "low_mid": -8.0,
        "mid": -6.8,
        "high_mid": -11.4,
        "high": -21.2,
    },
}


def style_key(style: str | None) -> str:
    """The curve's name for a style ("Boom Bap" → "boom-bap"; None → the generic hip-hop).

    Raises `ValueError` naming the known styles for anything else.
    """
    if style is None:
        return DEFAULT_STYLE
    key = style.strip().lower().replace("_", "-")
    key = _ALIASES.get(key, _ALIASES.get(key.replace("-", " "), key))
    if key not in STYLE_OFFSETS_DB:
        raise ValueError(f"no tonal reference for style {style!r} (known: {', '.join(STYLES)})")
    return key


def ef17_mean_db(freqs_hz: np.ndarray) -> np.ndarray:
    """[EF17]'s mid/high fit of the mean LTAS of popular music, dB per Hz (relative).

    Valid from its 94 Hz peak up; below it this returns the fit's value at 94 Hz (the low end
    is :func:`ltas_db`'s business). Frequencies <= 0 give -inf.
    """
    f = np.asarray(freqs_hz, dtype=np.float64)
    x = 1.0 + 60.0 * np.log2(np.maximum(f, _PEAK_HZ) / 30.0)
    return np.where(f > 0, _EF17_A * x**2 + _EF17_B * x + _EF17_C, -np.inf)


def ltas_db(freqs_hz: np.ndarray) -> np.ndarray:
    """The hip-hop long-term average spectrum, dB per Hz (relative), at these frequencies.

    Steps 1-3 of the module docstring: [EF17]'s fit from 94 Hz up; below it, equal energy per
    octave down to a second-order roll-off at 35 Hz; plus the drum-led lift of 3 dB below
    ~100 Hz and above ~2 kHz. Frequencies <= 0 give -inf.
    """
    f = np.asarray(freqs_hz, dtype=np.float64)
    safe = np.maximum(f, 1e-9)
    out = ef17_mean_db(safe)
    out = out + np.where(safe < _PEAK_HZ, _LOW_SLOPE_DB_PER_OCT * np.log2(_PEAK_HZ / safe), 0.0)
    # |H|^2 of a 2nd-order Butterworth high-pass: 1 / (1 + (fc/f)^4).
    out = out - 10.0 * np.log10(1.0 + (_ROLL_OFF_HZ / safe) ** 4)
    # First-order shelves (power weights that cross 1/2 at the corner) for the drum lift.
    low_weight = 1.0 / (1.0 + (safe / _DRUM_LOW_HZ) ** 2)
    high_weight = 1.0 / (1.0 + (_DRUM_HIGH_HZ / safe) ** 2)
    out = out + _DRUM_LIFT_DB * (low_weight + high_weight)
    return np.where(f > 0, out, -np.inf)


_GRID_HZ = np.arange(1.0, 24001.0)  # 1 Hz steps: the integration grid of the band shares


@functools.cache
def _grid_density() -> np.ndarray:
    density = ltas_db(_GRID_HZ)
    density.flags.writeable = False  # shared by every caller
    return density


def _band_power(
    density_db: np.ndarray, offsets: Mapping[str, float], lo: float, hi: float
) -> float:
    """Energy of the (offset) density between lo and hi, band offsets applied piecewise."""
    total = 0.0
    for name, b_lo, b_hi in BANDS:
        a, b = max(lo, b_lo), min(hi, b_hi)
        if a >= b:
            continue
        grid = _GRID_HZ
        sel = (grid >= a) & (grid < b)
        gain = 10.0 ** (offsets.get(name, 0.0) / 10.0)
        total += gain * float(np.sum(10.0 ** (density_db[sel] / 10.0)))
    return total


def band_shares_db(
    style: str | None = None, extra_offsets_db: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Recompute a style's band shares (dB) from the density and the offsets (steps 1-5).

    `extra_offsets_db` adds per-band dB on top of the style's (as a mix's tonal targets do).
    The result is unrounded; :data:`STYLE_REFERENCE_DB` holds the rounded tables.
    """
    offsets = _offsets(style, extra_offsets_db)
    density = _grid_density()
    power = {name: _band_power(density, offsets, lo, hi) for name, lo, hi in BANDS}
    total = sum(power.values())
    return {name: 10.0 * math.log10(p / total) for name, p in power.items()}


def range_share_db(
    lo_hz: float,
    hi_hz: float,
    style: str | None = None,
    extra_offsets_db: Mapping[str, float] | None = None,
) -> float:
    """Share (dB) of the 20 Hz-20 kHz total that the style's curve puts between lo and hi Hz.

    For ranges that are not one of the bands (the critic's 2-5 kHz harshness and 200-500 Hz mud
    regions); band offsets apply piecewise, as in :func:`band_shares_db`.
    """
    offsets = _offsets(style, extra_offsets_db)
    density = _grid_density()
    total = _band_power(density, offsets, BANDS[0][1], BANDS[-1][2])
    return 10.0 * math.log10(_band_power(density, offsets, lo_hz, hi_hz) / total)


def _offsets(style: str | None, extra_offsets_db: Mapping[str, float] | None) -> dict[str, float]:
    offsets = dict(STYLE_OFFSETS_DB[style_key(style)])
    for name, db in (extra_offsets_db or {}).items():
        offsets[name] = offsets.get(name, 0.0) + db
    return offsets


def reference_db(style: str | None = None) -> dict[str, float]:
    """The style's band shares in dB (a copy of its row of :data:`STYLE_REFERENCE_DB`)."""
    return dict(STYLE_REFERENCE_DB[style_key(style)])
