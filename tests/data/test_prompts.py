"""Prompts: every label is in the words, role words are balanced, the phrasing sets differ."""

from __future__ import annotations

import re

import numpy as np
import pytest

from producer.data.prompts import (
    EXCLUDABLE,
    MOODS,
    OUT_WORDS,
    ROLE_WORDS,
    STYLE_WORDS,
    make_prompt,
)
from producer.data.synth import BPM_RANGES, DEFAULT_ROLES, draw_song
from producer.models.prompt_rules import parse_prompt
from producer.plan import STYLES


def draws(phrasing, n, seed=0):
    return [
        draw_song(np.random.default_rng([seed, i]), STYLES[i % len(STYLES)], phrasing)
        for i in range(n)
    ]


TRAIN = draws("train", 3000)
HELDOUT = draws("heldout", 600)


def words(text):
    return set(re.findall(r"[a-z0-9'#-]+", text.lower()))


def _alternation(phrases):
    # Longest first, so "sub bass" is one match rather than "sub" and then "bass".
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


# A role word on its own: hyphens count as breaks ("bass-heavy" names the bass), letters not.
_NAMES = {
    role: re.compile(
        rf"(?<![a-z0-9])(?:{_alternation(ROLE_WORDS[role] + OUT_WORDS.get(role, ()))})"
        r"(?![a-z0-9])"
    )
    for role in ROLE_WORDS
}
# The phrases that leave roles out, read independently of the prompt writer: a negation, then
# whole-role words joined by "and" / "or" / commas ("no drums, bass or keys", "drop the drums
# and the bass"), "leave the keys out", or a single word ("drumless"). Not vocals: the songs
# never have them, and "instrumental" is also a noun ("a trap instrumental").
_WHOLE = _alternation({w for role in ROLE_WORDS for w in EXCLUDABLE[role]})
_ONE_WORD = _alternation({w for role in ROLE_WORDS for w in OUT_WORDS.get(role, ())})
_OUT = re.compile(
    rf"\b(?:no|without|minus|drop|leave out|lose|skip)\s+(?:the\s+)?(?:{_WHOLE})"
    rf"(?:(?:,|\s+or|\s+and)\s+(?:the\s+)?(?:{_WHOLE}))*(?![a-z0-9])"
    rf"|\bleave the (?:{_WHOLE}) out\b"
    rf"|(?<![a-z0-9])(?:{_ONE_WORD})(?![a-z0-9])"
)


def named(text):
    """Roles whose words occur in `text`."""
    return {role for role, pattern in _NAMES.items() if pattern.search(text)}


def has_word(text, word):
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text) is not None


def split_exclusions(prompt):
    """(the prompt's exclusion phrases, the rest of it), lower case."""
    text = prompt.lower()
    return _OUT.findall(text), _OUT.sub(" | ", text)


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
    # 1500 of them: among more, a bare "90s west coast" (no mood, tempo or key) may come twice.
    prompts = [d.prompt for d in TRAIN[:1500]]
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
        assert set(d.roles) == set(DEFAULT_ROLES) - set(d.excluded)
        assert 1 <= len(d.roles) <= 3 if d.restricted else len(d.roles) >= 2
    restricted = np.mean([d.restricted for d in TRAIN])
    excluded = np.mean([bool(d.excluded) and not d.restricted for d in TRAIN])
    stated = np.mean([d.stated_bpm is not None for d in TRAIN])
    assert 0.10 < restricted < 0.20 and 0.18 < excluded < 0.32 and 0.33 < stated < 0.47

    def minor_share(lean):
        songs = [d for d in TRAIN if any(MOODS[m] == lean for m in d.moods)]
        return np.mean([d.mode == "minor" for d in songs])

    assert minor_share("minor") > 0.75 and minor_share("major") < 0.25


