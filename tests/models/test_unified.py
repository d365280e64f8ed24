"""UnifiedProducerModel: causality, checkpoints, explicit prompts, hub-style local models."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from producer.errors import ModelNotFoundError, ProducerError
from producer.faust.engine import program_io
from producer.faust.validate import validate
from producer.models.unified import UnifiedProducerModel
from tests.tiny_models import tiny_bert
from tests.training.conftest import CORPUS_SR, debug_model


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model():
    return debug_model()


def _stems(roles=("drums", "bass"), seconds=1.0, sr=CORPUS_SR):
    rng = np.random.default_rng(0)
    return {
        r: (0.1 * rng.standard_normal((2, int(seconds * sr)))).astype(np.float32) for r in roles
    }


def test_decoder_is_causal(model):
    """The logits at position t depend on inputs up to t only: gradients to later ones are 0."""
    dec = model.decoder
    hidden = dec.get_input_embeddings().weight.shape[1]
    embeds = torch.randn(1, 12, hidden, requires_grad=True)
    logits = dec(inputs_embeds=embeds).logits
    for t in (0, 5, 11):
        (grad,) = torch.autograd.grad(logits[0, t].sum(), embeds, retain_graph=True)
        per_position = grad[0].abs().sum(-1)
        assert torch.all(per_position[t + 1 :] == 0), t
        assert torch.all(per_position[: t + 1] > 0), t


@pytest.mark.parametrize(
    ("prompt", "bpm", "key", "mode", "absent"),
    [
        ("dark trap beat at 97 bpm in Eb major, no drums", 97, "D#", "major", {"drums"}),
        ("lofi chill beat in F minor without 808", None, "F", "minor", {"bass"}),
        ("g-funk bounce, tempo 92, drumless, no melody", 92, None, None, {"drums", "melody"}),
        ("boom bap 88bpm key of C#m, no chords", 88, "C#", "minor", {"harmony"}),
    ],
)
def test_explicit_prompt_words_are_honoured(model, prompt, bpm, key, mode, absent):
    """Whatever the (here random) weights predict, written tempo/key/exclusions win."""
    plan = model.plan_production(prompt)
    if bpm is not None:
        assert plan.bpm == bpm
    if key is not None:
        assert (plan.key, plan.mode) == (key, mode)
    assert not absent & set(plan.roles)
    assert plan.stems  # something is still made


def test_excluding_everything_is_a_clear_error(model):
    with pytest.raises(ProducerError, match="refuses every stem"):
        model.plan_production("no drums, no bass, no melody, no chords")


def test_candidates_all_validate_and_compile(model):
    stems = _stems(("drums", "bass", "harmony"))
    out = model.write_faust_candidates(stems, "trap", candidates=3, seed=1)
    assert len(out) == 3
    assert [s for _, s in out] == sorted((s for _, s in out), reverse=True)
    for text, logprob in out:
        assert logprob < 0
        v = validate(text, roles=list(stems), sample_rate=CORPUS_SR)
        assert v.stem_roles == ("drums", "bass", "harmony")
        assert program_io(v.code, CORPUS_SR) == (3, 2)


def test_save_then_load_gives_identical_outputs(model, tmp_path):
    stems = _stems()
    prompt = "moody drill beat"
    before_plan = model.plan_production(prompt)
    before_script = model.generate_faust_script(stems, prompt, seed=4)
    mix = stems["drums"] + stems["bass"]
    before_score = model.quality_score(mix, CORPUS_SR, stems, prompt)

    model.save_pretrained(tmp_path / "ckpt")
    assert {p.name for p in (tmp_path / "ckpt").iterdir()} == {
        "config.json",
        "model.safetensors",
        "decoder",
    }
    loaded = UnifiedProducerModel.from_pretrained(tmp_path / "ckpt")
    assert loaded.plan_production(prompt) == before_plan
    assert loaded.generate_faust_script(stems, prompt, seed=4) == before_script
    assert loaded.quality_score(mix, CORPUS_SR, stems, prompt) == pytest.approx(before_score)
    for (k, a), b in zip(model.state_dict().items(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b), k


def test_assess_quality_adds_a_learned_score(model):
    stems = _stems()
    report = model.assess_quality(stems["drums"] + stems["bass"], CORPUS_SR)
    assert 0.0 <= report.score <= 1.0
    assert report.integrated_lufs < 0


def test_unknown_models_give_one_line(tmp_path):
    with pytest.raises(ModelNotFoundError) as err:
        UnifiedProducerModel(text_model_name="no-such-org/no-such-bert")
    assert "\n" not in str(err.value) and "no-such-org/no-such-bert" in str(err.value)
    with pytest.raises(ModelNotFoundError) as err:
        UnifiedProducerModel(decoder_model_name=str(tmp_path / "missing-lm"))
    assert "\n" not in str(err.value)
    with pytest.raises(ModelNotFoundError, match="no producer checkpoint"):
        UnifiedProducerModel.from_pretrained(tmp_path / "nothing")


def _tiny_mistral_bpe(path):
    """A hub-style causal LM with a byte-level BPE tokenizer (not the project's own)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import MistralConfig, MistralForCausalLM, PreTrainedTokenizerFast

    from producer.faust.writer import random_script

    rng = np.random.default_rng(0)
    corpus = [random_script(("drums", "bass"), rng) for _ in range(30)]
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    core.train_from_iterator(corpus, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>")
    cfg = MistralConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    MistralForCausalLM(cfg).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def test_hub_style_local_checkpoints_load_by_path(tmp_path):
    """A tiny BERT and a tiny Mistral with its own BPE tokenizer, saved like hub models."""
    bert = tiny_bert(tmp_path / "bert")
    lm = _tiny_mistral_bpe(tmp_path / "mistral")
    torch.manual_seed(0)
    from producer.models.config import preset

    config = preset("debug")
    config.sample_rate = CORPUS_SR
    config.max_script_tokens = 2000
    m = UnifiedProducerModel("cpu", str(bert), str(lm), config=config)
    assert m.text_encoder.dim == 32
    plan = m.plan_production("dark trap beat at 140 bpm")
    assert plan.bpm == 140
    stems = _stems(("drums", "bass"))
    text = m.generate_faust_script(stems, "dark trap", seed=0)
    validate(text, roles=["drums", "bass"], sample_rate=CORPUS_SR)
    m.save_pretrained(tmp_path / "ckpt")
    again = UnifiedProducerModel.from_pretrained(tmp_path / "ckpt")
    assert again.generate_faust_script(stems, "dark trap", seed=0) == text
