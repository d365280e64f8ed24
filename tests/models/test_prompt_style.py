"""Styles implied by scenes, eras, gear and artists; tempo words; moods that give the mode."""

from __future__ import annotations

import pytest

from producer.models.prompt_style import parse_mood_mode, parse_style, parse_tempo_word

IMPLIED = [
    ("an ATL beat for the club", "trap"),
    ("dirty south vibes", "trap"),
    ("Metro Boomin type beat", "trap"),
    ("London road rap energy", "drill"),
    ("Chicago sound, cold", "drill"),
    ("ukdrill bassline heavy", "drill"),
    ("Pop Smoke vibe", "drill"),
    ("golden era cypher joint", "boom-bap"),
    ("something off an MPC or an SP-1200", "boom-bap"),
    ("east coast, NY grit", "boom-bap"),
    ("DJ Premier style scratches", "boom-bap"),
    ("bedroom study session beat", "lo-fi"),
    ("cassette tape warmth for homework", "lo-fi"),
    ("Nujabes-like piano", "lo-fi"),
    ("laid-back California cruise", "g-funk"),
    ("lowrider with a talkbox", "g-funk"),
    ("Dr. Dre and Snoop era", "g-funk"),
    ("90s west coast", "g-funk"),  # a named style beats an era hint
    ("real hip hop, boom bap, none of that trap stuff", "boom-bap"),
    ("tarp beat with 808s", "trap"),  # a typo of a style name
    ("zone 6 stuff, menacing", "trap"),
    ("death row records mid-90s type instrumental", "g-funk"),  # a label beats an era hint
]


@pytest.mark.parametrize(("text", "style"), IMPLIED)
def test_scenes_eras_gear_and_artists_imply_the_style(text, style):
    found, evidence = parse_style(text)
    assert found == style
    assert evidence and all(e.field == "style" and e.value == style for e in evidence)


@pytest.mark.parametrize(
    "text",
    [
        "a beat",
        "dusty vinyl",  # boom-bap and lo-fi hints tie: the model decides
        "lo-fi trap",  # two named styles: a blend
        "Brooklyn",  # both boom-bap and drill: no vote
        "a beat for my future album",
    ],
)
def test_no_or_tied_cues_decide_nothing(text):
    assert parse_style(text) == (None, [])


TEMPO_WORDS = [
    ("slow and hazy", "slow"),
    ("half-time feel", "slow"),
    ("laid back LA lowrider groove", "slow"),
    ("a head-nod groove", "mid"),
    ("mid-tempo", "mid"),
    ("fast, double-time hats", "fast"),
    ("uptempo", "fast"),
    ("slow intro then fast", None),  # contradicting words: the model decides
    ("make it quickly please", None),
    ("a beat", None),
]


@pytest.mark.parametrize(("text", "where"), TEMPO_WORDS)
def test_tempo_words(text, where):
    assert parse_tempo_word(text)[0] == where


MOODS = [
    ("dark and eerie", "minor"),
    ("melancholic piano", "minor"),
    ("sunny and uplifting", "major"),
    ("feel-good summer vibes", "major"),
    ("not too dark, kinda sunny", "major"),  # a negated mood does not count
    ("dark but hopeful", None),  # moods that disagree leave it open
    ("chill and smooth", None),  # neutral moods say nothing of the mode
    ("nothing sad", None),
]


@pytest.mark.parametrize(("text", "mode"), MOODS)
def test_moods_give_the_mode_when_they_agree(text, mode):
    assert parse_mood_mode(text)[0] == mode
