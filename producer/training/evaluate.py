"""Evaluation of the unified model on training rows.

- planning F1: micro F1 of the generated roles of `plan_production(prompt)` against the song's
  roles (the full planner, explicit-word rules included, as a user gets it);
- style accuracy and tempo error (mean absolute bpm error) of the same plans;
- quality Spearman: rank correlation of the learned score with the target scores of the mixes
  (`quality_spearman_no_reference`: the same without the stems' reference mix)
  and their degraded copies, over the whole set;
- Faust token accuracy: greedy next-token accuracy on the ground-truth scripts (teacher forcing);
- compile rate: the share of scripts the model writes for the songs' stems (grammar-constrained,
  sampled) that validate and compile with libfaust.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from producer.errors import FaustCompileError, FaustValidationError, ProducerError
from producer.faust.engine import program_io
from producer.faust.validate import validate
from producer.models.losses import token_accuracy
from producer.models.planning import GENERATED_ROLES
from producer.plan import ROLES, STYLES
from producer.training.batch import Row, collate


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def planning_metrics(model, rows: Sequence[Row]) -> dict[str, float]:
    tp = fp = fn = 0
    style_ok = style_n = 0
    tempo_err: list[float] = []
    for r in rows:
        try:
            plan = model.plan_production(r["prompt"])
        except ProducerError:  # a refused request makes nothing: every true role is missed
            fn += int(sum(v > 0.5 for v in r["plan_roles"]))
            continue
        predicted = {s.role for s in plan.stems if s.source == "generate"}
        truth = {role for role, v in zip(ROLES, r["plan_roles"], strict=True) if v > 0.5}
        truth &= set(GENERATED_ROLES)
        tp += len(predicted & truth)
        fp += len(predicted - truth)
        fn += len(truth - predicted)
        if r["plan_style"] >= 0:
            style_n += 1
            style_ok += plan.style == STYLES[r["plan_style"]]
        if not np.isnan(r["plan_bpm"]):
            tempo_err.append(abs(plan.bpm - r["plan_bpm"]))
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    return {
        "planning_f1": f1,
        "style_accuracy": style_ok / style_n if style_n else float("nan"),
        "tempo_error_bpm": float(np.mean(tempo_err)) if tempo_err else float("nan"),
    }


@torch.no_grad()
def quality_and_token_metrics(model, rows: Sequence[Row], batch_size: int = 16) -> dict:
    model.eval()
    pred, pred_alone, target = [], [], []
    correct = total = 0
    for start in range(0, len(rows), batch_size):
        batch = collate(rows[start : start + batch_size], model.tokenizer, device=model.device)
        fused = model.fuse_prompt(model.encode_text(batch["prompts"]), None, None)
        stem_emb = model.encode_stems(batch["stem_feat"])
        scores = model.quality_scores(
            batch["quality_feat"],
            batch["quality_ref"],
            batch["has_ref"],
            fused,
            stem_balance=batch["quality_stems"],
        )
        alone = model.quality_scores(
            batch["quality_feat"], batch["quality_ref"], torch.zeros_like(batch["has_ref"]), fused
        )
        m = batch["quality_mask"].bool()
        pred.extend(scores[m].float().cpu().tolist())
        pred_alone.extend(alone[m].float().cpu().tolist())
        target.extend(batch["quality_score"][m].cpu().tolist())
        if bool(batch["faust_mask"].any()):
            logits = model.faust_logits(
                fused, stem_emb, batch["stem_mask"], batch["faust_ids"], batch["faust_mask"]
            )
            c, t = token_accuracy(logits, batch["faust_ids"], batch["faust_mask"])
            correct, total = correct + c, total + t
    return {
        "quality_spearman": _spearman(np.asarray(pred), np.asarray(target)),
        # The same mixes scored without their reference (assess_quality with no stems).
        "quality_spearman_no_reference": _spearman(np.asarray(pred_alone), np.asarray(target)),
        "faust_token_accuracy": correct / total if total else float("nan"),
    }


def compile_rate(model, rows: Sequence[Row], scripts: int, seed: int = 0) -> dict[str, float]:
    """Write `scripts` mixes (cycling over the rows' role sets) and compile each with libfaust."""
    if scripts <= 0:
        return {}
    sr = model.config.sample_rate
    ok = 0
    for k in range(scripts):
        r = rows[k % len(rows)]
        roles = [role for role, v in zip(ROLES, r["stem_mask"], strict=True) if v > 0.5] or [
            "drums"
        ]
        stems = {role: _FeatureStem(r["stem_feat"][ROLES.index(role)]) for role in roles}
        try:
            text = model.write_faust_candidates(
                stems, r["prompt"], candidates=1, temperature=0.9, seed=seed + k
            )[0][0]
            v = validate(text, roles=roles, sample_rate=sr)
            program_io(v.code, sr)
            ok += 1
        except (FaustValidationError, FaustCompileError):
            pass
    return {"compile_rate": ok / scripts, "scripts_written": float(scripts)}


class _FeatureStem:
    """A stem known only by its precomputed features (evaluation needs no audio)."""

    def __init__(self, features: np.ndarray):
        self.features = np.asarray(features, np.float32)


def evaluate_rows(model, rows: Sequence[Row], *, scripts: int = 20, seed: int = 0) -> dict:
    """Every metric of the module docstring on these rows."""
    rows = list(rows)
    metrics = planning_metrics(model, rows)
    metrics.update(quality_and_token_metrics(model, rows))
    metrics.update(compile_rate(model, rows, scripts, seed))
    return metrics
