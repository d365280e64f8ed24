"""The planner's evaluation prompts: well formed, apart from the training phrasings, and met."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from producer.plan import KEYS, MODES, ROLES, STYLE_BPM, STYLES, ProductionPlan, StemSpec
from producer.training.prompt_eval import (
    EVAL_PROMPTS,
    baseline_planners,
    load_eval_prompts,
    score_planner,
)

HOLDOUT = EVAL_PROMPTS.with_name("eval_prompts_holdout.jsonl")
HOLDOUT2 = EVAL_PROMPTS.with_name("eval_prompts_holdout2.jsonl")
SETS = [EVAL_PROMPTS, HOLDOUT, HOLDOUT2]


@pytest.mark.parametrize("path", SETS, ids=lambda p: Path(p).stem)
def test_the_evaluation_sets_are_well_formed(path):
    items = load_eval_prompts(path)
    assert len(items) >= (300 if path == EVAL_PROMPTS else 150)
    assert len({i.id for i in items}) == len(items)
    assert len({i.prompt.lower().strip() for i in items}) == len(items)
    for i in items:
        assert i.style in (None, *STYLES) and i.mode in (None, *MODES) and i.key in (None, *KEYS)
        assert i.roles_needed <= set(ROLES) and i.roles_refused <= set(ROLES), i.id
        if not i.error:
            assert not i.roles_needed & i.roles_refused, i.id
        if i.tempo is not None:
            lo, hi = i.tempo
            style_lo, style_hi = STYLE_BPM[i.style]
            assert style_lo <= lo <= hi <= style_hi, i.id
    tags = {t for i in items for t in i.tags}
    assert {"restriction", "exclusion", "named-stem", "scene", "mood", "tempo-word"} <= tags
    assert sum(i.error for i in items) >= 8


def _normal(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9#]+", text.lower()))


def test_no_evaluation_prompt_is_in_or_near_the_training_phrasings():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from producer.data.synth import draw_song

    generated = [
        draw_song(np.random.default_rng([7, i]), STYLES[i % len(STYLES)], phrasing).prompt
        for phrasing in ("train", "heldout")
        for i in range(4000)
    ]
    evaluation = [i.prompt for path in SETS for i in load_eval_prompts(path)]
    assert not {_normal(p) for p in evaluation} & {_normal(p) for p in generated}
    # Character-trigram cosine similarity to the nearest generated prompt: a copy or a light
    # edit of one scores above 0.9; the nearest neighbours of these are short generic requests
    # ("chill lofi beat" / "a lofi beat", 0.75).
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3)).fit(generated + evaluation)
    nearest = (vectors.transform(evaluation) @ vectors.transform(generated).T).max(axis=1)
    nearest = nearest.toarray().ravel()
    worst = evaluation[int(nearest.argmax())]
    assert nearest.max() < 0.9, worst
    assert np.median(nearest) < 0.45


def _plan(style="trap", bpm=140.0, key="C", mode="minor", roles=("drums",), needs=()):
    return ProductionPlan(
        style=style, bpm=bpm, key=key, mode=mode, stems=[StemSpec(role=r) for r in roles],
        needs_input=list(needs),
    )  # fmt: skip


def test_the_scorer_checks_each_labelled_field(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text(
        '{"id": "a", "prompt": "p1", "style": "trap", "mode": "minor", "key": null, "bpm": null,'
        ' "tempo": [130, 145], "roles_needed": ["drums", "vocals"], "roles_refused": ["bass"],'
        ' "error": false}\n'
        '{"id": "b", "prompt": "p2", "style": null, "mode": null, "key": null, "bpm": 90,'
        ' "tempo": null, "roles_needed": [], "roles_refused": [], "error": true}\n'
    )
    items = load_eval_prompts(path)
    from producer.errors import PlanError

    def planner(prompt):
        if prompt == "p2":
            raise PlanError("nothing to make")
        return _plan(bpm=150.0, roles=("drums", "bass"), needs=("vocals",))

    s = score_planner(planner, items).summary()
    assert (s["roles"], s["style"], s["mode"], s["tempo"], s["error"]) == (0, 1, 1, 0, 1)
    assert np.isnan(s["key"]) and s["fully_right"] == 0.5
    failures = score_planner(planner, items).failures
    assert {(f, got) for _, f, got in failures} == {
        ("roles", "bass,drums,vocals"),
        ("tempo", "150"),
    }
    right = score_planner(lambda p: _plan(needs=("vocals",)), items).summary()
    assert right["roles"] == 1 and right["tempo"] == 1 and right["error"] == 0.5  # p2 planned


@pytest.fixture(scope="module")
def default_model():
    from producer.models.unified import UnifiedProducerModel

    return UnifiedProducerModel.from_pretrained()


def test_the_default_planner_meets_the_bar_on_the_evaluation_prompts(default_model):
    items = load_eval_prompts()
    s = score_planner(default_model.plan_production, items).summary()
    assert s["roles"] >= 0.98 and s["error"] >= 0.98, s
    assert s["style"] >= 0.95 and s["mode"] >= 0.90 and s["tempo"] >= 0.98, s
    assert s["fully_right"] >= 0.90, s
    # The same model without the prompt rules, and random plans, do far worse: the bar measures
    # the rules and the head together, not an easy set.
    for name, planner in baseline_planners(default_model).items():
        b = score_planner(planner, items).summary()
        assert b["fully_right"] < 0.6, (name, b)


@pytest.mark.parametrize("path", [HOLDOUT, HOLDOUT2], ids=lambda p: Path(p).stem)
def test_the_default_planner_on_the_later_prompt_sets(default_model, path):
    # Each was written by someone who never saw the rules, measured once untouched (the honest
    # figures are in benchmarks/RESULTS.md), then its misses became rules: now a regression bar.
    s = score_planner(default_model.plan_production, load_eval_prompts(path)).summary()
    assert s["roles"] >= 0.98 and s["style"] >= 0.95 and s["fully_right"] >= 0.95, s
