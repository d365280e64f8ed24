"""The words prompts are made of, and the small grammar both phrasing sets build with.

The vocabulary here is shared by the "train" and "heldout" phrasing sets (`phrasing_train`,
`phrasing_heldout`): what carries a label (style names, moods, role words, the words that leave
a role out) must be words the model has seen. `Bank` holds one set's own words and sentence
shapes; `Parts` are the pieces of one prompt, worded; `Choices` makes a template's random
choices. See `producer.data.prompts` for how a prompt is put together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import numpy as np

__all__ = [
    "EXCLUDABLE",
    "MOODS",
    "OUT_WORDS",
    "PHRASINGS",
    "ROLE_WORDS",
    "STYLE_MOODS",
    "STYLE_WORDS",
    "Bank",
    "Choices",
    "Parts",
    "Phrasing",
    "a_or_an",
    "and_list",
    "noun_phrase",
    "tidy",
]

Phrasing = Literal["train", "heldout"]
PHRASINGS: tuple[str, ...] = ("train", "heldout")

#: Mood words and the mode they lean to ("neutral": either). The synthetic corpus draws the
#: mode from this (dark → minor mostly), so a mood word is evidence for the mode.
MOODS: dict[str, str] = {
    **dict.fromkeys(
        (
            "dark", "sad", "menacing", "moody", "melancholic", "gloomy", "sinister", "eerie",
            "aggressive", "haunting", "somber", "cold", "gritty", "ominous",
        ),
        "minor",
    ),
    **dict.fromkeys(
        (
            "happy", "bright", "uplifting", "joyful", "sunny", "feel-good", "triumphant",
            "playful", "hopeful", "warm", "cheerful",
        ),
        "major",
    ),
    **dict.fromkeys(
        (
            "chill", "laid-back", "nostalgic", "smooth", "dreamy", "bouncy", "hard", "energetic",
            "hypnotic", "jazzy", "soulful", "mellow", "heavy", "hype", "relaxed",
        ),
        "neutral",
    ),
}  # fmt: skip

#: Moods typical of each style (the corpus draws most moods from here).
STYLE_MOODS: dict[str, tuple[str, ...]] = {
    "trap": ("dark", "hard", "menacing", "aggressive", "hype", "energetic", "heavy", "triumphant"),
    "drill": ("dark", "menacing", "sinister", "cold", "aggressive", "ominous", "gritty"),
    "boom-bap": ("gritty", "nostalgic", "soulful", "jazzy", "hard", "melancholic", "warm"),
    "lo-fi": ("chill", "mellow", "dreamy", "nostalgic", "relaxed", "sad", "warm", "hopeful"),
    "g-funk": ("smooth", "laid-back", "sunny", "bouncy", "feel-good", "playful", "happy"),
}

#: How people name each style; shared by both phrasing sets (the style must stay learnable).
STYLE_WORDS: dict[str, tuple[str, ...]] = {
    "trap": (
        "trap", "trap", "trap", "atlanta trap", "ATL trap", "southern trap", "dirty south trap",
    ),
    "drill": (
        "drill", "drill", "UK drill", "uk drill", "NY drill", "brooklyn drill", "chicago drill",
    ),
    "boom-bap": (
        "boom bap", "boom-bap", "boombap", "90s boom-bap", "golden era boom bap",
        "east coast boom bap", "old school boom bap",
    ),
    "lo-fi": ("lo-fi", "lofi", "lo fi", "chillhop", "lo-fi hip hop", "lofi hip-hop", "lo-fi"),
    "g-funk": (
        "g-funk", "g funk", "gfunk", "west coast", "west coast g-funk", "90s west coast",
        "g-funk",
    ),
}  # fmt: skip

#: Every word that names a role; shared by both phrasing sets. A described or restricted role
#: is named with any of them ("crispy hats" is the drums), an excluded one only with a whole-role
#: word from EXCLUDABLE or OUT_WORDS.
ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "bass": ("808", "808s", "sub", "sub bass", "bassline", "bass line", "low end", "bass"),
    "drums": (
        "drums", "kick", "kicks", "snare", "snares", "hats", "hi-hats", "claps", "percussion",
        "drum loop", "breakbeat",
    ),
    "harmony": ("keys", "piano", "rhodes", "pads", "chords", "strings", "organ"),
    "melody": (
        "lead", "melody", "bells", "flute", "horns", "whistle", "riff", "synth lead", "pluck",
    ),
}  # fmt: skip

#: Roles a prompt can ask to leave out, and the words naming the whole role that it leaves out
#: ("no hats" would not mean no drums). Vocals are never generated but real songs have them.
EXCLUDABLE: dict[str, tuple[str, ...]] = {
    "bass": ROLE_WORDS["bass"],
    "drums": ("drums", "percussion", "drum loop"),
    "harmony": ("keys", "chords", "pads", "piano"),
    "melody": ("melody", "lead"),
    "vocals": ("vocals", "vox"),
}

#: Single words that leave a role out on their own ("drumless"); shared by both sets.
OUT_WORDS: dict[str, tuple[str, ...]] = {
    "bass": ("808-less", "bassless"),
    "drums": ("drumless",),
    "harmony": ("chordless",),
    "vocals": ("instrumental",),
}


@dataclass(frozen=True)
class Bank:
    """The words and sentence shapes of one phrasing set."""

    nouns: tuple[str, ...]
    slang: tuple[str, ...]
    tempo_adj: tuple[str, ...]  # before the noun: "a 140 bpm trap beat"
    tempo_tail: tuple[str, ...]  # after it: "a trap beat at 140 bpm"
    key_minor: tuple[str, ...]
    key_major: tuple[str, ...]
    key_only: tuple[str, ...]  # the tonic without a mode
    mode_only: dict[str, tuple[str, ...]]  # the mode without a tonic
    plus: dict[str, tuple[str, ...]]  # one role, described ("heavy 808s", "keys")
    plus_frames: tuple[str, ...]  # "{x}" is the described roles ("with heavy 808s and keys")
    heavy_frames: tuple[str, ...]  # "{x}" is a role as an adjective ("bass-heavy")
    only_frames: tuple[str, ...]  # "{x}" is all the roles of a restriction ("just {x}")
    excl_frames: tuple[str, ...]  # "{x}" is one exclusion
    templates: tuple[Callable[[Parts, Choices], str], ...] = field(default=())


_T = TypeVar("_T")


class Choices:
    """The random choices a template makes."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def pick(self, seq: Sequence[_T]) -> _T:
        return seq[int(self.rng.integers(len(seq)))]

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def shuffled(self, seq: Sequence[str]) -> list[str]:
        return [seq[i] for i in self.rng.permutation(len(seq))]


