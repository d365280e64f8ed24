"""The committed language reference is generated from the grammar and stays in sync."""

from pathlib import Path

from producer.faust.allowlist import FUNCTIONS
from producer.faust.docs import mix_language_markdown
from producer.faust.grammar import EBNF

DOC = Path(__file__).parents[2] / "docs" / "mix-language.md"


def test_committed_reference_is_up_to_date():
    # Regenerate with: uv run python -m producer.faust.docs > docs/mix-language.md
    assert DOC.read_text() == mix_language_markdown()


def test_reference_lists_every_function_and_embeds_the_grammar():
    text = mix_language_markdown()
    assert all(f"`{name}`" in text for name in FUNCTIONS)
    assert EBNF in text
