"""LoRA on the Faust decoder (`ray_jobs.lora`, used by the training job when `lora.enabled`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from producer.errors import ProducerError
from producer.training.batch import collate
from producer.training.step import train_step, trainable_parameters
from ray_jobs.config import LoraConfig
from ray_jobs.lora import add_lora, merge_lora

pytest.importorskip("peft")


@pytest.fixture
def model(one_torch_thread):
    from producer.models.config import preset
    from producer.models.unified import UnifiedProducerModel

    torch.manual_seed(0)
    return UnifiedProducerModel.from_config(preset("debug"))


def _rows(n: int = 3):
    from producer.modules.features import AUDIO_FEATURE_DIM
    from producer.plan import ROLES

    rng = np.random.default_rng(0)
    f = AUDIO_FEATURE_DIM
    return [
        {
            "prompt": "dark trap beat with heavy 808s",
            "audio_feat": rng.normal(size=f).astype("f4"),
            "plan_roles": np.ones(len(ROLES), "f4"),
            "plan_style": 1,
            "plan_mode": 0,
            "plan_key": 2,
            "plan_bpm": 140.0,
            "stem_feat": rng.normal(size=(len(ROLES), f)).astype("f4"),
            "stem_mask": np.ones(len(ROLES), "f4"),
            "quality_feat": rng.normal(size=(2, f)).astype("f4"),
            "quality_score": np.array([0.9, 0.4], "f4"),
            "quality_ref": rng.normal(size=f).astype("f4"),
            "has_ref": 1.0,
            "faust_script": 'import("stdfaust.lib");\nprocess = _, _;\n',
        }
        for _ in range(n)
    ]


def test_only_the_adapters_and_the_heads_train(model):
    base = {n: p.detach().clone() for n, p in model.decoder.named_parameters()}
    add_lora(model, LoraConfig(enabled=True, r=4, alpha=8, dropout=0.0))
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    decoder_trainable = [n for n in names if n.startswith("decoder.")]
    assert decoder_trainable and all("lora_" in n for n in decoder_trainable)
    assert any(n.startswith("planning_head.") for n in names)

    params = trainable_parameters(model)
    opt = torch.optim.AdamW(params, lr=1e-2)
    batch = collate(_rows(), model.tokenizer, max_tokens=64)
    for _ in range(2):
        losses = train_step(model, opt, batch)
    assert np.isfinite(losses["faust_loss"])
    # The decoder's own weights did not move; the adapters did (lora_B starts at zero).
    for name, p in model.decoder.base_model.model.named_parameters():
        if "lora_" in name:
            continue
        key = name.replace(".base_layer", "")
        torch.testing.assert_close(p, base[key], rtol=0, atol=0)
    lora_b = [p for n, p in model.decoder.named_parameters() if "lora_B" in n]
    assert any(float(p.detach().abs().max()) > 0 for p in lora_b)


def test_merged_model_gives_the_same_logits_and_saves_without_peft(model, tmp_path):
    from producer.models.unified import UnifiedProducerModel

    add_lora(model, LoraConfig(enabled=True, r=4, alpha=8, dropout=0.0))
    with torch.no_grad():  # move the adapters off zero so merging has something to fold in
        for n, p in model.decoder.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.05)
    model.eval()
    ids = torch.tensor([[model.tokenizer.bos_token_id, 5, 9, 11]])
    with torch.no_grad():
        before = model.decoder(input_ids=ids).logits
    merge_lora(model)
    assert type(model.decoder).__name__ == "MistralForCausalLM"
    with torch.no_grad():
        after = model.decoder(input_ids=ids).logits
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-5)

    model.save_pretrained(tmp_path / "export")
    again = UnifiedProducerModel.from_pretrained(tmp_path / "export").eval()
    with torch.no_grad():
        torch.testing.assert_close(again.decoder(input_ids=ids).logits, after)


def test_unknown_target_modules_are_one_line(model):
    with pytest.raises(ProducerError, match=r"train\.lora"):
        add_lora(model, LoraConfig(enabled=True, target_modules=["no_such_proj"]))
