"""Prompts: every label is in the words, the two phrasing sets differ, the rules read them."""

from __future__ import annotations

import re

import numpy as np
import pytest

from producer.data.prompts import MOODS, STYLE_WORDS, make_prompt
from producer.data.synth import BPM_RANGES, DEFAULT_ROLES, draw_song
from producer.models.prompt_rules import parse_prompt
from producer.plan import STYLES


def draws(phrasing, n, seed=0):
    return [
        draw_song(np.random.default_rng([seed, i]), STYLES[i % len(STYLES)], phrasing)
        for i in range(n)
    ]


TRAIN = draws("train", 1500)
HELDOUT = draws("heldout", 600)


def words(text):
    return set(re.findall(r"[a-z0-9'#-]+", text.lower()))


def test_same_rng_state_gives_the_same_prompt():
    kwargs = dict(style="trap", moods=["dark"], bpm=140, key="F", mode="minor", excluded=["bass"])
    a = make_prompt(np.random.default_rng(3), **kwargs)
    assert a == make_prompt(np.random.default_rng(3), **kwargs)
    assert len({make_prompt(np.random.default_rng(s), **kwargs) for s in range(50)}) > 40


@pytest.mark.parametrize("draws_", [TRAIN, HELDOUT], ids=["train", "heldout"])
def test_style_and_moods_are_always_in_the_words(draws_):
    for d in draws_:
        text = d.prompt.lower()
        assert any(w.lower() in text for w in STYLE_WORDS[d.style]), d.prompt
        for mood in d.moods:
            assert mood in text, d.prompt


def test_train_phrasings_are_varied():
    prompts = [d.prompt for d in TRAIN]
    assert len(set(prompts)) == len(prompts)
    openings = {" ".join(p.lower().split()[:2]) for p in prompts}
    assert len(openings) > 150
    assert sum(p != p.lower() for p in prompts) > 0.3 * len(prompts)  # case varies too


def test_heldout_sentences_use_words_train_never_does():
    train_vocab = set().union(*(words(d.prompt) for d in TRAIN))
    for d in HELDOUT:
        assert words(d.prompt) - train_vocab, d.prompt


def test_heldout_without_labels_shares_no_sentence_with_train():
    def skeleton(d):
        # The sentence with its label words (style, moods, numbers, keys) blanked out.
        text = d.prompt.lower()
        for w in sorted(STYLE_WORDS[d.style], key=len, reverse=True):
            text = text.replace(w.lower(), "<s>")
        for m in d.moods:
            text = text.replace(m, "<m>")
        return re.sub(r"\b[a-g][#b]?m?\b|\d+", "<x>", text)

    assert not {skeleton(d) for d in HELDOUT} & {skeleton(d) for d in TRAIN}


def test_drawn_songs_follow_the_style_and_mood_rules():
    for d in TRAIN:
        lo, hi = BPM_RANGES[d.style]
        assert lo <= d.bpm <= hi
        assert set(d.roles) == set(DEFAULT_ROLES) - set(d.excluded) and len(d.roles) >= 2
    excluded = np.mean([bool(d.excluded) for d in TRAIN])
    stated = np.mean([d.stated_bpm is not None for d in TRAIN])
    assert 0.18 < excluded < 0.32 and 0.33 < stated < 0.47

    def minor_share(lean):
        songs = [d for d in TRAIN if any(MOODS[m] == lean for m in d.moods)]
        return np.mean([d.mode == "minor" for d in songs])

    assert minor_share("minor") > 0.75 and minor_share("major") < 0.25


@pytest.mark.parametrize("draws_", [TRAIN[:600], HELDOUT], ids=["train", "heldout"])
def test_rules_recover_stated_tempo_key_and_exclusions(draws_):
    for d in draws_:
        hints = parse_prompt(d.prompt)
        assert hints.bpm == d.stated_bpm, d.prompt
        assert hints.key == d.stated_key, d.prompt
        assert hints.mode == d.stated_mode, d.prompt
        # Vocals are never generated, so "instrumental" (no vocals) is always true.
        assert hints.excluded - {"vocals"} == set(d.excluded), d.prompt
        assert hints.style in (None, d.style), d.prompt


def test_unknown_phrasing_is_refused():
    with pytest.raises(ValueError, match="phrasing"):
        make_prompt(np.random.default_rng(0), style="trap", phrasing="test")
