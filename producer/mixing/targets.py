"""What a good mix of one production aims at: the targets the mix critic checks against.

`MixTargets` is the contract between three parts of the `mixing` layer:

- `reference.style_targets(style)` gives the defaults of a style (balance ranges per role, the
  tonal target curve, width, dynamics), each number with its source written beside it;
- `descriptors.apply_descriptors(targets, prompt)` moves them by the prompt's words ("heavy 808"
  raises the bass range, "bright" tilts the curve up, "wide" widens the stereo target);
- `critic.critique(...)` measures a mix and checks it against them.

Every level is relative, so a target holds at any master loudness:

- balance: a stem's loudness (BS.1770 integrated, of its solo render through its own chain, as
  it sits in the mix before the master bus) minus the loudness of the whole pre-master mix, in
  LU. A stem at -3 LU carries about half of the mix's loudness;
- tonal: each analysis band's deviation (dB) from the style's target curve, after removing the
  median offset over the bands (`audio.quality` does the same against its reference);
- width: the side share S²/(M²+S²) of the master above `WIDTH_FROM_HZ`, and L/R correlation
  below `MONO_BELOW_HZ` for the low end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from producer.audio.reference_spectra import band_shares_db, reference_db

__all__ = ["MONO_BELOW_HZ", "WIDTH_FROM_HZ", "MixTargets"]

#: Below this the low end should be mono (kick and bass centred; vinyl-cutting practice).
MONO_BELOW_HZ = 150.0
#: The master's width is measured above this (below it the mix should be mono anyway).
WIDTH_FROM_HZ = 500.0


@dataclass(frozen=True)
class MixTargets:
    """The aims of one mix. Ranges are inclusive (lo, hi); see the module docstring for units."""

    style: str | None = None
    #: role → (lo, hi) LU of the stem's solo render against the whole pre-master mix.
    balance_lu: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    #: band name (as `audio.quality.BANDS`) → target level, dB relative to the style curve
    #: (0 everywhere by default; descriptors tilt it: "bright" raises high-mid and high).
    tonal_offset_db: Mapping[str, float] = field(default_factory=dict)
    #: how far a band may sit from its target before it is a finding, dB.
    tonal_tolerance_db: float = 4.5
    #: (lo, hi) side share of the master above WIDTH_FROM_HZ.
    width: tuple[float, float] = (0.02, 0.35)
    #: lowest L/R correlation of the master below MONO_BELOW_HZ.
    low_end_min_correlation: float = 0.9
    #: (lo, hi) peak-to-loudness ratio of the master, dB (true peak minus integrated LUFS).
    plr_db: tuple[float, float] = (7.0, 16.0)
    #: master loudness the renderer aims at, LUFS ("loud" raises it).
    master_lufs: float = -14.0
    #: (lo, hi) share of saturation the chains may add (the writer's `ef.cubicnl` drive,
    #: averaged over stems): "dusty"/"raw" raise it, "clean" lowers it.
    drive: tuple[float, float] = (0.0, 0.3)
    #: What the prompt's words asked for, and by how much (dB or LU, signed): "band:<name>"
    #: (tonal offset), "balance:<role>" (balance shift), "width" (side level shift). Set by
    #: `descriptors.apply_descriptors`; the critic checks that the mix went at least half way
    #: (`asked_for`), and the mixing teacher aims at these harder than at the rest.
    asked: Mapping[str, float] = field(default_factory=dict)

    def with_balance(self, role: str, shift_lu: float) -> MixTargets:
        """The same targets with `role`'s balance range moved by `shift_lu` (a no-op for a role
        without a range)."""
        if role not in self.balance_lu:
            return self
        lo, hi = self.balance_lu[role]
        balance = dict(self.balance_lu)
        balance[role] = (lo + shift_lu, hi + shift_lu)
        return replace(self, balance_lu=balance)

    def tonal_target_db(self) -> dict[str, float]:
        """Each band's target share of the master's energy, dB: the style's measured curve
        (`audio.reference_spectra`) with `tonal_offset_db` applied and renormalised."""
        if not any(self.tonal_offset_db.values()):
            return reference_db(self.style)
        return band_shares_db(self.style, self.tonal_offset_db)

    def with_tonal(self, offsets: Mapping[str, float]) -> MixTargets:
        """The same targets with band offsets added (dB)."""
        tonal = dict(self.tonal_offset_db)
        for band, db in offsets.items():
            tonal[band] = tonal.get(band, 0.0) + db
        return replace(self, tonal_offset_db=tonal)
