"""Text prompts for songs: many ways of asking for the same production.

`make_prompt` writes a request such as "cook up a dark trap beat at 142 bpm in F minor with
heavy 808s, no melody" for a style, moods, an optional explicit tempo and key, and the roles
the production has or leaves out. The synthetic corpus uses it to give every song a prompt, and
the dataset uses it for songs whose metadata has none.

Roles are named in three ways, each with the same words (`ROLE_WORDS`): described, for a role
the production has ("with heavy 808s", "hard kicks and crispy hats", "808s, hats, keys");
excluded ("no drums", "without the 808s", "leave the keys out", "drumless", "no drums or
bass"); and restricted, naming exactly the roles the production has ("just drums and bass",
"only 808s and hats", "strip it down to piano and drums"). Every role word appears in all
three, so a word's bare presence says nothing about whether its role is in the production:
the words around it do. Only a word naming a whole role (`EXCLUDABLE`, `OUT_WORDS`) is ever
excluded, since "no hats" still has drums.

Two phrasing sets. "train" is what the model learns from: many sentence shapes, synonyms per
style, slang, word orders, lower-casing and the odd typo. "heldout" is for measuring
generalisation: its sentence shapes, openers, nouns, slang and framings never occur in
"train". What carries the label is shared, because a model can only learn it from words it has
seen: the style names and their synonyms, the mood words, the explicit tempo and key, the role
words, and the words that exclude or restrict ("no", "without the", "drop the", "just",
"only", "nothing but"…) — tempo and key written so that
`producer.models.prompt_rules.parse_prompt` recovers them ("140 bpm", "in Eb minor", "key of
C#m"). Typos never touch those words.
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
    "Phrasing",
    "make_prompt",
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

# How one role is left out; "{w}" is a word of EXCLUDABLE. Shared by both sets.
_OUT_FORMS = (
    "no {w}", "no {w}", "without {w}", "without the {w}", "minus the {w}", "drop the {w}",
    "leave out the {w}", "leave the {w} out", "lose the {w}", "skip the {w}",
)  # fmt: skip
# How several roles are left out in one phrase: (the words before the list, the last joiner),
# as in "no drums, bass or keys" and "drop the drums and the bass".
_OUT_LISTS = (
    ("no ", " or "), ("no ", " or "), ("without ", " or "), ("without the ", " and "),
    ("minus the ", " and the "), ("drop the ", " and the "), ("leave out the ", " and "),
    ("lose the ", " and the "), ("skip the ", " and "),
)  # fmt: skip

# Roles as an adjective ("bass-heavy"); shared by both sets.
_HEAVY = {"bass": ("bass-heavy", "808-heavy")}
# Role words that usually take an article when alone ("with a riff", not "with riff").
_COUNTABLE = frozenset(
    ("808", "kick", "snare", "sub", "bassline", "bass line", "drum loop", "breakbeat", "lead",
     "riff", "synth lead", "pluck", "whistle", "flute", "organ")
)  # fmt: skip
# Chance that a prompt describes some present roles, and of describing 1, 2 or 3 of them. With
# a quarter of the songs excluding a role, this keeps a role word meaning "present" in about
# 70 % of the prompts that have it: often enough that naming a role is not a sign of leaving
# it out, not so often that the word alone predicts presence.
_P_DESCRIBE = 0.4
_P_N_DESCRIBED = (0.75, 0.2, 0.05)
# The single words of all role words: typos never touch them.
_ROLE_WORD_SET = {
    w
    for table in (ROLE_WORDS, EXCLUDABLE, OUT_WORDS, _HEAVY)
    for words in table.values()
    for phrase in words
    for w in phrase.split()
}

_FLAT_OF = {"C#": "Db", "D#": "Eb", "F#": "Gb", "G#": "Ab", "A#": "Bb"}


@dataclass(frozen=True)
class _Bank:
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
    templates: tuple[Callable[[_Parts, _R], str], ...] = field(default=())


_T = TypeVar("_T")


class _R:
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
class _Parts:
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
    bank: _Bank

    def mods(self, r: _R) -> list[str]:
        """Tempo, key and present roles as tail phrases in a random order, then exclusions.

        Exclusions always come last, so "no drums" is never followed by a present role it
        could be read together with ("no drums and 808s").
        """
        head = [x for x in (self.tempo_tail, self.key, self.present) if x]
        return r.shuffled(head) + self.excl


def _a(phrase: str) -> str:
    """'a' or 'an' before a phrase, by its first sound ("an 808", "a UK drill", "an eerie")."""
    word = phrase.split(" ", 1)[0].lower()
    vowel = word[:1] in ("a", "e", "i", "o", "8") or (
        word[:1] == "u" and not word.startswith(("uk", "uni", "use"))
    )
    return f"{'an' if vowel else 'a'} {phrase}"


def _and(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _np(*words: str) -> str:
    """Join the non-empty words of a noun phrase."""
    return " ".join(w for w in words if w)


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    for bad, good in ((" ,", ","), (" .", "."), (",,", ","), (",.", "."), ("..", "."), (" ?", "?")):
        text = text.replace(bad, good)
    return text.strip(" ,")


# --------------------------------------------------------------------------- train phrasings

_TRAIN_OPENERS = (
    "Make", "Create", "Produce", "Cook up", "Give me", "I need", "Can you make", "Build",
    "Generate", "Whip up", "make me", "gimme", "pls make", "Need", "i want", "Lay down", "Craft",
    "yo make", "Drop", "Can I get", "Hook me up with", "Bring me", "I'm looking for",
)  # fmt: skip


def _t_classic(p: _Parts, r: _R) -> str:
    # "Make a dark trap beat at 140 bpm in F minor, no drums. that slaps"
    core = _np(p.tempo_adj, p.mood, p.style, p.noun)
    tail = ", ".join(p.mods(r))
    sep = r.pick((" ", ", ")) if tail and not p.tempo_adj else " "
    return f"{r.pick(_TRAIN_OPENERS)} {_a(core)}{sep}{tail}{_slang(p, r, ', ')}"


def _t_tags(p: _Parts, r: _R) -> str:
    # "trap beat, dark, 140bpm, F minor, no melody"
    tags = [_np(p.style, p.noun)] + ([p.mood] if p.mood else []) + p.mods(r)
    if p.tempo_adj:
        tags.insert(1, p.tempo_adj)
    return r.pick((", ", " , ", " | ", ", ")).join(tags)


def _t_minimal(p: _Parts, r: _R) -> str:
    # "dark trap 140 bpm no drums"
    return " ".join(
        x for x in (p.mood, p.style, r.pick(("", p.noun)), p.tempo_adj, *p.mods(r)) if x
    )


def _t_feels(p: _Parts, r: _R) -> str:
    # "i want a trap beat that feels dark. Tempo 140. Key: F minor. No drums."
    want = r.pick(("i want", "I want", "I need", "Looking for", "Want"))
    head = f"{want} {_a(_np(p.style, p.noun))}"
    if p.mood:
        head += f" that {r.pick(('feels', 'is', 'comes off', 'goes'))} {p.mood}"
    rest = [m[0].upper() + m[1:] for m in p.mods(r)]
    if p.tempo_adj:
        rest.insert(0, f"Around {p.tempo_adj}")
    return ". ".join([head, *rest]) + r.pick((".", "", "!")) + _slang(p, r, " ")


def _t_style_of(p: _Parts, r: _R) -> str:
    # "give me a beat in the style of drill, dark vibes, 140 bpm"
    vibe = f", {p.mood} {r.pick(('vibes', 'vibe', 'energy'))}" if p.mood else ""
    style = p.style or "hip hop"
    tail = ", ".join(p.mods(r))
    return (
        f"{r.pick(_TRAIN_OPENERS)} {_a(_np(p.tempo_adj, p.noun))} "
        f"{r.pick(('in the style of', 'kinda like', 'on some', 'in a'))} {style}"
        f"{' style' if r.chance(0.3) else ''}{vibe}{', ' + tail if tail else ''}{_slang(p, r, ' ')}"
    )


def _t_colon(p: _Parts, r: _R) -> str:
    # "drill: dark, menacing, 140 bpm, no melody"
    items = ([p.mood] if p.mood else []) + ([p.tempo_adj] if p.tempo_adj else []) + p.mods(r)
    style = p.style or "beat"
    return f"{style}{r.pick((':', ' -', ' —', ' ->'))} {', '.join(items) or p.noun}"


def _t_mixtape(p: _Parts, r: _R) -> str:
    # "need a dark beat for my mixtape, trap type, 140bpm, no chords"
    core = _np(p.tempo_adj, p.mood, p.noun)
    style = f", {p.style} {r.pick(('type', 'style', 'vibes', 'flavor'))}" if p.style else ""
    where = r.pick(("for my mixtape", "for my album", "for my next single", "for a freestyle"))
    tail = ", ".join(p.mods(r))
    return f"{r.pick(('need', 'Need', 'I need', 'gotta have'))} {_a(core)} {where}{style}" + (
        f", {tail}" if tail else ""
    )


def _t_energy(p: _Parts, r: _R) -> str:
    # "a trap beat with dark energy, at 140 bpm, with heavy 808s, no melody"
    head = _a(_np(p.tempo_adj, p.style, p.noun))
    if p.mood:
        head += f" with {p.mood} {r.pick(('energy', 'vibes', 'mood'))}"
    tail = ", ".join(p.mods(r))
    return head + (f", {tail}" if tail else "") + _slang(p, r, ". ")


def _t_slangy(p: _Parts, r: _R) -> str:
    # "yo can u cook up a dark trap beat no drums that goes crazy"
    opener = r.pick(
        ("yo can u cook up", "ayy make", "bro make", "yo gimme", "can u do", "lemme get")
    )
    core = _np(p.tempo_adj, p.mood, p.style, p.noun)
    tail = " ".join(p.mods(r))
    slang = p.slang or r.pick(_TRAIN_SLANG)
    return f"{opener} {_a(core)} {tail} {r.pick(('', '', ',', ' -'))} {slang}"


def _t_sentences(p: _Parts, r: _R) -> str:
    # "Trap beat please. Make it dark. 140 bpm. In F minor. No drums."
    first = f"{_np(p.style, p.noun)} {r.pick(('please', 'pls', 'plz', ''))}".strip()
    parts = [first[0].upper() + first[1:]]
    if p.mood:
        parts.append(f"{r.pick(('Make it', 'Keep it', 'Should be', 'Go'))} {p.mood}")
    if p.tempo_adj:
        parts.append(p.tempo_adj)
    parts += p.mods(r)
    return ". ".join(parts) + r.pick((".", "", "!"))


def _t_tempo_first(p: _Parts, r: _R) -> str:
    # "140 bpm dark trap beat in F minor with heavy 808s"
    core = _np(p.tempo_adj, p.mood, p.style, p.noun)
    return f"{core} {' '.join(p.mods(r))}{_slang(p, r, ', ')}"


def _t_no_first(p: _Parts, r: _R) -> str:
    # "No drums, give me a dark lo-fi beat at 80 bpm"
    mods = p.mods(r)
    excl = [m for m in mods if m in p.excl]
    rest = [m for m in mods if m not in p.excl]
    core = _a(_np(p.tempo_adj, p.mood, p.style, p.noun))
    head = ", ".join(excl)
    # Not "just" or "only" after the exclusions: those words restrict to the roles named.
    lead = (
        f"{head[0].upper() + head[1:]}, {r.pick(('give me', 'make', 'make it', 'I want'))} "
        if head
        else ""
    )
    return f"{lead}{core}{', ' if rest else ''}{', '.join(rest)}"


def _t_ish(p: _Parts, r: _R) -> str:
    # "something dark and trap-ish, tempo 140, no bass"
    mood = f"{p.mood} and " if p.mood else ""
    style = (
        f"{p.style}{r.pick(('-ish', ' ish', '-y', ' type', '-leaning'))}" if p.style else "hip hop"
    )
    tail = ", ".join(([p.tempo_adj] if p.tempo_adj else []) + p.mods(r))
    return f"{r.pick(('something', 'Something', 'smth', 'gimme something'))} {mood}{style}" + (
        f", {tail}" if tail else ""
    )


def _t_question(p: _Parts, r: _R) -> str:
    # "can you make me a dark trap beat? 140 bpm, no drums"
    core = _a(_np(p.tempo_adj, p.mood, p.style, p.noun))
    tail = ", ".join(p.mods(r))
    ask = r.pick(("can you make me", "could u make", "can you produce", "can we get"))
    return f"{ask} {core}?" + (f" {tail}" if tail else "")


def _slang(p: _Parts, r: _R, sep: str) -> str:
    return f"{sep}{p.slang}" if p.slang else ""


_TRAIN_SLANG = (
    "that slaps", "it has to slap", "make it go crazy", "hard-hitting", "something that bangs",
    "pure fire", "make it knock", "bangin", "for the club", "gotta hit hard", "🔥🔥", "go crazy",
    "no cap", "make it hit", "straight heat", "it needs to slap",
)  # fmt: skip

TRAIN = _Bank(
    nouns=(
        "beat", "beat", "beat", "track", "instrumental", "type beat", "joint", "banger", "loop",
        "groove", "tune", "song", "instrumental beat", "riddim", "vibe",
    ),
    slang=_TRAIN_SLANG,
    tempo_adj=("{n} bpm", "{n}bpm", "{n} BPM", "{n}BPM"),
    tempo_tail=("at {n} bpm", "{n} bpm", "tempo {n}", "around {n} bpm", "at {n}bpm", "{n} BPM"),
    key_minor=(
        "in {k} minor", "{k} minor", "{k}m", "key of {k}m", "{k} min", "in the key of {k} minor",
        "in {k}m", "in {k} min",
    ),
    key_major=(
        "in {k} major", "{k} major", "{k} maj", "key of {k} major", "in the key of {k} major",
        "in {k} maj",
    ),
    key_only=("in {k}", "key of {k}", "in the key of {k}"),
    mode_only={"minor": ("in minor", "minor key"), "major": ("in major", "major key")},
    plus={
        "bass": (
            "heavy 808s", "booming 808 bass", "sliding 808s", "distorted 808s", "a big 808",
            "a fat bassline", "a deep sub bass", "a rumbling sub", "thick low end", "some sub bass",
            "a funky bass line", "808s", "808s", "bass", "a bassline", "low end", "sub bass",
        ),
        "drums": (
            "hard kicks and crispy hats", "crispy hi-hats", "rolling hi-hats", "knocking drums",
            "punchy drums", "snappy snares", "some dusty drums", "a dusty breakbeat", "trap hats",
            "punchy kicks", "a drum loop", "some percussion", "swung hats", "drums",
            "drums", "hats", "kicks", "claps", "a breakbeat",
        ),
        "harmony": (
            "lush chords", "piano chords", "rhodes keys", "soft pads", "some rhodes", "dusty keys",
            "lush strings", "an organ", "a piano loop", "keys", "keys", "piano", "chords", "pads",
            "strings", "organ", "rhodes",
        ),
        "melody": (
            "a catchy melody", "a simple lead", "a flute melody", "a bell melody", "a synth lead",
            "a catchy riff", "some horns", "a whistle", "a pluck", "a bell lead", "melody",
            "a lead", "bells", "flute", "horns", "a riff",
        ),
    },
    plus_frames=(
        "with {x}", "with {x}", "with {x}", "{x}", "{x}", "add {x}", "{x} on it",
        "throw in {x}", "got to have {x}",
    ),
    heavy_frames=("{x}", "make it {x}", "real {x}"),
    only_frames=(
        "just {x}", "just {x}", "only {x}", "only {x}", "nothing but {x}", "{x} only",
        "strip it down to {x}", "just {x}, nothing else", "keep it to just {x}",
    ),
    excl_frames=("{x}", "{x}", "{x}", "but {x}", "{x} please", "{x} pls"),
    templates=(
        _t_classic, _t_classic, _t_tags, _t_minimal, _t_feels, _t_style_of, _t_colon,
        _t_mixtape, _t_energy, _t_slangy, _t_sentences, _t_tempo_first, _t_no_first, _t_ish,
        _t_question,
    ),
)  # fmt: skip


# ------------------------------------------------------------------------- heldout phrasings


def _h_project(p: _Parts, r: _R) -> str:
    # "For my next project I'm after a drill record with a dark feel, 140 bpm, no melody."
    head = f"For {r.pick(('my next project', 'an upcoming EP', 'a short film', 'the intro'))}"
    body = f"I'm after {_a(_np(p.tempo_adj, p.style, p.noun))}"
    if p.mood:
        body += f" with {_a(p.mood)} {r.pick(('feel', 'atmosphere', 'character'))}"
    tail = "; ".join(p.mods(r))
    return f"{head} {body}" + (f"; {tail}" if tail else "") + "."


def _h_picture(p: _Parts, r: _R) -> str:
    # "Picture this: a moody boom bap composition, rooted in D minor — strictly no drums."
    core = _a(_np(p.tempo_adj, p.mood, p.style, p.noun))
    tail = " — ".join(p.mods(r))
    slang = f" {p.slang[0].upper() + p.slang[1:]}." if p.slang else ""
    return f"Picture this: {core}" + (f" — {tail}" if tail else "") + "." + slang


def _h_vein(p: _Parts, r: _R) -> str:
    # "Could you put together a piece in a lo-fi vein? The mood should be dreamy; tempo 80."
    core = _a(_np(p.tempo_adj, p.noun))
    style = p.style or "hip hop"
    ask = r.pick(("Could you put together", "Would you mind sketching", "Might you assemble"))
    text = f"{ask} {core} in {_a(style)} {r.pick(('vein', 'spirit', 'tradition'))}?"
    if p.mood:
        text += f" The mood should be {p.mood}."
    tail = "; ".join(p.mods(r))
    return text + (f" Details: {tail}." if tail else "")


def _h_artist(p: _Parts, r: _R) -> str:
    # "My artist wants g-funk — sunny, 95 beats per minute, without the chords."
    who = r.pick(
        ("My artist wants", "The client asked for", "Our rapper is requesting", "The label needs")
    )
    items = ([p.mood] if p.mood else []) + ([p.tempo_adj] if p.tempo_adj else []) + p.mods(r)
    return f"{who} {p.style or 'hip hop'}" + (f" — {', '.join(items)}" if items else "") + "."


def _h_sounds(p: _Parts, r: _R) -> str:
    # "Compose a drill composition that sounds menacing, set in F# minor, absolutely no bass."
    core = _a(_np(p.tempo_adj, p.style, p.noun))
    mood = f" that sounds {p.mood}" if p.mood else ""
    tail = ", ".join(p.mods(r))
    return (
        f"{r.pick(('Compose', 'Write', 'Arrange', 'Score'))} {core}{mood}"
        + (f", {tail}" if tail else "")
        + "."
    )


def _h_flavoured(p: _Parts, r: _R) -> str:
    # "Ideally a piece with a sinister atmosphere, trap flavoured, tempo 150, though no 808s."
    mood = f" with {_a(p.mood)} atmosphere" if p.mood else ""
    flavour = f", {p.style} {r.pick(('flavoured', 'influenced', 'inspired'))}" if p.style else ""
    items = ([p.tempo_adj] if p.tempo_adj else []) + p.mods(r)
    return (
        f"{r.pick(('Ideally a piece', 'Preferably a number', 'Perhaps a cut'))}{mood}{flavour}"
        + (f", {', '.join(items)}" if items else "")
        + "."
    )


def _h_write(p: _Parts, r: _R) -> str:
    # "Write me a backing track: drill, dark; 140 bpm; no melody."
    head = f"{r.pick(('Write me', 'Prepare', 'Deliver'))} {_a(p.noun)}: {p.style or 'hip hop'}"
    items = ([p.mood] if p.mood else []) + ([p.tempo_adj] if p.tempo_adj else []) + p.mods(r)
    return head + (f"; {'; '.join(items)}" if items else "") + "."


def _h_video(p: _Parts, r: _R) -> str:
    # "We're shooting a video tonight and need a gloomy drill number in C minor."
    scene = r.pick(
        (
            "We're shooting a video tonight",
            "There's a showcase on Friday",
            "I have a session tomorrow",
        )
    )
    core = _a(_np(p.tempo_adj, p.mood, p.style, p.noun))
    tail = ", ".join(p.mods(r))
    want = r.pick(("we require", "I'd love", "I'm hoping for"))
    return f"{scene} and {want} {core}" + (f", {tail}" if tail else "") + "."


def _h_theme(p: _Parts, r: _R) -> str:
    # "Soundtrack for a late-night drive: lo-fi, nostalgic, 78 BPM, no drums."
    what = r.pick(
        ("Soundtrack for a late-night drive", "Theme for a rooftop scene", "Score for a montage")
    )
    items = ([p.style] if p.style else []) + ([p.mood] if p.mood else [])
    items += ([p.tempo_adj] if p.tempo_adj else []) + p.mods(r)
    return f"{what}: {', '.join(items) or p.noun}."


def _h_hear(p: _Parts, r: _R) -> str:
    # "Let's hear a dreamy lo-fi piece, 75 beats per minute, and strictly no chords, please."
    core = _a(_np(p.tempo_adj, p.mood, p.style, p.noun))
    tail = ", ".join(p.mods(r))
    slang = f" — {p.slang}" if p.slang else ""
    return (
        f"{r.pick(('Let us hear', 'How about', 'I would like to hear'))} {core}"
        + (f", {tail}" if tail else "")
        + slang
        + "."
    )


HELDOUT = _Bank(
    nouns=(
        "backing track", "composition", "piece", "number", "cut", "production", "record", "beat",
    ),
    slang=(
        "a certified heater", "should bump in the car", "make the speakers rattle",
        "a total head-nodder", "straight gas", "let it ride",
    ),
    tempo_adj=("{n} beats per minute", "{n} BPM", "{n} bpm"),
    tempo_tail=("at {n}BPM", "{n} beats per minute", "tempo {n}", "running at {n} bpm"),
    key_minor=("in {k} minor", "rooted in {k} minor", "{k} minor key", "set in {k} minor"),
    key_major=("in {k} major", "rooted in {k} major", "{k} major key", "set in {k} major"),
    key_only=("rooted in {k}", "set in {k}"),
    mode_only={"minor": ("minor key",), "major": ("major key",)},
    plus={
        "bass": (
            "a thick low end", "gliding 808s", "a rumbling bassline", "a round sub bass",
            "a walking bass line", "plenty of low end", "808s", "sub", "a bass line", "bass",
        ),
        "drums": (
            "snappy snares", "tight drums", "a shuffling drum loop", "a chopped breakbeat",
            "live percussion", "brushed snares", "booming kicks", "hi-hats",
            "claps", "drums", "percussion",
        ),
        "harmony": (
            "dusty piano chords", "airy pads", "a rich bed of chords", "swelling strings",
            "a gospel organ", "electric piano", "sustained pads", "rhodes", "keys", "piano",
        ),
        "melody": (
            "a memorable hook melody", "a plucked lead line", "muted horns", "glassy bells",
            "a breathy flute", "a looping riff", "a synth lead", "a whistle", "a pluck", "melody",
        ),
    },
    plus_frames=(
        "featuring {x}", "featuring {x}", "built around {x}", "complete with {x}",
        "showcasing {x}",
    ),
    heavy_frames=("decidedly {x}", "{x} throughout"),
    only_frames=(
        "using only {x}", "with just {x}", "built from nothing but {x}",
        "pared down to only {x}", "{x} and nothing else", "{x} only, if you would",
    ),
    excl_frames=(
        "strictly {x}", "absolutely {x}", "though {x}", "{x} for this one", "and {x}, please",
        "{x} this time",
    ),
    templates=(
        _h_project, _h_picture, _h_vein, _h_artist, _h_sounds, _h_flavoured, _h_write,
        _h_video, _h_theme, _h_hear,
    ),
)  # fmt: skip

_BANKS = {"train": TRAIN, "heldout": HELDOUT}


# ---------------------------------------------------------------------------------- wording


def _key_name(key: str, r: _R) -> str:
    """Sharps as given or, now and then, as their flat ("D#" → "Eb")."""
    return _FLAT_OF[key] if key in _FLAT_OF and r.chance(0.4) else key


def _key_phrase(key: str | None, mode: str | None, bank: _Bank, r: _R) -> str:
    if key is None and mode is None:
        return ""
    if key is None:
        return r.pick(bank.mode_only[mode])
    forms = (
        bank.key_only if mode is None else (bank.key_minor if mode == "minor" else bank.key_major)
    )
    return r.pick(forms).format(k=_key_name(key, r))


def _mood_phrase(moods: Sequence[str], r: _R) -> str:
    moods = list(moods)
    if len(moods) <= 1:
        return "".join(moods)
    return r.pick((" and ", ", ", " ")).join(moods) if len(moods) == 2 else _and(moods)


def _exclusions(excluded: Sequence[str], bank: _Bank, r: _R) -> list[str]:
    """One phrase per left-out role ("no drums", "drumless"), or one list ("no drums or bass")."""
    roles = [x for x in excluded if x in EXCLUDABLE]  # "other" has no words: it goes unsaid
    if len(roles) >= 2 and r.chance(0.4):
        lead, last = r.pick(_OUT_LISTS)
        words = [r.pick(EXCLUDABLE[x]) for x in r.shuffled(roles)]
        if words[0] == "bass" and lead.startswith("drop"):  # see _out
            lead, last = "leave out the ", " and "
        listed = f"{lead}{', '.join(words[:-1])}{last}{words[-1]}"
        return [r.pick(bank.excl_frames).format(x=listed)]
    return [r.pick(bank.excl_frames).format(x=_out(role, r)) for role in roles]


def _out(role: str, r: _R) -> str:
    if role in OUT_WORDS and r.chance(0.15):
        return r.pick(OUT_WORDS[role])
    word = r.pick(EXCLUDABLE[role])
    form = r.pick(_OUT_FORMS)
    # "drop the bass" asks for a bass drop, not for no bass (prompt_roles reads it so).
    while word == "bass" and form.startswith("drop"):
        form = r.pick(_OUT_FORMS)
    return form.format(w=word)


def _name(role: str, bank: _Bank, r: _R) -> str:
    """A present role as a bare word ("hats", "a riff") or described ("crispy hi-hats")."""
    if not r.chance(0.35):
        return r.pick(bank.plus[role])
    word = r.pick(ROLE_WORDS[role])
    return _a(word) if word in _COUNTABLE and r.chance(0.7) else word


def _described(present: Sequence[str], bank: _Bank, r: _R) -> str:
    """Some present roles, described ("with heavy 808s and keys", "bass-heavy"); often none.

    The rate is a balance: a role word must not mean "present" much more often than the
    exclusions make it mean "absent", or the model learns the word instead of the words
    around it (see _P_DESCRIBE).
    """
    roles = [x for x in present if x in ROLE_WORDS]
    if not roles or not r.chance(_P_DESCRIBE):
        return ""
    n = 1 + int(r.rng.choice(len(_P_N_DESCRIBED), p=_P_N_DESCRIBED))
    chosen = r.shuffled(roles)[:n]
    if len(chosen) == 1 and chosen[0] in _HEAVY and r.chance(0.25):
        return r.pick(bank.heavy_frames).format(x=r.pick(_HEAVY[chosen[0]]))
    items = [_name(x, bank, r) for x in chosen]
    # Tags read as a comma list ("808s, hats, keys"), a phrase with an "and".
    listed = ", ".join(items) if r.chance(0.3) else _and(items)
    return r.pick(bank.plus_frames).format(x=listed)


def _restriction(present: Sequence[str], bank: _Bank, r: _R) -> str:
    """All present roles as the whole production ("just drums and a fat bassline")."""
    unnamed = [x for x in present if x not in ROLE_WORDS]
    if unnamed or not present:
        raise ValueError(f"a restriction names roles of {tuple(ROLE_WORDS)}, got {present}")
    items = [_name(x, bank, r) for x in r.shuffled(present)]
    return r.pick(bank.only_frames).format(x=_and(items))


def _protected_words(*phrases: str) -> set[str]:
    return {w.strip(".,:;!?").lower() for p in phrases for w in p.split()}


def _noisy(text: str, r: _R, protected: set[str]) -> str:
    """Lower-case some prompts and put a typo in some, never in a protected word."""
    words = text.split(" ")
    free = [i for i, w in enumerate(words) if w.strip(".,:;!?—-|").lower() not in protected]
    if r.chance(0.15):
        for i in free:
            words[i] = words[i].lower()
    candidates = [i for i in free if words[i].isalpha() and len(words[i]) >= 4]
    if candidates and r.chance(0.2):
        i = candidates[int(r.rng.integers(len(candidates)))]
        w, j = words[i], int(r.rng.integers(1, len(words[i]) - 1))
        kind = r.pick(("swap", "drop", "double"))
        if kind == "swap":
            w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        elif kind == "drop":
            w = w[:j] + w[j + 1 :]
        else:
            w = w[:j] + w[j] + w[j:]
        words[i] = w
    return " ".join(words)


def make_prompt(
    rng: np.random.Generator,
    *,
    style: str | None,
    moods: Sequence[str] = (),
    bpm: float | None = None,
    key: str | None = None,
    mode: str | None = None,
    excluded: Sequence[str] = (),
    present: Sequence[str] = (),
    restricted: bool = False,
    phrasing: Phrasing = "train",
) -> str:
    """A text prompt asking for a production, worded at random in the `phrasing` set.

    Args:
        rng: the source of every choice (same state → same prompt).
        style: one of plan.STYLES, named with one of its synonyms; None leaves it out.
        moods: mood words, all written into the prompt ("dark and moody").
        bpm: an explicit tempo to state ("at 142 bpm"); None states none.
        key: an explicit tonic, with sharps (written as a flat now and then: "Eb minor").
        mode: "major" / "minor"; written with the key, or alone ("minor key") without one.
        excluded: roles the prompt asks to leave out ("no drums", "without the 808s").
        present: roles the production has; in about 40 % of prompts one to three of them are
            described ("with heavy 808s", "808s, hats"). Roles in `excluded` never are.
        restricted: state `present` as the whole production instead ("just drums and bass"),
            naming every one of them; `excluded` then goes unsaid, since the restriction
            implies it. Every present role needs words (ROLE_WORDS), or ValueError.
        phrasing: "train" or "heldout" (disjoint sentence shapes; see the module docstring).
    """
    if phrasing not in _BANKS:
        raise ValueError(f"phrasing must be one of {PHRASINGS}, got {phrasing!r}")
    bank, r = _BANKS[phrasing], _R(rng)
    style_word = r.pick(STYLE_WORDS[style]) if style else ""
    tempo = f"{float(bpm):.0f}" if bpm is not None else ""
    use_adj = bool(tempo) and r.chance(0.4)
    present = [x for x in present if x not in excluded]
    parts = _Parts(
        style=style_word,
        mood=_mood_phrase(moods, r),
        noun=r.pick(bank.nouns),
        tempo_adj=r.pick(bank.tempo_adj).format(n=tempo) if use_adj else "",
        tempo_tail=r.pick(bank.tempo_tail).format(n=tempo) if tempo and not use_adj else "",
        key=_key_phrase(key, mode, bank, r),
        present=_restriction(present, bank, r) if restricted else _described(present, bank, r),
        excl=[] if restricted else _exclusions(excluded, bank, r),
        slang=r.pick(bank.slang) if r.chance(0.3) else "",
        bank=bank,
    )
    text = _tidy(r.pick(bank.templates)(parts, r))
    if phrasing == "train":
        protected = (
            _protected_words(
                style_word,
                parts.mood,
                parts.tempo_adj,
                parts.tempo_tail,
                parts.key,
                parts.present,
                *parts.excl,
            )
            | _ROLE_WORD_SET
        )
        text = _noisy(text, r, protected)
        if r.chance(0.5):
            text = text[0].upper() + text[1:]
    else:
        text = text[0].upper() + text[1:]
    return text
