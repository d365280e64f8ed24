"""parse_prompt: explicit tempo, key, mode, exclusions and style — and what must not count."""

from __future__ import annotations

import dataclasses

import pytest

from producer.models.prompt_rules import PromptHints, parse_prompt
from producer.plan import KEYS, MODES, ROLES, STYLES

# ------------------------------------------------------------------------------------ tempo

TEMPO = [
    ("dark trap beat 140 bpm", 140.0),
    ("dark trap beat at 140BPM", 140.0),
    ("140 BPM drill", 140.0),
    ("a 140-bpm banger", 140.0),
    ("boom bap at 90", 90.0),
    ("boom bap at 90, dusty drums", 90.0),
    ("boom bap @ 92", 92.0),
    ("lofi, tempo 85", 85.0),
    ("lofi, tempo of 85", 85.0),
    ("lofi with tempo: 85", 85.0),
    ("bpm 128 g-funk", 128.0),
    ("bpm=96", 96.0),
    ("85 beats per minute", 85.0),
    ("92.5 bpm lo-fi", 92.5),
    ("80-90 bpm chill", 85.0),
    ("80 to 90 bpm chill", 85.0),
    ("running at 150 bpm", 150.0),
    ("tempo around 140", 140.0),
    ("TRAP 145 BPM", 145.0),
    ("140 bpm, later 150 bpm", 140.0),  # the first stated tempo
    ("trap 160 A# minor no melody", 160.0),  # a number right before a key
    ("Abm 134", 134.0),  # right after a key
    ("gfunk 96 Cmaj", 96.0),  # right after the style's name
    ("Trap beat 140, F minor, no melody", 140.0),
    ("boom bap 92, dusty", 92.0),
    ("sliding 808s. 140 please. no vocals", 140.0),  # a sentence of its own
]
NO_TEMPO = [
    "90s boom bap",
    "a beat like it's the 90s",
    "boom bap at 90s vibes",
    "trap at 100% energy",
    "at 808 levels of bass",  # out of range
    "played at 300 bpm",  # out of range
    "at 40 bpm",  # under MIN_BPM
    "at 1400",  # no partial numbers
    "heavy 808s",
    "2 minutes long at 44 khz",
    "start at 11pm",
    "like 50 cent at 50 cent's peak",
    "at 120 hz cutoff",
    "3 verses and 16 bars",
    "boom bap 90s vibes",
    "drill 2013 sound",
    "trap 100 percent",
    "give me 2 beats in Am",
    "",
]


@pytest.mark.parametrize(("text", "bpm"), TEMPO)
def test_stated_tempo_is_read(text, bpm):
    assert parse_prompt(text).bpm == pytest.approx(bpm)


@pytest.mark.parametrize("text", NO_TEMPO)
def test_numbers_that_are_not_a_tempo_are_ignored(text):
    assert parse_prompt(text).bpm is None


# -------------------------------------------------------------------------------------- key

KEY = [
    ("in F minor", "F", "minor"),
    ("trap in Eb major", "D#", "major"),
    ("Eb major", "D#", "major"),
    ("key of C#m", "C#", "minor"),
    ("in the key of A minor", "A", "minor"),
    ("key of a minor", "A", "minor"),
    ("key: Eb", "D#", None),
    ("key F#", "F#", None),
    ("f#m trap", "F#", "minor"),
    ("ebm drill", "D#", "minor"),
    ("A min", "A", "minor"),
    ("Bb maj chill", "A#", "major"),
    ("in D", "D", None),
    ("in D please", "D", None),
    ("in Eb, 90 bpm", "D#", None),
    ("in A", "A", None),
    ("boom bap in A, 90 bpm", "A", None),
    ("trap in A with heavy 808s", "A", None),
    ("trap in A no melody", "A", None),
    ("Trap groove | dark | in A | tempo 85", "A", None),
    ("A minor", "A", "minor"),
    ("trap in Am", "A", "minor"),
    ("west coast loop? Am, no lead", "A", "minor"),
    ("Em drill", "E", "minor"),
    ("d minor", "D", "minor"),
    ("e min", "E", "minor"),
    ("c major", "C", "major"),
    ("in B flat minor", "A#", "minor"),
    ("in F sharp", "F#", None),
    ("F-sharp minor", "F#", "minor"),
    ("G♭ major", "F#", "major"),
    ("C♯ minor", "C#", "minor"),
    ("E# major", "F", "major"),
    ("F Minor", "F", "minor"),
    ("G MAJOR", "G", "major"),
    ("TRAP IN F#M 140 BPM", "F#", "minor"),
    ("in D, minor key", "D", "minor"),
    ("in the key of G", "G", None),
    ("rooted in C major", "C", "major"),
    ("F minor, then G minor", "F", "minor"),  # the first stated key
]
NOT_A_KEY = [
    "a dark beat",
    "A dark trap beat",
    "make a beat",
    "in a dark mood",
    "lo-fi in A dark mood",
    "in A dark trap style",
    "G-funk classic",
    "in G-funk style",
    "in E-40 style",
    "like Dr. Dre in D.C.",
    "I am making a beat",
    "Am I the only one who wants trap?",
    "eminem type beat",
    "amazing drums",
    "a minor tweak to the bass",
    "low key a banger",
    "low-key a banger",
    "Low key A banger",
    "C4 kick",
    "Cmaj7 chords",
    "plan b vibes",
    "b-side energy",
    "the key change hits hard",
    "keyboard solo",
    "TRAP BEAT IN A DARK MOOD",
    "",
]
MODE_ONLY = [
    ("minor key trap", "minor"),
    ("in a minor key", "minor"),
    ("major-key bounce", "major"),
    ("something in minor", "minor"),
    ("major scale melody", "major"),
    ("TRAP BEAT IN A MINOR", "minor"),  # all capitals: "A" could be the article
]


