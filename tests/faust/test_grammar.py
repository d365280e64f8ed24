"""The one grammar: xgrammar accepts it, the parser is generated from it, it matches the allowlist."""

from __future__ import annotations

import random

import pytest
import xgrammar as xgr

from producer.faust.allowlist import FUNCTIONS
from producer.faust.grammar import EBNF, rule_name, to_lark
from producer.faust.sampling import random_script


@pytest.fixture(scope="module")
def xgrammar_grammar() -> xgr.Grammar:
    return xgr.Grammar.from_ebnf(EBNF, root_rule_name="root")


def _accepts(grammar: xgr.Grammar, text: str) -> bool:
    return xgr.testing._is_grammar_accept_string(grammar, text)


def test_xgrammar_compiles_the_grammar(xgrammar_grammar):
    assert "fn_fi_highpass" in str(xgrammar_grammar)


def test_xgrammar_accepts_the_seed_script(xgrammar_grammar, seed_script):
    # The seed script is in canonical form, so the decoder's grammar admits it verbatim.
    assert _accepts(xgrammar_grammar, seed_script)


def test_xgrammar_accepts_canonical_drawn_scripts(xgrammar_grammar):
    rng = random.Random(7)
    for _ in range(25):
        script = random_script(
            rng, ["drums", "bass", "melody"][: rng.randint(1, 3)], rng.random() < 0.5
        )
        assert _accepts(xgrammar_grammar, script.to_faust()), script.to_faust()


@pytest.mark.parametrize(
    "text",
    [
        'import("stdfaust.lib");\n\nprocess = ffunction(int rand(), <stdlib.h>, "");\n',
        'import("evil.lib");\n\nprocess = _;\n',
        'import("stdfaust.lib");\n\nprocess = _ ~ _;\n',
        'import("stdfaust.lib");\n\nprocess = fi.highpass(2);\n',
        'import("stdfaust.lib");\n\nprocess = fi.highpass(2.5, 100);\n',  # order is an integer
    ],
)
def test_xgrammar_rejects_text_outside_the_language(xgrammar_grammar, text):
    assert not _accepts(xgrammar_grammar, text)


def test_every_allowlisted_function_has_a_rule_with_its_arity():
    for name, fn in FUNCTIONS.items():
        line = next(ln for ln in EBNF.splitlines() if ln.startswith(rule_name(name) + " ::="))
        assert f'"{name}"' in line
        assert line.count("NUMBER") + line.count("INT") == len(fn.args), line
    call_rule = next(ln for ln in EBNF.splitlines() if ln.startswith("call ::="))
    assert call_rule.count("fn_") == len(FUNCTIONS)


def test_lark_translation_keeps_rules_and_drops_canonical_spacing():
    lark_text = to_lark()
    assert "root :" in lark_text and "::=" not in lark_text
    assert '" : "' not in lark_text and '":"' in lark_text
    assert "%ignore" in lark_text
