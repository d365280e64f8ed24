"""Explicit requests in a prompt: tempo, key, mode, excluded roles and a named style.

``parse_prompt("dark trap beat in F minor at 140 bpm, no vocals")`` →
``PromptHints(bpm=140.0, key="F", mode="minor", excluded={"vocals"}, style="trap")``.

The planner learns everything else (mood, which roles suit a style, a typical tempo) from data;
what a person states outright should not be left to a model's guess, so these rules find it and
the planner honours it. The rules are written to miss rather than to invent: a request they do
not recognise is left to the model, while a false hint overrides the model with something the
person never asked for. Hence, for example:

- Tempo needs a unit or a tempo word: "140 bpm", "140BPM", "85 beats per minute", "tempo 85",
  "bpm: 90", or "at 90" / "@ 90" (no unit after it); "90s boom bap" is not a tempo. Values
  outside ``MIN_BPM..MAX_BPM`` are ignored; "80-90 bpm" gives the middle.
- A key needs a note name the text cannot mean otherwise. A capital letter counts before a mode
  ("F minor", "Bb maj", "C#m") or after "in" ("in D", "in Eb"); a lower-case one only with an
  accidental ("f#m", "eb minor"), a full mode word ("d minor", not "a minor": that is usually
  "a minor key", any minor key) or after "key" ("key of a minor"). "in A" also needs what
  follows to be a break or a small word ("in A, 90 bpm", "in A with…"), since "in A dark mood"
  is an article. Prompts written all in capitals are read in lower case.
- An exclusion is a negation right before a role word: "no drums", "without the 808s",
  "no chords or pads", "w/o vocals", "drumless", "vocal-free", and "instrumental" (no vocals).
  A word between them changes the meaning ("no live drums" still has drums), so it blocks the
  match; so does a role word used as a modifier ("no bass drum", "no drum fills", "bass-heavy").
- A style counts when exactly one style is named and not negated ("not trap").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from producer.plan import MAX_BPM, MIN_BPM, normalize_key

__all__ = ["PromptHints", "parse_prompt"]


@dataclass(frozen=True)
class PromptHints:
    """What a prompt states explicitly; ``None`` / empty where it says nothing."""

    bpm: float | None = None  # stated tempo, within MIN_BPM..MAX_BPM
    key: str | None = None  # tonic with sharps ("D#"), as in producer.plan.KEYS
    mode: str | None = None  # "major" or "minor"
    excluded: frozenset[str] = field(default_factory=frozenset)  # roles from plan.ROLES
    style: str | None = None  # one of plan.STYLES when exactly one is named


# ----------------------------------------------------------------------------------- tempo

_NUMBER = r"(\d{2,3}(?:\.\d+)?)"
_BPM_UNIT = r"(?:bpms?|b\.p\.m\.?|beats\s+(?:per|a|an)\s+minute)\b"
_TEMPO_RANGE = re.compile(rf"\b{_NUMBER}\s*(?:-|–|to)\s*{_NUMBER}\s*-?\s*{_BPM_UNIT}", re.I)
_TEMPO_PATTERNS = (
    # "140 bpm", "140BPM", "140-bpm", "85 beats per minute"
    re.compile(rf"\b{_NUMBER}\s*-?\s*{_BPM_UNIT}", re.I),
    # "tempo 85", "tempo of 85", "bpm: 90", "tempo around 140", "bpm=90"
    re.compile(
        rf"\b(?:tempo|bpm)\s*(?:of|at|around|about|near|is|=|:|~)?\s*(?:~\s*)?{_NUMBER}\b", re.I
    ),
    # "at 90", "@ 90", "at around 90": no unit, per cent, "s" (decades) or time after it
    re.compile(
        rf"(?:\bat|@)\s*(?:around\s+|about\s+|~\s*)?{_NUMBER}"
        r"(?!\s*(?:%|percent|hz|khz|k\b|s\b|'s|ms\b|sec|min|am\b|pm\b|db|years?|x\b|cent|\.\d|\d))",
        re.I,
    ),
)


def _in_range(value: float) -> bool:
    return MIN_BPM <= value <= MAX_BPM


def _parse_tempo(text: str) -> float | None:
    found: list[tuple[int, float]] = []
    for m in _TEMPO_RANGE.finditer(text):
        low, high = float(m.group(1)), float(m.group(2))
        if _in_range(low) and _in_range(high):
            found.append((m.start(), (low + high) / 2.0))
    if not found:
        for pattern in _TEMPO_PATTERNS:
            for m in pattern.finditer(text):
                value = float(m.group(1))
                if _in_range(value):
                    found.append((m.start(), value))
    return min(found)[1] if found else None


# ------------------------------------------------------------------------------------- key

# The note: a letter, then an optional accidental ("#", "♯", "b", "♭", " sharp", "-flat").
_TONIC = r"(?P<letter>[A-Ga-g])(?P<acc>#|♯|♭|b|[\s-]?(?i:sharp|flat))?"
# The mode after the note: "m" glued to it ("C#m"), or a word ("minor", "Maj", "min").
_MODE_SUFFIX = r"(?:(?P<m>m)|\s*-?\s*(?P<mode>(?i:major|minor|maj|min)))"
# Nothing word-like may touch the key on either side ("G-funk", "E-40", "D.C." are not keys).
_BEFORE = r"(?<![\w#♯♭'’.-])"
_AFTER = r"(?![\w#♯♭'’-]|\.\w)"

# "key of C#m", "key: Eb", "key F minor"; not "low key" (an adverb).
_KEY_CONTEXT = re.compile(
    rf"(?<![Ll]ow )(?<![Ll]ow-)\b(?i:key)(?P<link>\s+(?i:of|is|in)\s+|\s*[:=]\s*|\s+)"
    rf"{_TONIC}{_MODE_SUFFIX}?{_AFTER}"
)
_KEY_WITH_MODE = re.compile(rf"{_BEFORE}{_TONIC}{_MODE_SUFFIX}{_AFTER}")
_KEY_AFTER_IN = re.compile(rf"\b(?i:in)\s+{_TONIC}{_AFTER}(?P<rest>.{{0,12}})", re.S)
# What may follow "in A" for the "A" to be a key rather than the article.
_AFTER_A_KEY = re.compile(
    r"^(?:\s*$|\s*[,.;:!?)\]|/&+–—-]|\s+(?:with|and|at|for|please|pls|plz|over|using|"
    r"featuring|key|around|no|without|but|so|that|then|@|\d))",
    re.I,
)
_MODE_ONLY = re.compile(
    r"\b(?P<mode>major|minor)[\s-](?:key|scale|tonality)\b|\bin\s+(?:a\s+)?(?P<mode2>major|minor)"
    r"(?![\w-])",
    re.I,
)


def _mode_name(m: re.Match) -> str | None:
    word = (m.group("mode") or "").lower()
    if m.group("m") or word.startswith("min"):
        return "minor"
    if word.startswith("maj"):
        return "major"
    return None


def _tonic(m: re.Match) -> str:
    letter, acc = m.group("letter"), re.sub(r"[\s-]", "", m.group("acc") or "").lower()
    accidental = {"": "", "#": "#", "♯": "#", "sharp": "#", "b": "b", "♭": "b", "flat": "b"}[acc]
    return normalize_key(letter.upper() + accidental)


def _plausible_with_mode(m: re.Match, text: str) -> bool:
    """Whether "<note><mode>" is a key and not ordinary words ("a minor tweak", "am", "cm")."""
    letter, acc, glued_m = m.group("letter"), m.group("acc"), m.group("m")
    if letter.isupper():
        # "Am" opening a sentence and followed by a word is the verb ("Am I…"); elsewhere
        # ("trap in Am", "? Am, no lead") it is the key.
        if letter == "A" and glued_m and not acc:
            opens = re.search(r"(?:^|[.!?]\s*)$", text[: m.start()]) is not None
            return not (opens and re.match(r"\s+[A-Za-z]", text[m.end() :]))
        return True
    if acc:
        return True
    # Lower case without an accidental: only a full mode word, and never the article "a".
    return letter != "a" and glued_m is None


def _parse_key(text: str) -> tuple[str | None, str | None]:
    """(tonic, mode) of the first key the text states; mode alone when only that is said."""
    source = text.lower() if text.upper() == text else text  # capitals carry no meaning
    candidates: list[tuple[int, str, str | None]] = []
    for m in _KEY_CONTEXT.finditer(source):
        bare = not (m.group("acc") or m.group("m") or m.group("mode"))
        # "key a banger" is not A: a bare lower-case letter needs "of", "is", "in" or ":".
        if bare and m.group("letter").islower() and not m.group("link").strip():
            continue
        candidates.append((m.start(), _tonic(m), _mode_name(m)))
    if not candidates:
        for m in _KEY_WITH_MODE.finditer(source):
            if _plausible_with_mode(m, source):
                candidates.append((m.start(), _tonic(m), _mode_name(m)))
        for m in _KEY_AFTER_IN.finditer(source):
            letter, acc = m.group("letter"), m.group("acc")
            if letter.islower() and not acc:
                continue
            if letter == "A" and not acc and not _AFTER_A_KEY.match(m.group("rest")):
                continue
            candidates.append((m.start("letter"), _tonic(m), None))
    if candidates:
        _, tonic, mode = min(candidates, key=lambda c: c[0])
        if mode is None:  # "in D ... minor key": a mode stated on its own still counts
            only = _MODE_ONLY.search(source)
            mode = (only.group("mode") or only.group("mode2")).lower() if only else None
        return tonic, mode
    only = _MODE_ONLY.search(source)
    return None, ((only.group("mode") or only.group("mode2")).lower() if only else None)


# ------------------------------------------------------------------------------ exclusions

# Role words (one token, or two for "sub bass", "lead vocals"…) and the role they mean.
_ROLE_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("drum", "drums", "percussion", "percs", "perc", "drumkit"), "drums"
    ),
    **dict.fromkeys(
        ("bass", "basses", "bassline", "basslines", "808", "808s", "sub", "subs", "sub-bass"),
        "bass",
    ),
    **dict.fromkeys(("melody", "melodies", "lead", "leads", "topline", "toplines"), "melody"),
    **dict.fromkeys(
        ("chord", "chords", "keys", "pad", "pads", "harmony", "harmonies"), "harmony"
    ),
    **dict.fromkeys(
        ("vocal", "vocals", "vox", "voice", "voices", "singing", "singer", "singers", "rap",
         "rapping", "rapper", "rappers", "lyrics"),
        "vocals",
    ),
}  # fmt: skip
_TWO_WORD_ROLES: dict[tuple[str, str], str | None] = {
    ("sub", "bass"): "bass",
    ("bass", "line"): "bass",
    ("bass", "lines"): "bass",
    ("lead", "vocal"): "vocals",
    ("lead", "vocals"): "vocals",
    ("lead", "singer"): "vocals",
    ("drum", "kit"): "drums",
    ("drum", "loop"): "drums",
    ("drum", "loops"): "drums",
    ("chord", "progression"): "harmony",
    # Parts of the drum kit, not the bass or the drums as a whole.
    ("bass", "drum"): None,
    ("bass", "drums"): None,
    ("808", "drums"): None,
    ("808", "kick"): None,
    ("808", "kicks"): None,
}
# A word after the role word that makes it a modifier: "no drum fills" keeps the drums.
_MODIFIERS = frozenset(
    {
        "heavy", "boost", "boosted", "drop", "drops", "fill", "fills", "roll", "rolls", "break",
        "breaks", "solo", "solos", "distortion", "machine", "machines", "tag", "tags", "change",
        "changes", "processing", "effect", "effects", "fx", "reverb", "delay", "eq", "sidechain",
        "sidechaining", "pattern", "patterns", "switch", "switches", "slide", "slides", "glide",
        "glides", "genre", "genres",
    }
)  # fmt: skip
# Negations that may stand right before a role (possibly with an article between).
_NEGATIONS_1 = frozenset({"no", "without", "minus", "zero", "skip", "remove", "mute", "lose"})
_NEGATIONS_2 = frozenset({("leave", "out"), ("take", "out"), ("not", "any"), ("cut", "out")})
_VERB_NEGATIONS = frozenset({"skip", "remove", "mute", "lose", "leave", "take", "cut"})
_KEEPERS = frozenset({"don't", "don’t", "dont", "never", "not"})  # "don't skip the drums"
_DETERMINERS = frozenset({"the", "any", "a", "an", "all", "those"})
_CONNECTORS = frozenset({",", "and", "or", "nor", "/", "&", "+"})
_TOKEN = re.compile(r"[a-z0-9#]+(?:['’][a-z]+)?(?:-[a-z0-9]+)*|[,/&+.;:!?]")
_SUFFIXED = re.compile(r"^(?P<word>[a-z0-9]+?)-?(?P<suffix>less|free)$")
_INSTRUMENTAL = frozenset({"instrumental", "instrumentals", "instrumentally"})


def _tokens(text: str) -> list[str]:
    lowered = re.sub(r"\bw/o\b", "without", text.lower())
    return _TOKEN.findall(lowered)


def _role_at(tokens: list[str], i: int) -> tuple[str | None, int]:
    """(role, tokens used) for a role phrase starting at ``tokens[i]``; (None, 0) if none.

    A recognised phrase that names no role as a whole (a "bass drum") gives (None, n > 0).
    """
    if i >= len(tokens):
        return None, 0
    pair = (tokens[i], tokens[i + 1]) if i + 1 < len(tokens) else None
    if pair in _TWO_WORD_ROLES:
        role, used = _TWO_WORD_ROLES[pair], 2
    elif tokens[i] in _ROLE_WORDS:
        role, used = _ROLE_WORDS[tokens[i]], 1
    else:
        return None, 0
    following = tokens[i + used] if i + used < len(tokens) else ""
    if following in _MODIFIERS:
        return None, used
    return role, used


def _skip_determiners(tokens: list[str], i: int) -> int:
    while i < len(tokens) and tokens[i] in _DETERMINERS:
        i += 1
    return i


def _negated_list(tokens: list[str], j: int) -> list[str]:
    """Roles of the list starting at ``tokens[j]``, right after a negation.

    "no drums, bass or vocals" and "without chords and pads" are lists; but when only commas
    join the items ("no vocals, 808s hitting hard") the comma ends the negated phrase, so
    only the first item counts.
    """
    role, used = _role_at(tokens, j)
    if role is None:
        return []
    roles, joiners = [role], []
    while True:
        j += used
        if j >= len(tokens) or tokens[j] not in _CONNECTORS:
            break
        joiner = tokens[j]
        k = _skip_determiners(tokens, j + 1)
        if k < len(tokens) and tokens[k] == "no":
            k = _skip_determiners(tokens, k + 1)
        role, used = _role_at(tokens, k)
        if role is None:
            break
        roles.append(role)
        joiners.append(joiner)
        j = k
    return roles if any(joiner != "," for joiner in joiners) else roles[:1]


def _parse_exclusions(text: str) -> frozenset[str]:
    tokens = _tokens(text)
    excluded: set[str] = set()
    for i, token in enumerate(tokens):
        if token in _INSTRUMENTAL:
            excluded.add("vocals")
            continue
        suffixed = _SUFFIXED.match(token)
        if suffixed and suffixed.group("word") in _ROLE_WORDS:  # "drumless", "vocal-free"
            excluded.add(_ROLE_WORDS[suffixed.group("word")])
            continue
        if token.startswith("no-") and token[3:] in _ROLE_WORDS:  # "no-drums"
            excluded.add(_ROLE_WORDS[token[3:]])
            continue
        if token in _NEGATIONS_1:
            j = i + 1
        elif i + 1 < len(tokens) and (token, tokens[i + 1]) in _NEGATIONS_2:
            j = i + 2
        else:
            continue
        # "don't skip the drums", "never remove the bass": a negated removal keeps the role.
        if token in _VERB_NEGATIONS and i > 0 and tokens[i - 1] in _KEEPERS:
            continue
        excluded.update(_negated_list(tokens, _skip_determiners(tokens, j)))
    return frozenset(excluded)


# ----------------------------------------------------------------------------------- style

_STYLE_PATTERNS: dict[str, re.Pattern] = {
    "trap": re.compile(r"\btrap\b", re.I),
    "drill": re.compile(r"\bdrill\b", re.I),
    "boom-bap": re.compile(r"\bboom[\s-]?bap\b", re.I),
    "lo-fi": re.compile(r"\blo[\s-]?fi\b|\blow[\s-]fi\b|\bchill[\s-]?hop\b", re.I),
    "g-funk": re.compile(r"\bg[\s-]?funk\b|\bwest[\s-]coast\b", re.I),
}
_STYLE_NEGATION = re.compile(
    r"(?:\b(?:not|no|non|without|except|minus)|\banything\s+but|\bbut\s+not)[\s-]+"
    r"(?:(?:too|very|really|a|an|the|any|so)\s+)?$",
    re.I,
)


def _parse_style(text: str) -> str | None:
    named = set()
    for style, pattern in _STYLE_PATTERNS.items():
        for m in pattern.finditer(text):
            if not _STYLE_NEGATION.search(text[max(0, m.start() - 30) : m.start()]):
                named.add(style)
    return named.pop() if len(named) == 1 else None


# ------------------------------------------------------------------------------------- API


def parse_prompt(text: str) -> PromptHints:
    """The tempo, key, mode, excluded roles and style that ``text`` states explicitly."""
    key, mode = _parse_key(text)
    return PromptHints(
        bpm=_parse_tempo(text),
        key=key,
        mode=mode,
        excluded=_parse_exclusions(text),
        style=_parse_style(text),
    )
