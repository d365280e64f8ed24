"""Text prompts for songs: many ways of asking for the same production.

(The words live in `prompt_vocab`, each phrasing set's sentence shapes in `phrasing_train` and
`phrasing_heldout`; this module puts a prompt together.)

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

from collections.abc import Sequence

import numpy as np

from producer.data.mix_phrases import mix_phrases
from producer.data.phrasing_heldout import HELDOUT
from producer.data.phrasing_train import TRAIN
from producer.data.prompt_vocab import (
    EXCLUDABLE,
    MOODS,
    OUT_WORDS,
    PHRASINGS,
    ROLE_WORDS,
    STYLE_MOODS,
    STYLE_WORDS,
    Bank,
    Choices,
    Parts,
    Phrasing,
    a_or_an,
    and_list,
    tidy,
)

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

_BANKS = {"train": TRAIN, "heldout": HELDOUT}


# ---------------------------------------------------------------------------------- wording


def _key_name(key: str, r: Choices) -> str:
    """Sharps as given or, now and then, as their flat ("D#" → "Eb")."""
    return _FLAT_OF[key] if key in _FLAT_OF and r.chance(0.4) else key


def _key_phrase(key: str | None, mode: str | None, bank: Bank, r: Choices) -> str:
    if key is None and mode is None:
        return ""
    if key is None:
        return r.pick(bank.mode_only[mode])
    forms = (
        bank.key_only if mode is None else (bank.key_minor if mode == "minor" else bank.key_major)
    )
    return r.pick(forms).format(k=_key_name(key, r))


def _mood_phrase(moods: Sequence[str], r: Choices) -> str:
    moods = list(moods)
    if len(moods) <= 1:
        return "".join(moods)
    return r.pick((" and ", ", ", " ")).join(moods) if len(moods) == 2 else and_list(moods)


def _exclusions(excluded: Sequence[str], bank: Bank, r: Choices) -> list[str]:
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


def _out(role: str, r: Choices) -> str:
    if role in OUT_WORDS and r.chance(0.15):
        return r.pick(OUT_WORDS[role])
    word = r.pick(EXCLUDABLE[role])
    form = r.pick(_OUT_FORMS)
    # "drop the bass" asks for a bass drop, not for no bass (prompt_roles reads it so).
    while word == "bass" and form.startswith("drop"):
        form = r.pick(_OUT_FORMS)
    return form.format(w=word)


def _name(role: str, bank: Bank, r: Choices) -> str:
    """A present role as a bare word ("hats", "a riff") or described ("crispy hi-hats")."""
    if not r.chance(0.35):
        return r.pick(bank.plus[role])
    word = r.pick(ROLE_WORDS[role])
    return a_or_an(word) if word in _COUNTABLE and r.chance(0.7) else word


def _described(present: Sequence[str], bank: Bank, r: Choices) -> str:
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
    listed = ", ".join(items) if r.chance(0.3) else and_list(items)
    return r.pick(bank.plus_frames).format(x=listed)


def _restriction(present: Sequence[str], bank: Bank, r: Choices) -> str:
    """All present roles as the whole production ("just drums and a fat bassline")."""
    unnamed = [x for x in present if x not in ROLE_WORDS]
    if unnamed or not present:
        raise ValueError(f"a restriction names roles of {tuple(ROLE_WORDS)}, got {present}")
    items = [_name(x, bank, r) for x in r.shuffled(present)]
    return r.pick(bank.only_frames).format(x=and_list(items))


def _protected_words(*phrases: str) -> set[str]:
    return {w.strip(".,:;!?").lower() for p in phrases for w in p.split()}


def _noisy(text: str, r: Choices, protected: set[str]) -> str:
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
            In the "train" set about a third of the prompts also carry mix words about the
            whole mix or a present role ("wide stereo image", "keys tucked back"; see
            `mix_phrases`), which the mixing teacher follows.
        restricted: state `present` as the whole production instead ("just drums and bass"),
            naming every one of them; `excluded` then goes unsaid, since the restriction
            implies it. Every present role needs words (ROLE_WORDS), or ValueError.
        phrasing: "train" or "heldout" (disjoint sentence shapes; see the module docstring).
    """
    if phrasing not in _BANKS:
        raise ValueError(f"phrasing must be one of {PHRASINGS}, got {phrasing!r}")
    bank, r = _BANKS[phrasing], Choices(rng)
    style_word = r.pick(STYLE_WORDS[style]) if style else ""
    tempo = f"{float(bpm):.0f}" if bpm is not None else ""
    use_adj = bool(tempo) and r.chance(0.4)
    present = [x for x in present if x not in excluded]
    parts = Parts(
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
        mix=tuple(mix_phrases(present, r)) if phrasing == "train" else (),
    )
    text = tidy(r.pick(bank.templates)(parts, r))
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
                *parts.mix,
            )
            | _ROLE_WORD_SET
        )
        text = _noisy(text, r, protected)
        if r.chance(0.5):
            text = text[0].upper() + text[1:]
    else:
        text = text[0].upper() + text[1:]
    return text
