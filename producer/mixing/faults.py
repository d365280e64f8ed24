"""Engineers' mistakes planted in a mix script: the bad examples the quality head learns from.

``plant(script, roles, "bass_highpass", severity=1.0)`` returns the script with the bass
high-passed at 400 Hz; at severity 0.3 the cut sits lower (about 160 Hz). Each fault is one
thing a mix engineer would catch at once, and each has a check of the critic that sees it:

    bass_highpass    the bass high-passed at 120-400 Hz              critic: low_end_kept
    stem_down        one musical stem 8-24 dB down                   critic: balance, buried
    stem_up          one stem 6-15 dB up                             critic: overpowering
    harsh_boost      +5-12 dB around 2.5-4 kHz on every stem         critic: presence_boost
    mud_boost        +6-15 dB around 300-350 Hz on every stem        critic: mud
    bass_off_centre  the bass panned 60-100 % to one side            critic: low_end_mono
    reverb_on_bass   a reverb send on the bass                       critic: low_end_reverb

The fault goes first in the stem's chain (before the engineer's own processing), or replaces
its panner, so the rest of the script is untouched and a mix with the fault differs from the
same mix without it in that one respect. The result is a valid mix script of the full language
(`faust.validate`), not always a sentence of the writer's narrower grammar. Severity in (0, 1]
scales each fault between its mildest and its worst form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["FAULTS", "plant"]

FAULTS = (
    "bass_highpass",
    "stem_down",
    "stem_up",
    "harsh_boost",
    "mud_boost",
    "bass_off_centre",
    "reverb_on_bass",
)
# The stems a level fault picks from, most telling first (a buried texture is barely a fault).
_MUSICAL = ("harmony", "melody", "bass", "drums", "vocals")


def _between(lo: float, hi: float, severity: float) -> float:
    return lo + (hi - lo) * severity


def _first(script: str, role: str, effect: str) -> str:
    """`effect` put first in `role`'s chain."""
    return re.sub(rf"^({role}_process = )", rf"\g<1>{effect} : ", script, count=1, flags=re.M)


def _pan(script: str, role: str, pan: float) -> str:
    """`role`'s panner set to `pan` (0 hard left, 1 hard right)."""
    return re.sub(
        rf"^({role}_process = .*)sp\.panner\([^)]*\);",
        rf"\g<1>sp.panner({pan:g});",
        script,
        count=1,
        flags=re.M,
    )


def applicable(kind: str, roles: Sequence[str]) -> bool:
    """Whether `kind` can be planted in a mix of these stems."""
    if kind in ("bass_highpass", "bass_off_centre", "reverb_on_bass"):
        return "bass" in roles
    if kind in ("stem_down", "stem_up"):
        return any(r in roles for r in _MUSICAL) and len(roles) >= 2
    return bool(roles)


def plant(
    script: str, roles: Sequence[str], kind: str, severity: float = 1.0, pick: int = 0
) -> str:
    """`script` with the fault `kind` (one of FAULTS) at `severity` in (0, 1].

    `pick` chooses the stem for the level faults among the musical stems present (modulo
    their number). Raises ValueError for an unknown fault, a severity out of range, or a
    fault that needs a stem the mix does not have (see `applicable`).
    """
    if kind not in FAULTS:
        raise ValueError(f"unknown fault {kind!r} (known: {', '.join(FAULTS)})")
    if not 0.0 < severity <= 1.0:
        raise ValueError(f"severity must be in (0, 1], got {severity}")
    if not applicable(kind, roles):
        raise ValueError(f"fault {kind!r} needs stems this mix lacks: {', '.join(roles)}")
    s = severity
    if kind == "bass_highpass":
        return _first(script, "bass", f"fi.highpass(2, {round(_between(120, 400, s)):d})")
    if kind == "bass_off_centre":
        return _pan(script, "bass", round(0.5 - _between(0.3, 0.5, s), 2))
    if kind == "reverb_on_bass":
        send = round(_between(0.1, 0.4, s), 2)
        wet = f"(_ <: _, (re.mono_freeverb(0.88, 0.5, 0.2, 23) : *({send:g})) :> _)"
        return _first(script, "bass", wet)
    if kind in ("stem_down", "stem_up"):
        musical = [r for r in _MUSICAL if r in roles]
        role = musical[pick % len(musical)]
        db = -_between(8, 24, s) if kind == "stem_down" else _between(6, 15, s)
        return _first(script, role, f"*({10 ** (db / 20):.4g})")
    # A bell wide enough to lift the whole range the critic measures (2-5 kHz, 200-500 Hz).
    freq, db, q = (
        (round(_between(2500, 4000, s)), _between(5, 12, s), 1)
        if kind == "harsh_boost"
        else (round(_between(350, 300, s)), _between(6, 15, s), 0.7)
    )
    out = script
    for role in roles:
        out = _first(out, role, f"fi.peak_eq_cq({db:.3g}, {freq:d}, {q:g})")
    return out
