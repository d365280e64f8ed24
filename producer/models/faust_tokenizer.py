"""A small tokenizer for the Faust mix language.

The Faust writer only ever emits mix scripts, so a general-purpose BPE vocabulary would waste
most of its tokens. This vocabulary has one token per literal of the grammar (function names,
operators with their canonical spacing, the header line, role names), plus every printable ASCII
character, so any text tokenizes losslessly: literals where they fit, single characters for
numbers, names and anything else.

Tokenization is greedy longest-match: a regex `Split` pre-tokenizer alternates the literals
longest-first (a regex alternation takes the first alternative that matches, so longest-first
means longest match), then one character. Every piece is then a whole entry of a `WordLevel`
vocabulary. The `Fuse` decoder concatenates pieces with no separator, so spaces and newlines
come back exactly as they went in.
"""

from __future__ import annotations

import re
import string

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from producer.faust.grammar import EBNF
from producer.plan import ROLES

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
#: Special tokens, first in the vocabulary (ids 0..3) in this order.
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK)

# A quoted literal of the EBNF, with xgrammar's escapes (\" \\ \n).
_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPES = {"\\n": "\n", "\\t": "\t", '\\"': '"', "\\\\": "\\"}

# Multi-character pieces that are not literals of the grammar but recur in every script: whole
# lines and names. They only shorten sequences; correctness never depends on them.
_EXTRA_PIECES = (
    'import("stdfaust.lib");',
    "_process",
    "master",
    "master_process",
    "stdfaust.lib",
)


def grammar_literals(ebnf: str = EBNF) -> list[str]:
    """Every quoted literal of the grammar, unescaped, in order of first appearance."""
    seen: dict[str, None] = {}
    for m in _LITERAL.finditer(ebnf):
        text = re.sub(r"\\.", lambda e: _ESCAPES.get(e.group(), e.group()[1]), m.group(1))
        if text:
            seen[text] = None
    return list(seen)


def vocabulary() -> list[str]:
    """The token strings, id order: specials, multi-character pieces, then single characters."""
    pieces: dict[str, None] = {}
    for text in grammar_literals() + list(_EXTRA_PIECES):
        pieces[text] = None
    for role in ROLES:
        pieces[role] = None
        pieces[f"{role}_process"] = None
    multi = [p for p in pieces if len(p) > 1]
    # Every printable ASCII character except the form feed / vertical tab oddities, plus tab and
    # newline, so no text of the language (or near it) ever needs <unk>.
    chars = [c for c in string.printable if c not in "\x0b\x0c\r"]
    singles = [c for c in dict.fromkeys(chars + [p for p in pieces if len(p) == 1])]
    return list(SPECIAL_TOKENS) + multi + [c for c in singles if c not in multi]


def _split_pattern(vocab: list[str]) -> str:
    """Regex that matches the longest vocabulary piece at a position, else one character."""
    multi = sorted((v for v in vocab[len(SPECIAL_TOKENS) :] if len(v) > 1), key=len, reverse=True)
    return "|".join(re.escape(p) for p in multi) + r"|[\s\S]"


def build_faust_tokenizer() -> PreTrainedTokenizerFast:
    """The mix-language tokenizer, built in memory (no downloads), ready for `save_pretrained`.

    `encode` adds no special tokens (the text round-trips exactly); callers put `<bos>` in front
    of a prompt themselves and the decoder ends a script with `<eos>`.
    """
    vocab = vocabulary()
    ids = {tok: i for i, tok in enumerate(vocab)}
    core = Tokenizer(models.WordLevel(vocab=ids, unk_token=UNK))
    # "isolated": every match is its own piece; the pattern matches any character, so the
    # pieces cover the text with nothing dropped.
    core.pre_tokenizer = pre_tokenizers.Split(Regex(_split_pattern(vocab)), behavior="isolated")
    core.decoder = decoders.Fuse()
    core.add_special_tokens(list(SPECIAL_TOKENS))
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        bos_token=BOS,
        eos_token=EOS,
        unk_token=UNK,
        clean_up_tokenization_spaces=False,
        model_max_length=8192,
    )
