"""The mix-language tokenizer and grammar-constrained decoding, on a tiny random model (CPU)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch
from transformers import PreTrainedTokenizerFast

from producer.errors import FaustValidationError, ProducerError
from producer.faust.parser import parse
from producer.faust.sampling import random_script
from producer.models.constrained import (
    GrammarBudgetError,
    GrammarConstraint,
    constrained_generate,
)

SEED_SCRIPT = Path(__file__).parents[1] / "fixtures" / "seed_mix.dsp"
ROLE_SETS = (["drums"], ["drums", "bass"], ["drums", "bass", "melody", "vocals"], ["other"])
# A random tiny model wanders; this budget is far above what the seeds below need.
BUDGET = 2000


@pytest.fixture(scope="module")
def constraint(tok, model):
    return GrammarConstraint(tok, vocab_size=model.config.vocab_size)


@pytest.fixture(scope="module")
def samples(tok, model, constraint):
    """One constrained sample per seed, shared by the tests that inspect them."""
    return {
        seed: constrained_generate(
            model, tok, max_new_tokens=BUDGET, seed=seed, constraint=constraint
        )
        for seed in range(5)
    }


def _scripts(n: int) -> list[str]:
    rng = random.Random(1234)
    return [
        random_script(
            rng, ROLE_SETS[i % len(ROLE_SETS)], stereo=i % 2 == 0, with_master=i % 3 != 0
        ).to_faust()
        for i in range(n)
    ]


def test_tokenizer_round_trips_canonical_scripts(tok):
    for text in [*_scripts(50), SEED_SCRIPT.read_text()]:
        ids = tok.encode(text)
        assert tok.unk_token_id not in ids
        assert tok.decode(ids) == text


def test_grammar_literals_are_single_tokens(tok):
    for literal in ["fi.highpass", "co.compressor_stereo", 'import("stdfaust.lib");', " <: "]:
        assert len(tok.encode(literal)) == 1, literal
    # Greedy longest match: a whole role name beats its letters.
    assert tok.convert_ids_to_tokens(tok.encode("drums_process = _;")) == [
        "drums_process",
        " = ",
        "_",
        ";",
    ]


def test_tokenizer_saves_and_loads(tok, tmp_path):
    tok.save_pretrained(tmp_path)
    assert not list(tmp_path.glob("*.pkl")) and not list(tmp_path.glob("*.bin"))
    loaded = PreTrainedTokenizerFast.from_pretrained(tmp_path)
    text = SEED_SCRIPT.read_text()
    assert loaded.encode(text) == tok.encode(text)
    assert loaded.decode(loaded.encode(text)) == text
    assert (loaded.bos_token_id, loaded.eos_token_id) == (tok.bos_token_id, tok.eos_token_id)


def test_constrained_samples_parse(samples):
    for seed, text in samples.items():
        script = parse(text)  # raises on any syntax error
        assert script.definitions is not None, seed
        assert text.startswith('import("stdfaust.lib");\n\n') and text.endswith(";\n")


def test_same_seed_same_text(tok, model, constraint, samples):
    again = constrained_generate(model, tok, max_new_tokens=BUDGET, seed=1, constraint=constraint)
    assert again == samples[1]
    assert len(set(samples.values())) > 1


def test_unconstrained_samples_are_not_scripts(tok, model):
    bad = 0
    for seed in range(3):
        torch.manual_seed(seed)
        out = model.generate(
            torch.tensor([[tok.bos_token_id]]),
            do_sample=True,
            max_new_tokens=80,
            pad_token_id=tok.pad_token_id,
        )
        text = tok.decode(out[0, 1:], skip_special_tokens=True)
        try:
            parse(text)
        except FaustValidationError:
            bad += 1
    assert bad == 3


def test_kv_cache_matches_recompute(tok, model, constraint):
    results = []
    for use_cache in (True, False):
        try:
            results.append(
                constrained_generate(
                    model,
                    tok,
                    max_new_tokens=25,
                    temperature=0,
                    constraint=constraint,
                    use_cache=use_cache,
                )
            )
        except GrammarBudgetError as err:
            results.append(err.partial)
    assert results[0] == results[1]
    assert results[0].startswith('import("stdfaust.lib");')


def test_prefix_embeds_condition_generation(tok, model, constraint):
    prefix = torch.randn(1, 3, model.config.hidden_size, generator=torch.Generator().manual_seed(0))
    texts = []
    for use_cache in (True, False):
        try:
            texts.append(
                constrained_generate(
                    model,
                    tok,
                    [tok.bos_token_id],
                    max_new_tokens=20,
                    temperature=0,
                    prefix_embeds=prefix,
                    constraint=constraint,
                    use_cache=use_cache,
                )
            )
        except GrammarBudgetError as err:
            texts.append(err.partial)
    assert texts[0] == texts[1]


def test_budget_exhaustion_is_a_domain_error(tok, model, constraint):
    with pytest.raises(GrammarBudgetError) as info:
        constrained_generate(model, tok, max_new_tokens=3, seed=0, constraint=constraint)
    assert isinstance(info.value, ProducerError)
    assert "3 tokens" in str(info.value)


def test_top_p_and_temperature_still_parse(tok, model, constraint):
    text = constrained_generate(
        model, tok, max_new_tokens=BUDGET, seed=7, temperature=0.8, top_p=0.9, constraint=constraint
    )
    parse(text)


def test_constraint_defaults_from_model(tok, model):
    # No explicit constraint: built (and cached) from the model's output width.
    text = constrained_generate(model, tok, max_new_tokens=BUDGET, seed=0)
    parse(text)
