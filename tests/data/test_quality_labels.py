"""Near misses for the quality head: the own mix with its faders, EQ and pans nudged."""

from __future__ import annotations

import math

import numpy as np
import pytest

from producer.data.quality_labels import nudged_script
from producer.errors import ProducerError
from producer.faust.validate import validate
from producer.faust.writer import random_script
from producer.mixing.strips import parse_mix

ROLES = ["drums", "bass", "harmony"]
SR = 44100


@pytest.mark.parametrize("seed", range(6))
def test_a_near_miss_moves_every_fader_a_few_db_and_stays_in_the_writer_language(seed):
    rng = np.random.default_rng(seed)
    script = random_script(ROLES, rng, SR)
    nudged = nudged_script(script, ROLES, SR, rng)
    validate(nudged, roles=ROLES, sample_rate=SR)
    before, after = parse_mix(script, ROLES, SR), parse_mix(nudged, ROLES, SR)
    assert after.master == before.master
    for old, new in zip(before.strips, after.strips, strict=True):
        moved = abs(20 * math.log10(new.gain / old.gain))
        # 1-6 dB, snapped to the fader grid (its coarsest steps are ~1.6 dB apart); a fader
        # at the grid's end cannot move further out
        assert moved <= 7.0
        assert moved >= 0.4 or new.gain in (0.1, 2.0)
        assert abs(new.pan - old.pan) <= 0.25 + 0.025
        for name in ("low_shelf", "peak", "high_shelf"):
            old_eq, new_eq = getattr(old, name), getattr(new, name)
            assert abs(new_eq[0] - old_eq[0]) <= 4.5 + 0.75
            if new_eq[0]:  # (nudged to 0 dB it is not written, and reads back as the default)
                assert new_eq[1:] == old_eq[1:]  # frequency and Q stay
            if not old_eq[0]:
                assert not new_eq[0]  # an EQ the mix did not use stays off


def test_a_near_miss_of_a_script_outside_the_writer_language_is_refused():
    script = random_script(ROLES, np.random.default_rng(0), SR).replace(
        "bass_process = ", "bass_process = fi.highpass(3, 55) : ", 1
    )
    with pytest.raises(ProducerError):
        nudged_script(script, ROLES, SR, np.random.default_rng(1))
