"""Each stem's loudness in a mix as a fixed-size vector: what the quality head reads beside the
master's features.

The mix critic fails most of the Faust writer's candidates on `balance` (a stem's loudness in
the mix outside the style's range). A master's features hide that: a chord stem 10 LU too low
and a mix that is only a little dark read almost alike. The critic measures it from each
stem's solo render through its chain (`MixVerdict.balance_lu`); this packs those numbers, in
`ROLES` order, so the learned score can weigh them as an engineer reads the meters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from producer.plan import ROLES

__all__ = ["STEM_BALANCE_DIM", "stem_balance_vector"]

#: A value and a "measured" flag per role.
STEM_BALANCE_DIM = 2 * len(ROLES)
# Balances are clipped to this range (LU): quieter than -40 LU is as good as silent, and a stem
# louder than the whole mix by 10 LU cannot happen.
_LO_LU, _HI_LU = -40.0, 10.0
_SCALE_LU = 10.0  # keeps the values within a few units, as the other standardised inputs


def stem_balance_vector(balance_lu: Mapping[str, float | None] | None) -> np.ndarray:
    """(STEM_BALANCE_DIM,) float32: each role's balance (LU against the pre-master mix, clipped
    and scaled) and 1.0 where the mix has that stem; all zeros without a measurement (a mix
    alone, or a script that does not split into per-stem chains). A stem silent in the mix
    (None or -inf) reads as the floor."""
    out = np.zeros(STEM_BALANCE_DIM, np.float32)
    if not balance_lu:
        return out
    for k, role in enumerate(ROLES):
        if role not in balance_lu:
            continue
        value = balance_lu[role]
        lu = _LO_LU if value is None or not math.isfinite(value) else value
        out[k] = float(np.clip(lu, _LO_LU, _HI_LU)) / _SCALE_LU
        out[len(ROLES) + k] = 1.0
    return out
