"""Stem words in prompts: named stems are made, refused ones are not, restrictions are exact."""

from __future__ import annotations

import pytest

from producer.models.prompt_roles import LEXICON, parse_roles
from producer.plan import ROLES

# ------------------------------------------------------------------------------ named stems

NAMED = [
    ("trap beat, massive booming 808 bass, bass-heavy mix", {"bass"}),
    ("a beat with drums, bass, keys and a lead synth", {"drums", "bass", "harmony", "melody"}),
    ("hard kicks and crispy hats", {"drums"}),
    ("rolling hi-hats, a snare and some claps", {"drums"}),
    ("sub bass and a rhodes", {"bass", "harmony"}),
    ("lush pads, strings and an organ", {"harmony"}),
    ("a flute riff with bells", {"melody"}),
    ("some vocal chops and an a cappella", {"vocals"}),
    ("risers, texture and vinyl crackle", {"other"}),
    ("piano-driven and bass-heavy", {"harmony", "bass"}),
    ("with a dusty breakbeat", {"drums"}),
    ("low end that rattles the trunk", {"bass"}),
    ("drumz and a meldoy", {"drums", "melody"}),  # typos
    ("drum fills every four bars", {"drums"}),
    ("hook me up with a beat", set()),  # "hook" as a verb
    ("kick back and relax", set()),
    ("a rap beat for my rapper", set()),  # rap names the genre, not a vocal stem
    ("a sub-genre of trap", set()),
    ("drums bass keys and a little melody", {"drums", "bass", "harmony", "melody"}),  # no commas
    ("a soft kick-snare", {"drums"}),  # two drum parts joined by a hyphen
    ("piano and rain", {"harmony", "other"}),
    ("make it rain", set()),  # money, not weather
    ("rainy day feel", set()),  # "rainy" is no typo of "rain"
    ("my friend raps over it", set()),  # "raps" is no typo of "arps"
    ("a mellow guitar lick", {"melody"}),
    ("a dark choir", {"harmony"}),  # a choir pad, made like the strings
    ("choir vocals", {"vocals"}),
    ("a beat with someone playing the piano softly", {"harmony"}),
    ("", set()),
]


@pytest.mark.parametrize(("text", "roles"), NAMED)
def test_named_stems_are_included_never_refused(text, roles):
    hints = parse_roles(text)
    assert hints.included == frozenset(roles)
    assert not hints.excluded and not hints.only and not hints.conflicts


def test_every_lexicon_word_names_its_role_positively_and_is_refused_by_no():
    for words, word in LEXICON.items():
        phrase = " ".join(words)
        if word.kind == "negative":  # "rap" is read only in an exclusion
            assert parse_roles(f"a {phrase} beat").included == frozenset(), phrase
        else:
            assert word.role in parse_roles(f"with {phrase}, please").included, phrase
        refused = parse_roles(f"no {phrase}")
        if word.kind == "part":  # "no hats" neither refuses nor asks for the drums
            assert not refused.excluded and not refused.included, phrase
        else:
            assert refused.excluded == {word.role} and not refused.included, phrase


# ------------------------------------------------------------------------------ exclusions

REFUSED = [
    ("minus the keys", {"harmony"}),
    ("drop the drums", {"drums"}),
    ("drop the low end", {"bass"}),
    ("leave the vocals out", {"vocals"}),
    ("take the 808s out", {"bass"}),
    ("lose the pads", {"harmony"}),
    ("skip the melody", {"melody"}),
    ("ditch the drums", {"drums"}),
    ("get rid of the strings", {"harmony"}),
    ("I don't want any chords", {"harmony"}),
    ("he hates drums", {"drums"}),
    ("808-less and vocal-free", {"bass", "vocals"}),
    ("trap beat withuot any melody", {"melody"}),  # a typo of "without"
    ("no chords or melody", {"harmony", "melody"}),
    ("everything but the drums", {"drums"}),
    ("no kicks, no snares, no hats", {"drums"}),  # every drum part refused
    ("a beat with no instruments at all", {"drums", "bass", "melody", "harmony", "other"}),
    ("no drums no bass no nothing", {"drums", "bass", "melody", "harmony", "other"}),
    ("trap beat minus the 808, im gonna add my own bass later", {"bass"}),  # the person brings it
    ("just the drums, i'll add bass myself", {"bass"}),
    (
        "I'll handle drums, bass, the keys and the melody myself",
        {"drums", "bass", "harmony", "melody"},
    ),  # a whole list
    ("he wants to do his own hook", {"vocals"}),
    ("dont put vocals on it", {"vocals"}),
    ("bells, but drop the bass", {"bass"}),  # "but drop the bass" refuses it
    ("drop the bass out", {"bass"}),
    ("he doesnt want any hook on it", {"vocals"}),
    ("my guy is doing the drums and the keys", {"drums", "harmony"}),  # someone else brings them
    ("I'll play the keys", {"harmony"}),
    ("I don't need anything, no stems at all", {"drums", "bass", "melody", "harmony", "other"}),
]


@pytest.mark.parametrize(("text", "roles"), REFUSED)
def test_refused_stems_are_excluded(text, roles):
    hints = parse_roles(text)
    assert roles <= hints.excluded, hints
    assert not (hints.included & hints.excluded) and not hints.conflicts


KEPT = [
    "keep the drums hard",  # "keep the … out" refuses; "keep the drums hard" does not
    "drop the bass",  # a bass drop
    "then drop the bass hard",
    "no hi-hats",  # a part
    "no 808 glide",
    "no drum fills",
    "don't skip the drums",
    "no live drums",  # a word between: the drums stay, played otherwise
]


