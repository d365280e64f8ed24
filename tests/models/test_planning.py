"""decide_plan: the words win, then the input song, then what the prompt implies, then the model."""

from __future__ import annotations

import numpy as np
import pytest

from producer.errors import PlanError
from producer.models.planning import InputAnalysis, PlanningPrediction, decide_plan
from producer.models.prompt_rules import parse_prompt
from producer.plan import KEYS, MODES, ROLES, STYLE_BPM, STYLES


def prediction(roles=("drums", "bass", "melody", "harmony"), style="boom-bap", mode="major",
               key="C", bpm=92.0) -> PlanningPrediction:  # fmt: skip
    """A planning head's output that is sure of its choices."""

    def onehot(names, name):
        p = np.full(len(names), 0.02)
        p[names.index(name)] = 1.0
        return p / p.sum()

    return PlanningPrediction(
        roles=np.array([0.9 if r in roles else 0.1 for r in ROLES]),
        style=onehot(STYLES, style),
        mode=onehot(MODES, mode),
        key=onehot(KEYS, key),
        bpm=bpm,
    )


def plan(text, pred=None, **kw):
    return decide_plan(text, pred or prediction(), parse_prompt(text), **kw)


def test_named_stems_are_made_even_when_the_model_would_leave_them_out():
    p = plan("trap beat, massive booming 808 bass, bass-heavy mix", prediction(roles=("drums",)))
    assert p.roles == ["drums", "bass"] and p.stem("bass").generator == "808"
    why = {r.field: r for r in p.reasons}
    assert why["bass"].source == "prompt" and why["bass"].value == "make"
    assert why["drums"].source == "model" and why["drums"].confidence == pytest.approx(0.9)


def test_a_restriction_gives_exactly_its_stems_whatever_the_model_says():
    p = plan("just drums and a rhodes")
    assert p.roles == ["drums", "harmony"] and p.stem("harmony").params == {"instrument": "keys"}
    why = {r.field: r for r in p.reasons}
    assert why["bass"].value == "leave out" and why["bass"].rule == "restriction"


def test_refused_stems_are_left_out():
    assert plan("no drums, no vocals").roles == ["bass", "melody", "harmony"]


def test_named_fx_are_made_on_the_melody_generator():
    assert "other" in plan("lofi with vinyl crackle and risers").roles


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("heavy 808s but no bass at all", "bass"),
        ("no drums, drums only", "drums"),
        ("no drums, no bass, no melody, no chords", "leave at least one in"),
        ("a beat with no instruments at all", "leave at least one in"),
        ("just vocals", "no generator sings"),
        ("a cappella only", "no generator sings"),
    ],
)
def test_empty_or_self_contradicting_requests_raise_one_clear_error(text, words):
    with pytest.raises(PlanError, match=words) as err:
        plan(text)
    assert "\n" not in str(err.value)


def test_vocals_asked_for_without_an_input_are_noted_not_dropped():
    p = plan("trap beat with a vocal hook")
    assert "vocals" not in p.roles and p.needs_input == ["vocals"]
    kept = plan("trap beat with a vocal hook", analysis=InputAnalysis(role="vocals"))
    assert kept.stem("vocals").source == "input" and kept.needs_input == []


def test_the_tempo_stays_inside_the_style_range_and_tempo_words_place_it():
    lo, hi = STYLE_BPM["trap"]
    assert plan("ATL beat", prediction(bpm=90.0)).bpm == lo  # the model's boom-bap tempo, clamped
    assert plan("slow ATL beat").bpm == pytest.approx(lo + 0.2 * (hi - lo), abs=0.5)
    assert plan("fast ATL beat").bpm == pytest.approx(lo + 0.8 * (hi - lo), abs=0.5)
    assert plan("head-nod boom bap").bpm == pytest.approx(91.5, abs=0.5)
    assert plan("slow ATL beat at 171 bpm").bpm == 171  # a stated tempo wins
    assert plan("slow ATL beat", analysis=InputAnalysis(bpm=128.0)).bpm == 128  # then the song's


def test_the_mode_comes_from_the_words_then_the_song_then_the_mood_then_the_model():
    assert plan("melancholic boom bap").mode == "minor"  # the model says major
    assert plan("melancholic boom bap in C major").mode == "major"
    assert plan("melancholic boom bap", analysis=InputAnalysis(mode="major")).mode == "major"
    assert plan("boom bap").mode == "major"
    why = {r.field: r for r in plan("sunny, laid-back California").reasons}
    assert (why["mode"].value, why["mode"].words) == ("major", ["sunny"])
    assert (why["style"].value, why["style"].words) == ("g-funk", ["California"])


def test_every_field_has_a_reason():
    p = plan("dark trap beat at 140 bpm in F minor, no melody")
    fields = {r.field for r in p.reasons}
    assert {"style", "bpm", "key", "mode", "drums", "bass", "melody", "harmony"} <= fields
    sources = {r.field: r.source for r in p.reasons}
    assert sources == sources | {"style": "prompt", "bpm": "prompt", "key": "prompt",
                                 "mode": "prompt", "melody": "prompt"}  # fmt: skip
