"""What a prompt states or implies that a rule can read: tempo, key, mode, stems and style.

``parse_prompt("dark trap beat in F minor at 140 bpm, no vocals, heavy 808s")`` →
``PromptHints(bpm=140.0, key="F", mode="minor", excluded={"vocals"}, included={"bass"},
style="trap", mood_mode="minor", …)``.

What a person writes should not be left to a model's guess, so these rules find it and the
planner honours it; the planning head fills in only what the words leave open. The rules are
written to miss rather than to invent: a request they do not recognise is left to the model,
while a false hint overrides the model with something the person never asked for. This module
reads the tempo and the key; `prompt_roles` reads the stems (named, refused, restricted),
`prompt_style` the style, tempo words and moods. For the tempo and the key:

- Tempo needs a unit or a tempo word: "140 bpm", "140BPM", "85 beats per minute", "tempo 85",
  "bpm: 90", or "at 90" / "@ 90" (no unit after it); "90s boom bap" is not a tempo. Values
  outside ``MIN_BPM..MAX_BPM`` are ignored; "80-90 bpm" gives the middle.
- A key needs a note name the text cannot mean otherwise. A capital letter counts before a mode
  ("F minor", "Bb maj", "C#m") or after "in" ("in D", "in Eb"); a lower-case one only with an
  accidental ("f#m", "eb minor"), a full mode word ("d minor", not "a minor": that is usually
  "a minor key", any minor key) or after "key" ("key of a minor"). "in A" also needs what
  follows to be a break or a small word ("in A, 90 bpm", "in A with…"), since "in A dark mood"
  is an article. Prompts written all in capitals are read in lower case.

Every field comes with `Evidence`: the words that decided it and the rule that read them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from producer.models.prompt_roles import parse_roles
from producer.models.prompt_style import parse_mood_mode, parse_style, parse_tempo_word
from producer.models.prompt_words import Evidence
from producer.plan import MAX_BPM, MIN_BPM, normalize_key

__all__ = ["PromptHints", "parse_prompt"]


@dataclass(frozen=True)
class PromptHints:
    """What a prompt states or implies; ``None`` / empty where it says nothing.

    Compared with ``==`` on the decisions only: `evidence` (the words behind them) is left out.
    """

    bpm: float | None = None  # stated tempo, within MIN_BPM..MAX_BPM
    key: str | None = None  # tonic with sharps ("D#"), as in producer.plan.KEYS
    mode: str | None = None  # "major" or "minor", stated ("F minor", "minor key")
    excluded: frozenset[str] = field(default_factory=frozenset)  # roles refused
    style: str | None = None  # named, or implied by scenes, eras, gear (prompt_style)
    included: frozenset[str] = field(default_factory=frozenset)  # roles named positively
    only: bool = False  # a restriction ("just drums and bass"): exactly `included`
    instruments: Mapping[str, str] = field(default_factory=dict)  # role → instrument named
    conflicts: tuple[str, ...] = ()  # roles both asked for and refused
    tempo_word: str | None = None  # "slow", "mid" or "fast" (prompt_style.TEMPO_POSITIONS)
    mood_mode: str | None = None  # the mode the moods imply (weaker than a stated one)
    evidence: tuple[Evidence, ...] = field(default=(), compare=False)


# ----------------------------------------------------------------------------------- tempo

_NUMBER = r"(\d{2,3}(?:\.\d+)?)"
_BPM_UNIT = r"(?:bpms?|b\.p\.m\.?|beats\s+(?:per|a|an)\s+minute)\b"
_TEMPO_RANGE = re.compile(rf"\b{_NUMBER}\s*(?:-|–|to)\s*{_NUMBER}\s*-?\s*{_BPM_UNIT}", re.I)
# What may not follow a number for it to be a tempo: per cent, decades ("90s"), times, units…
_NOT_A_TEMPO = (
    r"(?!\s*(?:%|percent|hz|khz|k\b|s\b|'s|ms\b|sec|min|am\b|pm\b|db|years?|x\b|cent|bars?\b|"
    r"til\b|\.\d|\d))"
)
_TEMPO_PATTERNS = (
    # "140 bpm", "140BPM", "140-bpm", "85 beats per minute"
    re.compile(rf"\b{_NUMBER}\s*-?\s*{_BPM_UNIT}", re.I),
    # "tempo 85", "tempo of 85", "bpm: 90", "tempo around 140", "bpm=90"
    re.compile(
        rf"\b(?:tempo|bpm)\s*(?:of|at|around|about|near|is|=|:|~)?\s*(?:~\s*)?{_NUMBER}\b", re.I
    ),
    # "at 90", "@ 90", "at around 90": no unit, per cent, "s" (decades) or time after it
    re.compile(rf"(?:\bat|@)\s*(?:around\s+|about\s+|~\s*)?{_NUMBER}{_NOT_A_TEMPO}", re.I),
    # "keep it around 140", "roughly 90": an approximate number with nothing after it
    re.compile(rf"\b(?:around|about|roughly|~)\s*{_NUMBER}{_NOT_A_TEMPO}", re.I),
    # "trap, 150, F minor", "Boom bap. Ab minor. 94.", "..., 87": a number standing alone as
    # one item of a list or a sentence of its own
    re.compile(
        rf"(?:^|[,;|/]|(?<!\d)\.|\s-)\s*{_NUMBER}(?:\s+(?:please|pls|plz|ish))?\s*"
        rf"(?=$|[,;|!/]|\.(?!\d)|\s-\s)",
        re.I,
    ),
    # "in D minor 140 with…", "Abm 134", "Cmaj 96": a number right after the key's mode
    re.compile(rf"\b(?:minor|major|maj|min)\s+{_NUMBER}{_NOT_A_TEMPO}", re.I),
    re.compile(rf"(?<![\w#])[A-G][#♯♭b]?(?:m|maj|min)\s+{_NUMBER}{_NOT_A_TEMPO}"),
    # "trap 160 A# minor", "140 in F minor": a number right before a key with its mode
    re.compile(rf"\b{_NUMBER}\s+(?:in\s+)?[A-G][#♯♭b]?(?:m\b|\s*(?i:minor|major|maj|min)\b)"),
    # "gfunk 96 Cmaj", "Trap beat 140": a number right after the style's name
    re.compile(
        rf"\b(?:trap|drill|boom[\s-]?bap|lo[\s-]?fi|g[\s-]?funk)(?:\s+(?:type\s+)?beat)?\s+"
        rf"{_NUMBER}{_NOT_A_TEMPO}",
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


# ------------------------------------------------------------------------------------- API


def _tempo_evidence(text: str, bpm: float | None) -> list[Evidence]:
    if bpm is None:
        return []
    return [Evidence("bpm", f"{bpm:g}", (_tempo_words(text) or f"{bpm:g}",), "stated tempo")]


def _tempo_words(text: str) -> str | None:
    for pattern in (_TEMPO_RANGE, *_TEMPO_PATTERNS):
        m = pattern.search(text)
        if m and _in_range(float(m.group(1))):
            return m.group(0).strip()
    return None


def _key_words(text: str) -> str | None:
    """The words that stated the key or mode, as written (for the explanation)."""
    for pattern in (_KEY_CONTEXT, _KEY_WITH_MODE, _KEY_AFTER_IN, _MODE_ONLY):
        m = pattern.search(text)
        if m:
            return m.group(0).strip()
    return None


def parse_prompt(text: str) -> PromptHints:
    """Everything `text` states or implies that a rule can read (see the module docstring)."""
    key, mode = _parse_key(text)
    bpm = _parse_tempo(text)
    roles = parse_roles(text)
    style, style_evidence = parse_style(text)
    tempo_word, tempo_evidence = parse_tempo_word(text) if bpm is None else (None, [])
    mood_mode, mood_evidence = parse_mood_mode(text)
    evidence: list[Evidence] = [*_tempo_evidence(text, bpm)]
    if key is not None:
        evidence.append(Evidence("key", key, (_key_words(text) or key,), "stated key"))
    if mode is not None:
        evidence.append(Evidence("mode", mode, (_key_words(text) or mode,), "stated mode"))
    return PromptHints(
        bpm=bpm,
        key=key,
        mode=mode,
        excluded=roles.excluded,
        style=style,
        included=roles.included,
        only=roles.only,
        instruments=dict(roles.instruments),
        conflicts=roles.conflicts,
        tempo_word=tempo_word,
        mood_mode=mood_mode,
        evidence=(*evidence, *roles.evidence, *style_evidence, *tempo_evidence, *mood_evidence),
    )