@pytest.mark.parametrize("text", KEPT)
def test_phrases_that_only_look_like_a_refusal_refuse_nothing(text):
    assert parse_roles(text).excluded == frozenset()


def test_instrumental_refuses_vocals_but_allows_sampled_ones():
    assert parse_roles("an instrumental trap beat").excluded == {"vocals"}
    for text in ("an instrumental with vocal chops", "instrumental, chopped vocals"):
        hints = parse_roles(text)
        assert hints.included == {"vocals"} and not hints.excluded and not hints.conflicts
    # sung or rapped vocals in an instrumental contradict it
    assert parse_roles("instrumental with a hook sung by a girl").conflicts == ("vocals",)
    assert parse_roles("g-funk instrumental but put a vocal hook on it").conflicts == ("vocals",)


def test_a_list_that_goes_on_to_be_allowed_is_cut_at_its_comma():
    hints = parse_roles("make a lofi beat without any melody, chords and drums are fine")
    assert hints.excluded == {"melody"} and hints.included == {"harmony", "drums"}
    hints = parse_roles("Nujabes type beat but without the drums, piano and sax only")
    assert hints.excluded == {"drums"} and hints.only
    assert hints.included == {"harmony", "melody"}


# ---------------------------------------------------------------------------- restrictions

ONLY = [
    ("just drums, no melody, no bass", {"drums"}),
    ("bass and drums only", {"bass", "drums"}),
    ("808s & hats only pls", {"bass", "drums"}),
    ("nothing but keys and drums", {"harmony", "drums"}),
    ("strip it down to piano and drums", {"harmony", "drums"}),
    ("just some dusty drums and a fat bassline", {"drums", "bass"}),
    ("drums-only", {"drums"}),
    ("heavy bass, hard drums, thats it", {"bass", "drums"}),
    ("keys alone", {"harmony"}),
    ("only lush strings", {"harmony"}),
    ("jsut drums", {"drums"}),  # a typo of "just"
    ("lo-fi no melody no bass just drums and crackle", {"drums", "other"}),
    ("only drums bass and some vinyl crackle", {"drums", "bass", "other"}),  # no commas
    ("heartbroken. 3am. piano. thats it", {"harmony"}),  # the restriction after a full stop
    ("somber strings and piano, strip it down to just those two", {"harmony"}),  # "those"
    ("808s and claps, only those please", {"bass", "drums"}),
    ("just give me chords and a bassline", {"harmony", "bass"}),  # a request verb between
    ("i just need an acapella", {"vocals"}),
    ("all i need is drums and a bassline", {"drums", "bass"}),
    ("the 808 and kick are the only things, nothing else", {"bass", "drums"}),
    ("i only want the bassline, my guy is doing the drums", {"bass"}),
]


@pytest.mark.parametrize(("text", "roles"), ONLY)
def test_restrictions_give_exactly_those_stems(text, roles):
    hints = parse_roles(text)
    assert hints.only and hints.included == frozenset(roles), hints
    assert not hints.conflicts


@pytest.mark.parametrize(
    "text",
    [
        "just a vibe with some keys",
        "only the hardest beat",
        "not just drums and bass",
        "808s and keys, just those dark vibes",  # "those" opens a noun phrase here
        "just make it hit, 808s and hats",
    ],
)
def test_only_and_just_without_a_stem_list_restrict_nothing(text):
    assert not parse_roles(text).only


# ------------------------------------------------------------------- conflicts, instruments

CONFLICTS = [
    ("heavy 808s but no bass at all", ("bass",)),
    ("no drums, drums only", ("drums",)),
    ("no vocals, with a vocal hook", ("vocals",)),
]


@pytest.mark.parametrize(("text", "roles"), CONFLICTS)
def test_a_role_asked_for_and_refused_is_a_conflict(text, roles):
    assert parse_roles(text).conflicts == roles


def test_everything_asks_for_every_stem_the_producer_makes():
    hints = parse_roles("trap beat with everything except vocals")
    assert hints.included == {"drums", "bass", "melody", "harmony", "other"}
    assert hints.excluded == {"vocals"}
    assert parse_roles("everything but the drums").included == {
        "bass",
        "melody",
        "harmony",
        "other",
    }
    assert parse_roles("everything is dark, 808s").included == {"bass"}


def test_refusing_one_instrument_and_asking_for_another_keeps_the_role_on_that_instrument():
    hints = parse_roles("no 808, a live bassline instead")
    assert hints.included == {"bass"} and not hints.excluded and not hints.conflicts
    assert hints.instruments == {"bass": "bass"}


INSTRUMENTS = [
    ("heavy 808s", {"bass": "808"}),
    ("a bass guitar", {"bass": "bass"}),
    ("rhodes chords", {"harmony": "keys"}),
    ("string pads", {"harmony": "pad"}),
    ("a bell melody", {"melody": "bell"}),
    ("piano melody", {"melody": "keys"}),
    ("a guitar riff", {"melody": "pluck"}),
    ("drums and chords", {}),
]


@pytest.mark.parametrize(("text", "instruments"), INSTRUMENTS)
def test_named_instruments_are_kept_for_the_generator(text, instruments):
    assert dict(parse_roles(text).instruments) == instruments


def test_roles_are_valid_and_the_evidence_names_the_words():
    hints = parse_roles("just drums and a rhodes, no vocals")
    assert hints.included | hints.excluded <= set(ROLES)
    found = {(e.value, e.words) for e in hints.evidence}
    assert ("only drums", ("just drums and a rhodes",)) in found
    assert ("exclude vocals", ("no vocals",)) in found
