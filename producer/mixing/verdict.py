"""What the mix critic concludes: each check with its number, limit and sentence (`Check`), and
the whole verdict on a mix (`MixVerdict`), with its JSON form for `result.json`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

__all__ = ["Check", "MixVerdict", "finite"]


@dataclass(frozen=True)
class Check:
    """One measured check: its number, its limit and what an engineer would say about it."""

    name: str
    passed: bool
    #: The measured number (units per check; None when it could not be measured).
    value: float | None
    #: The limit: a bound, or an inclusive (lo, hi) range.
    limit: float | tuple[float, float] | None
    stem: str | None = None
    band: str | None = None
    #: One of the basics (`MixVerdict.passes_basics`).
    basic: bool = False
    message: str = ""
    #: Distance outside the limit in the check's scale (0 when passed); drives the score.
    severity: float = 0.0
    weight: float = 1.0
    #: `asked_for` only: the signed move the prompt's words asked for (dB or LU).
    asked: float | None = None

    def to_dict(self) -> dict:
        out = asdict(self)
        out["value"] = finite(self.value)
        if isinstance(self.limit, tuple):
            out["limit"] = [float(v) for v in self.limit]
        return out


@dataclass(frozen=True)
class MixVerdict:
    """Everything the critic measured and concluded about one mix."""

    checks: list[Check]
    #: role → integrated loudness of its solo render (LUFS, pre-master level; None if silent).
    stem_lufs: dict[str, float | None]
    #: role → stem LUFS minus the pre-master mix's LUFS (LU; None if silent).
    balance_lu: dict[str, float | None]
    #: band → numbers of the master: low_hz, high_hz, share_db (of the total), target_db,
    #: deviation_db (median-aligned), side_share and correlation (None where undefined).
    bands: dict[str, dict[str, float | None]]
    style: str | None = None
    mix_lufs: float | None = None
    master_lufs: float | None = None
    plr_db: float | None = None
    score: float = 1.0
    passes_basics: bool = True
    #: The messages of the failed checks, basics first.
    findings: list[str] = field(default_factory=list)

    def check(self, name: str, stem: str | None = None, band: str | None = None) -> Check:
        """The first check of this name (and stem / band, when given); KeyError if none."""
        for c in self.checks:
            if c.name == name and stem in (None, c.stem) and band in (None, c.band):
                return c
        raise KeyError(f"no check {name!r} for stem={stem!r} band={band!r}")

    def failed(self) -> list[Check]:
        """The checks that did not pass, in check order."""
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict:
        """Plain JSON-ready data (finite floats only), for `result.json`."""
        return {
            "style": self.style,
            "score": round(self.score, 4),
            "passes_basics": self.passes_basics,
            "findings": list(self.findings),
            "mix_lufs": finite(self.mix_lufs),
            "master_lufs": finite(self.master_lufs),
            "plr_db": finite(self.plr_db),
            "stem_lufs": {k: finite(v) for k, v in self.stem_lufs.items()},
            "balance_lu": {k: finite(v) for k, v in self.balance_lu.items()},
            "bands": {k: {n: finite(v) for n, v in d.items()} for k, d in self.bands.items()},
            "checks": [c.to_dict() for c in self.checks],
        }


def finite(value: float | None) -> float | None:
    """A float rounded for JSON, or None for None, NaN and infinities."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 4)
