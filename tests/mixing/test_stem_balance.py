"""`stem_balance_vector`: the critic's per-stem balance as the quality head reads it."""

from __future__ import annotations

import math

import numpy as np

from producer.mixing.stem_balance import STEM_BALANCE_DIM, stem_balance_vector
from producer.plan import ROLES


def test_each_role_has_its_value_and_flag_in_roles_order():
    v = stem_balance_vector({"bass": -6.0, "drums": -3.0})
    assert v.shape == (STEM_BALANCE_DIM,) and v.dtype == np.float32
    n = len(ROLES)
    assert v[ROLES.index("drums")] == np.float32(-0.3)
    assert v[ROLES.index("bass")] == np.float32(-0.6)
    flags = v[n:]
    assert [r for r, f in zip(ROLES, flags, strict=True) if f == 1.0] == ["drums", "bass"]
    assert not v[:n][[ROLES.index(r) for r in ROLES if r not in ("drums", "bass")]].any()


def test_a_silent_stem_reads_as_the_floor_and_values_are_clipped():
    v = stem_balance_vector({"drums": None, "bass": -math.inf, "melody": 25.0, "vocals": -80.0})
    n = len(ROLES)
    for role in ("drums", "bass", "vocals"):
        assert v[ROLES.index(role)] == -4.0 and v[n + ROLES.index(role)] == 1.0
    assert v[ROLES.index("melody")] == 1.0


def test_no_measurement_is_all_zeros():
    assert not stem_balance_vector(None).any()
    assert not stem_balance_vector({}).any()