@pytest.mark.parametrize(("text", "key", "mode"), KEY)
def test_stated_key_is_read_with_sharps(text, key, mode):
    hints = parse_prompt(text)
    assert (hints.key, hints.mode) == (key, mode)
    assert hints.key in KEYS


@pytest.mark.parametrize("text", NOT_A_KEY)
def test_letters_that_are_not_a_key_are_ignored(text):
    hints = parse_prompt(text)
    assert hints.key is None and hints.mode is None


@pytest.mark.parametrize(("text", "mode"), MODE_ONLY)
def test_a_mode_without_a_tonic_is_read(text, mode):
    hints = parse_prompt(text)
    assert (hints.key, hints.mode) == (None, mode)
    assert hints.mode in MODES


# ------------------------------------------------------------------------------- exclusions

EXCLUDED = [
    ("no drums", {"drums"}),
    ("drumless boom bap", {"drums"}),
    ("without drums", {"drums"}),
    ("without the drums", {"drums"}),
    ("no percussion", {"drums"}),
    ("no-drums loop", {"drums"}),
    ("drum-free", {"drums"}),
    ("without 808", {"bass"}),
    ("without 808s", {"bass"}),
    ("without the 808s", {"bass"}),
    ("no 808", {"bass"}),
    ("without the bass", {"bass"}),
    ("no bassline", {"bass"}),
    ("no sub bass", {"bass"}),
    ("bassless", {"bass"}),
    ("no melody", {"melody"}),
    ("no melodies", {"melody"}),
    ("no lead", {"melody"}),
    ("no chords", {"harmony"}),
    ("no keys", {"harmony"}),
    ("no pads", {"harmony"}),
    ("no chords or pads", {"harmony"}),
    ("no vocals", {"vocals"}),
    ("w/o vocals", {"vocals"}),
    ("vocal-free", {"vocals"}),
    ("no lead vocals", {"vocals"}),
    ("instrumental trap", {"vocals"}),
    ("an instrumental", {"vocals"}),
    ("no rap", {"vocals"}),
    ("No Drums", {"drums"}),
    ("NO VOCALS", {"vocals"}),
    ("zero vocals", {"vocals"}),
    ("without any drums", {"drums"}),
    ("leave out the chords", {"harmony"}),
    ("mute the drums", {"drums"}),
    ("remove the vocals", {"vocals"}),
    ("no drums, bass or vocals", {"drums", "bass", "vocals"}),
    ("no drums or bass", {"drums", "bass"}),
    ("without chords and pads and melody", {"harmony", "melody"}),
    ("no drums/bass", {"drums", "bass"}),
    ("no drums, no bass", {"drums", "bass"}),
    ("no drums, just chords. no vocals", {"drums", "vocals"}),
    ("no vocals, 808s hitting hard", {"vocals"}),  # commas alone end the negated phrase
    ("drumless, no melody, instrumental", {"drums", "melody", "vocals"}),
    ("No drums pls, without the melody", {"drums", "melody"}),
]
NOT_EXCLUDED = [
    "a dark trap beat with heavy 808s",
    "bass-heavy trap",
    "heavy 808s",
    "no-nonsense drill",
    "no doubt a banger",
    "no cap, trap",
    "no live drums",
    "no real bass, just synth bass",
    "no bass drum",
    "no drum fills",
    "no 808 glide",
    "no vocal tag",
    "drums without reverb",
    "bass with no distortion",
    "don't skip the drums",
    "never remove the bass",
    "not too much bass",
    "less bass",
    "low bass",
    "drop the bass",
    "endless loop",
    "no key change",
    "no beat switch",
    "with vocals",
    "",
]


