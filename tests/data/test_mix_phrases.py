"""Mix words in training prompts: each is read as its descriptor, and only for present roles."""

from __future__ import annotations

import numpy as np
import pytest

from producer.data.mix_phrases import MIX_PHRASES, MIX_ROLE_WORDS, ROLE_MIX_PHRASES
from producer.data.synth import draw_song
from producer.mixing.descriptors import DESCRIPTORS, apply_descriptors, find_descriptors
from producer.mixing.reference import style_targets
from producer.plan import STYLES

_ALL = [(name, None, p) for name, ps in MIX_PHRASES.items() for p in ps] + [
    (name, role, p.format(w=w))
    for name, by_role in ROLE_MIX_PHRASES.items()
    for role, ps in by_role.items()
    for p in ps
    for w in (MIX_ROLE_WORDS[role] if "{w}" in p else ("",))
]


@pytest.mark.parametrize(("name", "role", "phrase"), _ALL, ids=[p for _, _, p in _ALL])
def test_each_phrase_is_read_as_its_descriptor_in_a_prompt(name, role, phrase):
    prompt = f"boom bap beat at 90 bpm, {phrase}"
    found = [m for m in find_descriptors(prompt) if m.applied]
    # Hats are a tonal move (no role); bass, drums, keys and melody move that role's level.
    moves_a_role = next(d for d in DESCRIPTORS if d.name == name).role is not None
    assert [(m.name, m.role) for m in found] == [(name, role if moves_a_role else None)], found


def test_training_prompts_carry_mix_words_that_move_the_teachers_targets():
    draws = [draw_song(np.random.default_rng([7, i]), STYLES[i % 5]) for i in range(600)]
    moved = [d for d in draws if apply_descriptors(style_targets(d.style), d.prompt)[1]]
    # Descriptors from moods ("dark", "warm") and described roles ("heavy 808s") come on top.
    assert 0.4 < len(moved) / len(draws) < 0.8
    names = {m.name for d in draws for m in find_descriptors(d.prompt) if m.applied}
    assert names >= set(MIX_PHRASES) | set(ROLE_MIX_PHRASES)


def test_heldout_prompts_carry_no_mix_phrase():
    phrases = [p for _, _, p in _ALL]
    for i in range(300):
        prompt = draw_song(np.random.default_rng([8, i]), STYLES[i % 5], "heldout").prompt.lower()
        assert not [p for p in phrases if p in prompt], prompt
