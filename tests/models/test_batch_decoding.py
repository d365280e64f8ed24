"""Batched candidate decoding and the lean Mistral forward it runs on."""

from __future__ import annotations

import pytest
import torch

from producer.faust.validate import validate
from producer.faust.writer import writer_ebnf
from producer.models.constrained import (
    GrammarBudgetError,
    GrammarConstraint,
    _forward,
    _forward_all,
    constrained_generate,
)
from producer.models.constrained_batch import constrained_generate_batch
from producer.models.fast_mistral import MistralStepper
from tests.tiny_models import tiny_mistral

ROLES = ("drums", "bass", "melody")
pytestmark = pytest.mark.usefixtures("one_torch_thread")
SR = 44100


@pytest.fixture(scope="module")
def constraint(tok, model):
    return GrammarConstraint(tok, vocab_size=model.config.vocab_size, ebnf=writer_ebnf(ROLES, SR))


@pytest.fixture(scope="module")
def prefix(model):
    torch.manual_seed(3)
    return torch.randn(1, 5, model.config.hidden_size) * 0.5


@torch.no_grad()
def test_stepper_logits_equal_the_hugging_face_forward(model):
    torch.manual_seed(0)
    embeds = torch.randn(3, 7, model.config.hidden_size)
    tokens = torch.randint(0, model.config.vocab_size, (3, 20))
    stepper = MistralStepper(model)
    ours = [stepper.prefill(embeds)]
    ours += [stepper.step(tokens[:, t]) for t in range(tokens.shape[1])]
    logits, past = _forward_all(model, None, inputs_embeds=embeds)
    theirs = [logits]
    for t in range(tokens.shape[1]):
        logits, past = _forward_all(model, past, input_ids=tokens[:, t : t + 1])
        theirs.append(logits)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert stepper.length == 7 + 20


def test_stepper_refuses_what_it_cannot_compute_exactly(tok, model):
    from transformers import GPT2Config, GPT2LMHeadModel, MistralConfig, MistralForCausalLM

    assert MistralStepper.supports(model, 4096)
    windowed = MistralForCausalLM(
        MistralConfig(
            vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
            num_attention_heads=4, num_key_value_heads=2, head_dim=8, sliding_window=16,
        )
    )  # fmt: skip
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_embd=32, n_layer=1, n_head=2))
    for other in (windowed, gpt2):
        assert not MistralStepper.supports(other)
        with pytest.raises(ValueError):
            MistralStepper(other)
    stepper = MistralStepper(model, max_positions=8)
    stepper.prefill(torch.zeros(1, 8, model.config.hidden_size))
    with pytest.raises(ValueError, match="longer"):
        stepper.step(torch.tensor([1]))


def test_batch_equals_one_at_a_time_for_the_same_seeds(tok, model, constraint, prefix):
    batch = constrained_generate_batch(
        model, tok, 3, max_new_tokens=2000, temperature=0.8, top_p=0.95,
        seeds=[11, 12, 13], prefix_embeds=prefix, constraint=constraint,
    )  # fmt: skip
    single = [
        constrained_generate(
            model,
            tok,
            [tok.bos_token_id],
            max_new_tokens=2000,
            temperature=0.8,
            top_p=0.95,
            seed=s,
            prefix_embeds=prefix,
            constraint=constraint,
        )
        for s in (11, 12, 13)
    ]
    assert batch == single
    assert len(set(batch)) > 1  # different seeds, different scripts
    for text in batch:
        validate(text, roles=list(ROLES), sample_rate=SR)


def test_hugging_face_path_is_used_for_other_models_and_still_parses(tok, constraint, monkeypatch):
    model = tiny_mistral(tok, seed=1)
    monkeypatch.setattr(MistralStepper, "supports", staticmethod(lambda m, n=0: False))
    texts = constrained_generate_batch(
        model, tok, 2, max_new_tokens=2000, seeds=[0, 1], constraint=constraint
    )
    for text in texts:
        validate(text, roles=list(ROLES), sample_rate=SR)
    # The same samples as the lean path gives: the two forwards agree.
    monkeypatch.undo()
    assert (
        constrained_generate_batch(
            model, tok, 2, max_new_tokens=2000, seeds=[0, 1], constraint=constraint
        )
        == texts
    )


def test_budget_exhaustion_is_a_domain_error(tok, model, constraint):
    with pytest.raises(GrammarBudgetError, match="unfinished"):
        constrained_generate_batch(model, tok, 2, max_new_tokens=5, constraint=constraint)
    with pytest.raises(ValueError):
        constrained_generate_batch(model, tok, 0, max_new_tokens=5, constraint=constraint)


def test_single_forward_helper_agrees_with_the_batched_one(model):
    ids = torch.tensor([[1, 2, 3]])
    single, _ = _forward(model, None, input_ids=ids)
    batched, _ = _forward_all(model, None, input_ids=ids)
    torch.testing.assert_close(single, batched[0])