@pytest.mark.parametrize(("text", "roles"), EXCLUDED)
def test_excluded_roles_are_read(text, roles):
    assert parse_prompt(text).excluded == frozenset(roles)


@pytest.mark.parametrize("text", NOT_EXCLUDED)
def test_roles_mentioned_without_a_negation_are_not_excluded(text):
    assert parse_prompt(text).excluded == frozenset()


# ------------------------------------------------------------------------------------ style

STYLE = [
    ("dark trap beat", "trap"),
    ("Atlanta TRAP", "trap"),
    ("trap-soul vibe", "trap"),
    ("uk drill", "drill"),
    ("boom bap", "boom-bap"),
    ("boom-bap", "boom-bap"),
    ("boombap", "boom-bap"),
    ("90s Boom Bap", "boom-bap"),
    ("lo-fi", "lo-fi"),
    ("lofi hip hop", "lo-fi"),
    ("lo fi", "lo-fi"),
    ("chillhop", "lo-fi"),
    ("g-funk", "g-funk"),
    ("gfunk", "g-funk"),
    ("G Funk", "g-funk"),
    ("west coast bounce", "g-funk"),
    ("not trap, more drill", "drill"),
    ("drill but not trap", "drill"),
    ("anything but trap, give me boom bap", "boom-bap"),
    ("non-trap lofi", "lo-fi"),
    ("no drums, trap vibes", "trap"),
]
NO_STYLE = [
    "a dark beat",
    "trap meets drill",  # two styles: ambiguous
    "lo-fi trap",
    "not trap",
    "trapped in a loop",
    "drilling rhythm",
    "a coast to coast tour",
    "",
]


@pytest.mark.parametrize(("text", "style"), STYLE)
def test_a_single_named_style_is_read(text, style):
    hints = parse_prompt(text)
    assert hints.style == style and hints.style in STYLES


@pytest.mark.parametrize("text", NO_STYLE)
def test_no_or_ambiguous_style_gives_none(text):
    assert parse_prompt(text).style is None


# ---------------------------------------------------------------------------------- whole

FULL = [
    (
        "Create a dark trap beat with heavy 808s",
        PromptHints(style="trap", included=frozenset({"bass"}), instruments={"bass": "808"},
                    mood_mode="minor"),
    ),
    (
        "Make a dark trap beat at 142 bpm in F minor, no melody",
        PromptHints(bpm=142.0, key="F", mode="minor", excluded=frozenset({"melody"}), style="trap",
                    mood_mode="minor"),
    ),
    (
        "chill lofi, 80 bpm, key of Ebm, drumless, no vocals",
        PromptHints(bpm=80.0, key="D#", mode="minor", excluded=frozenset({"drums", "vocals"}),
                    style="lo-fi"),
    ),
    (
        "west coast g-funk bounce in G major at 94 without the 808s",
        PromptHints(bpm=94.0, key="G", mode="major", excluded=frozenset({"bass"}), style="g-funk"),
    ),
    (
        "A dark, bass-heavy drill beat — no-nonsense, hard-hitting",
        PromptHints(style="drill", included=frozenset({"bass"}), mood_mode="minor"),
    ),
    (
        "slow eerie ATL beat, just drums and a rhodes, no vocals",
        PromptHints(style="trap", included=frozenset({"drums", "harmony"}), only=True,
                    excluded=frozenset({"vocals"}), instruments={"harmony": "keys"},
                    tempo_word="slow", mood_mode="minor"),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "hints"), FULL)
def test_whole_prompts(text, hints):
    assert parse_prompt(text) == hints


def test_hints_are_frozen_and_excluded_roles_are_valid_roles():
    hints = parse_prompt("no drums, no vocals, no keys, no 808s, no lead")
    assert hints.excluded <= frozenset(ROLES)
    assert hints.excluded == frozenset({"drums", "vocals", "harmony", "bass", "melody"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        hints.bpm = 100.0  # type: ignore[misc]
    assert parse_prompt("nothing explicit here") == PromptHints()