@pytest.mark.parametrize("draws_", [TRAIN[:600], HELDOUT], ids=["train", "heldout"])
def test_rules_recover_stated_tempo_key_and_stems(draws_):
    for d in draws_:
        hints = parse_prompt(d.prompt)
        assert hints.bpm == d.stated_bpm, d.prompt
        assert hints.key == d.stated_key, d.prompt
        assert hints.mode == d.stated_mode, d.prompt
        # The rules read every stem phrasing the corpus uses: refused roles exactly (vocals are
        # never generated, so "instrumental", no vocals, is always true), named ones only when
        # present, and a restriction as exactly the song's roles.
        assert hints.excluded - {"vocals"} == (set() if d.restricted else set(d.excluded)), d.prompt
        assert hints.included <= set(d.roles), d.prompt
        assert hints.only == d.restricted, d.prompt
        if d.restricted:
            assert hints.included == set(d.roles), d.prompt
        assert not hints.conflicts, d.prompt
        assert hints.style in (None, d.style), d.prompt


@pytest.mark.parametrize("draws_", [TRAIN, HELDOUT], ids=["train", "heldout"])
def test_exclusions_name_only_excluded_roles_and_descriptions_only_present_ones(draws_):
    for d in draws_:
        exclusions, rest = split_exclusions(d.prompt)
        said_out = set().union(*map(named, exclusions))
        if d.restricted:
            assert not exclusions, d.prompt  # the restriction implies them
            assert named(rest) == set(d.roles), d.prompt  # every present role, no other
        else:
            assert said_out == set(d.excluded), d.prompt
            assert named(rest) <= set(d.roles), d.prompt


@pytest.mark.parametrize("draws_", [TRAIN, HELDOUT], ids=["train", "heldout"])
def test_restricted_prompts_exist_and_name_every_present_role(draws_):
    restricted = [d for d in draws_ if d.restricted]
    assert 0.10 < len(restricted) / len(draws_) < 0.20
    assert {len(d.roles) for d in restricted} == {1, 2, 3}
    for d in restricted:
        assert set(d.roles) <= named(d.prompt.lower()), d.prompt


def test_present_roles_are_often_described():
    share = np.mean([bool(named(split_exclusions(d.prompt)[1])) for d in TRAIN])
    assert 0.4 < share < 0.65


@pytest.mark.parametrize("role", DEFAULT_ROLES)
def test_a_role_word_alone_does_not_tell_presence_from_absence(role):
    # Were role words mostly in exclusions, a model would learn "naming a role leaves it out".
    naming = [d for d in TRAIN if role in named(d.prompt.lower())]
    present = np.mean([role in d.roles for d in naming])
    assert len(naming) > 0.2 * len(TRAIN) and 0.35 < present < 0.8, present


def test_every_role_word_is_used_in_every_sense():
    # Every word describes and restricts; every whole-role word also excludes.
    described, restricted, excluded = set(), set(), set()
    for d in TRAIN:
        exclusions, rest = split_exclusions(d.prompt)
        text_words = {w for role in ROLE_WORDS for w in ROLE_WORDS[role] if has_word(rest, w)}
        (restricted if d.restricted else described).update(text_words)
        excluded.update(
            w for x in exclusions for ws in EXCLUDABLE.values() for w in ws if has_word(x, w)
        )
    everything = {w for ws in ROLE_WORDS.values() for w in ws}
    assert described == everything and restricted == everything
    assert excluded >= {w for role in DEFAULT_ROLES for w in EXCLUDABLE[role]}


def test_typos_never_touch_role_style_mood_tempo_or_key_words():
    kwargs = dict(style="boom-bap", moods=["gritty", "nostalgic"], bpm=92, key="D", mode="minor")
    for s in range(400):
        rng = np.random.default_rng(s)
        present = [DEFAULT_ROLES[i] for i in sorted(rng.choice(4, 2, replace=False))]
        text = make_prompt(rng, present=present, restricted=True, **kwargs).lower()
        assert named(text) == set(present) and "gritty" in text and "nostalgic" in text, text
        assert "92" in text and re.search(r"\bd(?:m| min| minor)\b", text), text


def test_unknown_phrasing_is_refused():
    with pytest.raises(ValueError, match="phrasing"):
        make_prompt(np.random.default_rng(0), style="trap", phrasing="test")
