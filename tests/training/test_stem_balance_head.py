"""The quality head learns from the stems' balance where the master's features cannot tell."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from producer.mixing.stem_balance import STEM_BALANCE_DIM, stem_balance_vector
from producer.models.config import UnifiedConfig
from producer.modules.features import AUDIO_FEATURE_DIM
from producer.plan import ROLES
from producer.training.batch import collate
from producer.training.trainer import TrainConfig, UnifiedProducerTrainer
from tests.training.conftest import debug_model


def _spearman(a, b) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def _rows(n: int, seed: int) -> list[dict]:
    """Songs whose mixes all sound alike (same features); only the chords' balance differs,
    and the score falls as the chords leave -10..-4 LU, as the critic's balance check does."""
    rng = np.random.default_rng(seed)
    f = AUDIO_FEATURE_DIM
    feat = np.random.default_rng(0).normal(size=f).astype("f4")
    rows = []
    for _ in range(n):
        lu = rng.uniform(-25.0, 2.0, size=4)
        score = np.clip(1.0 - np.maximum(np.maximum(-10.0 - lu, lu + 4.0), 0.0) / 8.0, 0.0, 1.0)
        rows.append(
            {
                "prompt": "boom bap beat",
                "audio_feat": feat,
                "plan_roles": np.ones(len(ROLES), "f4"),
                "plan_style": 1,
                "plan_mode": 0,
                "plan_key": 2,
                "plan_bpm": 90.0,
                "stem_feat": np.zeros((len(ROLES), f), "f4"),
                "stem_mask": np.zeros(len(ROLES), "f4"),
                "quality_feat": np.stack([feat] * 4),
                "quality_score": score.astype("f4"),
                "quality_stems": np.stack(
                    [stem_balance_vector({"drums": -4.0, "harmony": float(v)}) for v in lu]
                ),
                "quality_ref": feat,
                "has_ref": 1.0,
                "faust_script": "",
            }
        )
    return rows


def test_the_head_learns_a_balance_range_it_can_only_read_from_the_stems():
    torch.manual_seed(0)
    model = debug_model()
    config = TrainConfig(
        epochs=25, batch_size=16, lr=1e-2, tasks=("quality",), ref_drop=0.0, progress=False
    )
    UnifiedProducerTrainer(model, config=config, rows=_rows(96, seed=1)).fit(25)
    model.eval()
    test = _rows(32, seed=2)
    batch = collate(test, model.tokenizer)
    with torch.no_grad():
        fused = model.fuse_prompt(model.encode_text(batch["prompts"]), None, None)
        got = model.quality_scores(
            batch["quality_feat"],
            batch["quality_ref"],
            batch["has_ref"],
            fused,
            stem_balance=batch["quality_stems"],
        )
    assert _spearman(got.reshape(-1).numpy(), batch["quality_score"].reshape(-1).numpy()) > 0.8


def test_collate_drops_the_balance_with_the_reference():
    rows = _rows(8, seed=3)
    kept = collate(rows, debug_model().tokenizer, ref_drop=0.0)
    assert kept["quality_stems"].shape == (8, 4, STEM_BALANCE_DIM)
    torch.testing.assert_close(kept["quality_stems"][0], torch.as_tensor(rows[0]["quality_stems"]))
    dropped = collate(rows, debug_model().tokenizer, ref_drop=1.0)
    assert not dropped["has_ref"].any() and not dropped["quality_stems"].any()


def test_rows_without_a_balance_collate_as_unmeasured():
    rows = _rows(2, seed=4)
    del rows[0]["quality_stems"]
    batch = collate(rows, debug_model().tokenizer)
    assert not batch["quality_stems"][0].any() and batch["quality_stems"][1].any()


def test_a_checkpoint_saved_before_the_balance_loads_without_it():
    old = UnifiedConfig().to_dict()
    del old["quality_stem_balance"]
    assert UnifiedConfig.from_dict(old).quality_stem_balance is False
    assert UnifiedConfig.from_dict(UnifiedConfig().to_dict()).quality_stem_balance is True


@pytest.mark.parametrize("stems", [True, False])
def test_the_score_reads_the_balance_only_with_the_stems(stems):
    model = debug_model()
    rng = np.random.default_rng(0)
    mix = (0.1 * rng.standard_normal((2, 32000))).astype(np.float32)
    parts = {"drums": mix, "harmony": mix} if stems else None
    a = model.quality_score(mix, 32000, parts, "boom bap", balance_lu={"harmony": -20.0})
    b = model.quality_score(mix, 32000, parts, "boom bap", balance_lu={"harmony": -2.0})
    assert (a != b) is stems
