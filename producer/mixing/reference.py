"""Per-style defaults of the mix targets: `style_targets(style) -> MixTargets`.

Where every number comes from:

- **Tonal curve**: `audio.reference_spectra` (the long-term average spectrum of commercial
  music measured by Elowsson & Friberg 2017 and Pestana et al. 2013, with a modelled hip-hop
  low end and per-style offsets; that module separates the measured from the judged parts).
  `MixTargets.tonal_target_db()` reads it by the targets' `style`.
- **Balance ranges** (LU of a stem's solo render against the whole pre-master mix): mixing
  practice, turned into numbers with one piece of arithmetic. N stems of equal loudness each
  sit at about -10·log10(N) LU (4 stems: -6 LU; 6: -7.8). A hip-hop mix is built on drums and
  bass (kick + 808), which carry most of the loudness: each sits around -3 to -6 LU; a lead
  vocal rides on top of the beat (-1 to -7 LU); a melody or hook sits under the drums (-3 to
  -14); chords and pads fill underneath (-4 to -17); effects and textures further down. The
  ranges are wide on purpose: a mix inside them is sensible, and the faults the critic exists
  for lie far outside (chords 15 LU under a bass at -4 LU read -19 LU; an 808 6 LU over
  everything else about -1 LU, which the `overpowering` check also catches directly).
  Styles move the ranges (reasons beside each). Checked against two mixes:
  - the synthetic trap production of tests/mixing mixed with an engineer's chains (drums
    -3.8, bass -7.0, chords -8.0, lead -7.0, texture -15.5 LU) passes them in every style;
  - the project's flat reference mix (the built-in generators' drums, bass, chords and
    melody at unit gain, as `audio.mastering.reference_mix` sums them; measured outside this
    layer, which may not import it; 8 s, seeds 0 and 1) reads drums -4.6 to -8.1 LU, bass
    -1.2 to -2.2 (g-funk's synth bass -5.6 to -5.9), chords -10.0 to -13.8, melody -9.5 to
    -14.9 (g-funk's lead -2.7): inside the ranges except the unit-gain bass, at or up to
    0.3 LU over the top in boom-bap and lo-fi (the generators' 808s and bass lines are hot;
    an engineer pulls them down a few dB, and the critic says so), and lo-fi's melody 0.1 LU
    under its floor.
- **Width**: side share S²/(M²+S²) of the master above 500 Hz. For two channels of equal level
  the side share is (1 - ρ)/2, so 0.02-0.35 is an L/R correlation between 0.96 (nearly mono)
  and 0.3 (very wide but still mono-safe; commercial masters sit in between on a correlation
  meter). Boom-bap, built on mono samples, is allowed narrower; trap's wide hats and pads wider.
- **Low end mono**: L/R correlation of 0.9 or more below 150 Hz (`targets.MONO_BELOW_HZ`):
  vinyl-cutting and club practice keep kick and bass centred, and a wide low end loses level
  when a phone or club system sums to mono.
- **PLR** (true peak minus integrated loudness of the master): streaming-normalised masters at
  -14 LUFS with a -1 dBTP ceiling read up to ~13 dB; the loudness-war masters at -8 LUFS about
  7; under ~6-7 the mix has been flattened. Trap/drill masters are denser (6-16), boom-bap and
  lo-fi keep more transients (8-18).
"""

from __future__ import annotations

from dataclasses import replace

from producer.audio.reference_spectra import style_key
from producer.mixing.targets import MixTargets

__all__ = ["BALANCE_LU", "style_targets"]

#: role → (lo, hi) LU against the whole pre-master mix, for generic hip-hop.
BALANCE_LU: dict[str, tuple[float, float]] = {
    "drums": (-10.0, -1.5),  # the groove: with the bass, most of the mix's loudness
    "bass": (-11.0, -1.5),  # the 808 / bass line: as loud as the drums or a little under
    "vocals": (-8.0, -0.5),  # a lead vocal rides on top of the beat
    "melody": (-15.0, -3.0),  # the hook: under the drums, clearly audible
    "harmony": (-17.0, -4.0),  # chords and pads fill underneath
    "other": (-22.0, -5.0),  # textures and effects
}

#: Per-style shifts of the balance ranges, LU (added to both ends).
_BALANCE_SHIFT: dict[str, dict[str, float]] = {
    "hip-hop": {},
    # The 808 carries trap and drill: the bass may sit higher, chords lower.
    "trap": {"bass": 0.5, "harmony": -1.0},
    "drill": {"bass": 0.5, "harmony": -1.0},
    # Boom-bap: drums (the break) first, the bass line from a sample under them, the sample's
    # melody forward.
    "boom-bap": {"drums": 0.5, "bass": -1.0, "melody": 1.0},
    # Lo-fi: soft drums, the chords (keys, guitar) carry the track.
    "lo-fi": {"drums": -1.0, "harmony": 2.0, "melody": 1.0},
    # G-funk: the synth bass line and the high portamento lead are the sound.
    "g-funk": {"bass": 0.5, "melody": 1.5},
}

_WIDTH: dict[str, tuple[float, float]] = {
    "hip-hop": (0.02, 0.35),
    "trap": (0.02, 0.40),
    "drill": (0.02, 0.40),
    "boom-bap": (0.01, 0.30),
    "lo-fi": (0.02, 0.35),
    "g-funk": (0.02, 0.38),
}

_PLR_DB: dict[str, tuple[float, float]] = {
    "hip-hop": (7.0, 16.0),
    "trap": (6.0, 16.0),
    "drill": (6.0, 16.0),
    "boom-bap": (8.0, 18.0),
    "lo-fi": (8.0, 18.0),
    "g-funk": (7.0, 16.0),
}


def style_targets(style: str | None) -> MixTargets:
    """The default targets of a style ("trap", "boom-bap", "lo-fi", "drill", "g-funk"; None for
    generic hip-hop). Raises `ValueError` for a style with no reference."""
    key = style_key(style)
    shifts = _BALANCE_SHIFT[key]
    balance = {
        role: (lo + shifts.get(role, 0.0), hi + shifts.get(role, 0.0))
        for role, (lo, hi) in BALANCE_LU.items()
    }
    return replace(
        MixTargets(),
        style=None if style is None else key,
        balance_lu=balance,
        width=_WIDTH[key],
        plr_db=_PLR_DB[key],
    )
