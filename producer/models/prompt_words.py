"""The words of a prompt, and what a rule found in them.

Shared by the prompt rules (`prompt_roles`, `prompt_style`, `prompt_rules`): one tokenizer, one
typo-tolerant lookup, and `Evidence`, the record of which words decided a field (shown by
`producer plan --explain` and carried in the plan's `reasons`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Evidence", "Token", "fuzzy_lookup", "phrase_at", "tokenize"]


@dataclass(frozen=True)
class Evidence:
    """Words of the prompt that decided a field, and the rule that read them."""

    field: str  # "roles", "style", "mode", "bpm", "key", …
    value: str  # what the rule concluded ("bass", "trap", "minor", "140", "exclude drums")
    words: tuple[str, ...]  # the words as written in the prompt
    rule: str  # a short name of the rule: "named stem", "exclusion", "scene", "mood", …


@dataclass(frozen=True)
class Token:
    """One word (or punctuation mark) of the prompt: its normal form and where it was."""

    norm: str  # lower case, curly quotes straightened
    text: str  # as written
    start: int


# Words: letters/digits with inner hyphens or apostrophes ("hi-hats", "don't", "sp-1200"), a "#"
# for keys, or one punctuation mark that ends or joins a phrase.
_TOKEN = re.compile(r"[a-z0-9#]+(?:['’][a-z]+)?(?:[-.][a-z0-9]+)*|[,/&+.;:!?()—–]", re.I)


def tokenize(text: str) -> list[Token]:
    """The prompt's tokens; "w/o" reads as "without", "n" / "'n'" between words as "and"."""
    text = re.sub(r"\bw/o\b", "without", text, flags=re.I)
    text = re.sub(r"(?<=\w)\s+(?:'n'|’n’|n|'n|&amp;)\s+(?=\w)", " and ", text)
    out = []
    for m in _TOKEN.finditer(text):
        norm = m.group(0).lower().replace("’", "'")
        norm = fuzzy_lookup(norm, _FUNCTION_WORDS, never=_NOT_FUNCTION_TYPOS) or norm
        out.append(Token(norm, m.group(0), m.start()))
    return out


# Words the rules hinge on, read through a typo ("withuot", "ohnly"…): the long ones only (see
# fuzzy_lookup), so "just"/"only" typos of 4 letters need a swap ("jsut", "olny").
_FUNCTION_WORDS = ("without", "nothing", "except", "instrumental", "just", "only", "minus")
_NOT_FUNCTION_TYPOS = frozenset({"within", "notion", "expect", "accept", "jets", "minis"})


def phrase_at(
    tokens: list[Token], i: int, lexicon: Mapping[tuple[str, ...], object], longest: int = 3
) -> tuple[tuple[str, ...], int] | None:
    """The longest lexicon phrase (a tuple of normal forms) at `tokens[i]`, and its length."""
    for n in range(min(longest, len(tokens) - i), 0, -1):
        key = tuple(t.norm for t in tokens[i : i + n])
        if key in lexicon:
            return key, n
    return None


def _edits1(a: str, b: str) -> bool:
    """Whether b is a one-edit typo of a: one letter dropped, added, changed or two swapped."""
    if a == b:
        return False
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [k for k in range(la) if a[k] != b[k]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and (a[diff[1]] == b[diff[0]])
        )
    short, long_ = (a, b) if la < lb else (b, a)
    return any(long_[:k] + long_[k + 1 :] == short for k in range(len(long_)))


def fuzzy_lookup(word: str, vocabulary: Iterable[str], *, never: frozenset[str] = frozenset()):
    """The vocabulary word that `word` is a typo of, or None.

    A word of 4 or 5 letters matches only with two neighbouring letters swapped ("tarp" for
    "trap", "drmus" for "drums"): a short word has too many real neighbours one letter away
    ("looks" and "hooks", "belts" and "bells"). From 6 letters on any single edit counts
    ("melodyy", "chrods", "drumms"). Real words a typo's distance away go in `never`; the match
    must be unique.
    """
    if word in never or not word.isalpha() or len(word) < 4:
        return None
    found = set()
    for v in vocabulary:
        if not v.isalpha() or len(v) < 4 or not _edits1(v, word):
            continue
        if (len(word) >= 6 and len(v) >= 5) or (len(word) == len(v) and sorted(word) == sorted(v)):
            found.add(v)
    return found.pop() if len(found) == 1 else None
