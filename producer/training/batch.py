"""Training examples as flat rows, and rows as tensor batches.

A *row* is one song's training example as plain numpy arrays and strings, which is what the
Parquet shards of the distributed preprocessing hold (`ray_jobs/preprocess.py`) and what the
in-process dataset yields. `collate` turns a list of rows into the batch dict that
`UnifiedProducerModel.forward` consumes:

    prompts        list[str]        the prompts (encoded inside the model)
    audio_feat     (B, F)           the song's mix features, used as the planner's input song
    has_audio      (B,)             1 where the planner sees that input song this step
    plan_roles     (B, 6)           multi-hot roles in ROLES order
    plan_style / plan_mode / plan_key   (B,) class indices, -1 unknown
    plan_bpm       (B,)             tempo, NaN unknown
    stem_feat      (B, 6, F)        per-role stem features, zeros where absent
    stem_mask      (B, 6)
    quality_feat   (B, Q, F)        the mix and its degraded copies
    quality_ref    (B, F)           features of the stems' reference mix (zeros without stems)
    has_ref        (B,)             1 where the quality head compares with that reference
    quality_stems  (B, Q, 12)       each mix's stem balance (`mixing.stem_balance`; zeros where
                                    unmeasured or where the reference is dropped)
    quality_score  (B, Q)           their target scores
    quality_mask   (B, Q)
    faust_ids      (B, L)           <bos> script <eos>, right-padded
    faust_mask     (B, L)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from producer.mixing.stem_balance import STEM_BALANCE_DIM
from producer.models.decoder import encode_scripts
from producer.modules.features import AUDIO_FEATURE_DIM
from producer.plan import ROLES

Row = dict[str, Any]


def example_to_row(example) -> Row:
    """A `producer.data.dataset.SongExample` as a flat row."""
    p = example.planning
    stem_feat = np.zeros((len(ROLES), AUDIO_FEATURE_DIM), np.float32)
    stem_mask = np.zeros(len(ROLES), np.float32)
    for role, feat in example.stem_features.items():
        stem_feat[ROLES.index(role)] = feat
        stem_mask[ROLES.index(role)] = 1.0
    qf = (
        np.stack([f for f, _, _ in example.quality]).astype(np.float32)
        if example.quality
        else (np.zeros((0, AUDIO_FEATURE_DIM), np.float32))
    )
    return {
        "path": str(example.path),
        "prompt": example.prompt,
        "audio_feat": np.asarray(example.mix_features, np.float32),
        "plan_roles": np.asarray(p.roles, np.float32),
        "plan_style": int(p.style),
        "plan_mode": int(p.mode),
        "plan_key": int(p.key),
        "plan_bpm": float(p.bpm),
        "stem_feat": stem_feat,
        "stem_mask": stem_mask,
        "quality_feat": qf,
        "quality_score": np.asarray([s for _, s, _ in example.quality], np.float32),
        "quality_stems": (
            np.stack([b for _, _, b in example.quality]).astype(np.float32)
            if example.quality
            else np.zeros((0, STEM_BALANCE_DIM), np.float32)
        ),
        "quality_ref": (
            np.asarray(example.reference_features, np.float32)
            if example.reference_features is not None
            else np.zeros(AUDIO_FEATURE_DIM, np.float32)
        ),
        "has_ref": float(example.reference_features is not None),
        "faust_script": example.faust_script or "",
        "roles": list(example.roles),
    }


def collate(
    rows: Sequence[Row],
    tokenizer,
    *,
    audio_prob: float = 0.0,
    ref_drop: float = 0.0,
    rng: np.random.Generator | None = None,
    max_tokens: int | None = None,
    device=None,
) -> dict[str, Any]:
    """Stack rows into a batch. With `audio_prob` > 0 the planner sees each song's own mix as
    its input song with that probability, so it learns to plan both with and without one; with
    `ref_drop` > 0 the quality head loses its reference mix with that probability, so it learns
    to score a mix on its own too (`assess_quality` without stems)."""
    rng = rng or np.random.default_rng(0)
    b = len(rows)

    def stack(key, dtype=torch.float32):
        return torch.as_tensor(np.stack([np.asarray(r[key]) for r in rows]), dtype=dtype)

    q = max(len(r["quality_score"]) for r in rows)
    f = np.asarray(rows[0]["audio_feat"]).shape[-1]
    qf = torch.zeros(b, max(q, 1), f)
    qs = torch.zeros(b, max(q, 1))
    qm = torch.zeros(b, max(q, 1))
    qb = torch.zeros(b, max(q, 1), STEM_BALANCE_DIM)
    for k, r in enumerate(rows):
        n = len(r["quality_score"])
        if n:
            qf[k, :n] = torch.as_tensor(np.asarray(r["quality_feat"]).reshape(n, f))
            qs[k, :n] = torch.as_tensor(r["quality_score"])
            qm[k, :n] = 1.0
            # Rows from before the stem balance existed (older shards) have none: unmeasured.
            if r.get("quality_stems") is not None and np.size(r["quality_stems"]):
                qb[k, :n] = torch.as_tensor(
                    np.asarray(r["quality_stems"]).reshape(n, STEM_BALANCE_DIM)
                )
    has_audio = torch.as_tensor((rng.random(b) < audio_prob).astype(np.float32))
    # A dropped reference drops the stem balance with it: both come from the stems, and a mix
    # scored alone (`assess_quality` without stems) has neither.
    has_ref = stack("has_ref") * torch.as_tensor((rng.random(b) >= ref_drop).astype("f4"))
    qb = qb * has_ref.view(b, 1, 1)
    ids, mask = encode_scripts(tokenizer, [r["faust_script"] for r in rows], max_tokens=max_tokens)
    batch = {
        "prompts": [r["prompt"] for r in rows],
        "audio_feat": stack("audio_feat"),
        "has_audio": has_audio,
        "plan_roles": stack("plan_roles"),
        "plan_style": stack("plan_style", torch.long),
        "plan_mode": stack("plan_mode", torch.long),
        "plan_key": stack("plan_key", torch.long),
        "plan_bpm": stack("plan_bpm"),
        "stem_feat": torch.as_tensor(
            np.stack([np.asarray(r["stem_feat"]).reshape(len(ROLES), f) for r in rows]),
            dtype=torch.float32,
        ),
        "stem_mask": stack("stem_mask"),
        "quality_feat": qf,
        "quality_score": qs,
        "quality_stems": qb,
        "quality_mask": qm,
        "quality_ref": stack("quality_ref"),
        "has_ref": has_ref,
        "faust_ids": ids,
        "faust_mask": mask,
    }
    return to_device(batch, device) if device is not None else batch


def to_device(batch: dict[str, Any], device) -> dict[str, Any]:
    """Move every tensor of a batch to `device` (lists of prompts stay as they are)."""
    return {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
