"""Planted mix faults: each one renders, and the critic sees it where it should."""

from __future__ import annotations

import pytest

from producer.faust.validate import validate
from producer.mixing.critic import critique_script
from producer.mixing.faults import FAULTS, applicable, plant
from producer.mixing.reference import style_targets
from tests.mixing import synthetic

SR = 22050
# fault → the critic's check that must fail for it (and the stem it names, where it has one)
SEEN_BY = {
    "bass_highpass": ("low_end_kept", "bass"),
    "stem_down": ("balance", "harmony"),
    "stem_up": ("overpowering", "harmony"),
    "harsh_boost": ("harshness", None),
    "mud_boost": ("mud", None),
    "bass_off_centre": ("low_end_mono", None),
    "reverb_on_bass": ("low_end_reverb", "bass"),
}


@pytest.fixture(scope="module")
def clean():
    stems = synthetic.stems(4.0, SR)
    script = synthetic.script()
    verdict, _ = critique_script(script, stems, SR, style_targets("trap"))
    return stems, script, verdict


def test_every_fault_has_a_check():
    assert set(SEEN_BY) == set(FAULTS)


@pytest.mark.parametrize("kind", FAULTS)
def test_a_planted_fault_renders_fails_its_check_and_lowers_the_score(clean, kind):
    stems, script, verdict = clean
    assert verdict.passes_basics
    faulty = plant(script, list(stems), kind, severity=1.0)
    assert faulty != script
    validate(faulty, roles=list(stems), sample_rate=SR)
    bad, _ = critique_script(faulty, stems, SR, style_targets("trap"))
    name, stem = SEEN_BY[kind]
    failed = [c for c in bad.failed() if c.name == name and stem in (None, c.stem)]
    assert failed, (kind, bad.findings)
    assert bad.score < verdict.score


def test_milder_faults_cost_less(clean):
    stems, script, _ = clean
    scores = [
        critique_script(plant(script, list(stems), "bass_highpass", s), stems, SR,
                        style_targets("trap"))[0].score
        for s in (0.2, 1.0)
    ]  # fmt: skip
    assert scores[0] > scores[1]


def test_faults_refuse_what_they_cannot_do():
    with pytest.raises(ValueError, match="unknown fault"):
        plant("x", ["bass"], "gremlins")
    with pytest.raises(ValueError, match="severity"):
        plant("x", ["bass"], "bass_highpass", 0.0)
    assert not applicable("bass_highpass", ["drums", "melody"])
    with pytest.raises(ValueError, match="lacks"):
        plant("x", ["drums", "melody"], "bass_highpass")
