"""ProductionPlan: the seed example parses, flats normalise, unknown values are clear errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from producer.plan import ProductionPlan, normalize_key

EXAMPLE = {
    "prompt": "Create a dark trap beat with heavy 808s",
    "style": "trap",
    "mood": ["dark"],
    "bpm": 142.0,
    "key": "F",
    "mode": "minor",
    "duration": 20.0,
    "target_lufs": -14.0,
    "stems": [
        {"role": "drums", "source": "generate", "generator": "drums", "params": {}},
        {"role": "bass", "source": "generate", "generator": "808", "params": {"glide": 0.6}},
        {"role": "vocals", "source": "input"},
    ],
}


def test_issue_example_parses_and_round_trips():
    plan = ProductionPlan.model_validate(EXAMPLE)
    assert plan.roles == ["drums", "bass", "vocals"]
    assert plan.stem("bass").params == {"glide": 0.6}
    assert plan.stem("melody") is None  # a role not listed is omitted
    assert ProductionPlan.model_validate_json(plan.model_dump_json()) == plan
    assert plan.seconds_per_bar == pytest.approx(4 * 60 / 142)


@pytest.mark.parametrize(
    ("given", "expected"), [("Eb", "D#"), ("bb", "A#"), ("f#", "F#"), ("E#", "F"), ("C", "C")]
)
def test_flats_are_written_as_sharps(given, expected):
    assert normalize_key(given) == expected
    assert ProductionPlan(key=given).key == expected


@pytest.mark.parametrize(
    ("field", "value", "word"),
    [
        ("style", "polka", "style"),
        ("key", "H", "key"),
        ("mode", "dorian", "mode"),
        ("bpm", 500, "bpm"),
        ("duration", -1, "duration"),
        ("stems", [{"role": "kazoo"}], "role"),
        ("stems", [{"role": "drums", "source": "radio"}], "source"),
        ("stems", [{"role": "drums"}, {"role": "drums"}], "two stems"),
        (
            "stems",
            [{"role": "vocals", "source": "input", "generator": "808"}],
            "takes no generator",
        ),
        ("tempo", 120, "tempo"),
    ],
)
def test_unknown_values_are_clear_validation_errors(field, value, word):
    with pytest.raises(ValidationError) as info:
        ProductionPlan.model_validate({**EXAMPLE, field: value})
    assert word in str(info.value)