@dataclass
class Parts:
    """The pieces of one prompt, each already worded ("" when absent)."""

    style: str
    mood: str  # "dark and moody"
    noun: str
    tempo_adj: str
    tempo_tail: str
    key: str
    present: str  # the present roles, described ("with heavy 808s") or as a restriction
    excl: list[str]
    slang: str
    bank: Bank
    mix: tuple[str, ...] = ()  # mix words ("wide stereo image", "keys up front")

    def mods(self, r: Choices) -> list[str]:
        """Tempo, key, present roles and mix words as tail phrases in a random order, then
        exclusions.

        Exclusions always come last, so "no drums" is never followed by a present role it
        could be read together with ("no drums and 808s").
        """
        head = [x for x in (self.tempo_tail, self.key, self.present, *self.mix) if x]
        return r.shuffled(head) + self.excl


def a_or_an(phrase: str) -> str:
    """'a' or 'an' before a phrase, by its first sound ("an 808", "a UK drill", "an eerie")."""
    word = phrase.split(" ", 1)[0].lower()
    vowel = word[:1] in ("a", "e", "i", "o", "8") or (
        word[:1] == "u" and not word.startswith(("uk", "uni", "use"))
    )
    return f"{'an' if vowel else 'a'} {phrase}"


def and_list(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def noun_phrase(*words: str) -> str:
    """Join the non-empty words of a noun phrase."""
    return " ".join(w for w in words if w)


def tidy(text: str) -> str:
    text = " ".join(text.split())
    for bad, good in ((" ,", ","), (" .", "."), (",,", ","), (",.", "."), ("..", "."), (" ?", "?")):
        text = text.replace(bad, good)
    return text.strip(" ,")
