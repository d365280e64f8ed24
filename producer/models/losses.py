"""The three losses of the unified model, as pure functions of outputs and batch targets.

- planning: binary cross-entropy over the roles (multi-label), cross-entropy over style, mode and
  key (unknown targets, -1, are ignored), smooth L1 over the normalised tempo (NaN = unknown);
- quality: mean squared error of the [0, 1] score against the target, over real copies only,
  plus a pairwise ranking term over the copies of one song;
- faust: next-token cross-entropy over the script tokens (padding ignored).

Each returns a scalar that is 0 (still differentiable) when the batch has no target for it, so a
batch of songs without metadata or without a script trains the other heads unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from producer.models.planning import TEMPO_CENTER, TEMPO_SCALE


def _masked_ce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    target = target.to(logits.device).long()
    if bool((target >= 0).any()):
        return F.cross_entropy(logits.float(), target, ignore_index=-1)
    return logits.sum() * 0.0


def planning_loss(out: Mapping[str, torch.Tensor], batch: Mapping[str, torch.Tensor]):
    """Sum of the role, style, mode, key and tempo losses."""
    roles = F.binary_cross_entropy_with_logits(
        out["roles"].float(), batch["plan_roles"].to(out["roles"].device).float()
    )
    style = _masked_ce(out["style"], batch["plan_style"])
    mode = _masked_ce(out["mode"], batch["plan_mode"])
    key = _masked_ce(out["key"], batch["plan_key"])
    bpm = batch["plan_bpm"].to(out["tempo"].device).float()
    known = ~torch.isnan(bpm)
    pred = out["tempo"].float().reshape(-1)
    if bool(known.any()):
        target = (bpm[known] - TEMPO_CENTER) / TEMPO_SCALE
        tempo = F.smooth_l1_loss(pred[known], target, beta=0.1)
    else:
        tempo = pred.sum() * 0.0
    # Key is mostly unpredictable from words alone; it gets a small weight so it does not
    # dominate the planning loss with irreducible error.
    return roles + style + mode + 0.25 * key + tempo


#: Weight of the pairwise ranking term in the quality loss.
RANK_WEIGHT = 0.1
# Pairs whose targets differ by less than this are not ranked (ties, near-ties).
_RANK_MARGIN = 0.02


def quality_loss(
    scores: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    logits: torch.Tensor | None = None,
) -> torch.Tensor:
    """MSE over the real (mask 1) quality copies of each example, plus (given the pre-sigmoid
    `logits`) a pairwise ranking term over the copies of the same song: the head is used to
    pick the best of several mixes of the same stems, so their order matters most.

    The ranking term is a squared hinge: a pair costs only while its logit gap is smaller than
    the gap between the targets' logits. (A logistic ranking loss keeps pushing the best copy
    up forever; it drove the scores of every good mix to 1.0, where candidates cannot be told
    apart.)
    """
    target = target.to(scores.device).float()
    mask = mask.to(scores.device).float()
    mse = ((scores.float() - target) ** 2 * mask).sum() / mask.sum().clamp(min=1.0)
    if logits is None:
        return mse
    t = torch.logit(target.clamp(0.01, 0.99))
    gap = t.unsqueeze(-1) - t.unsqueeze(-2)
    dl = logits.float().unsqueeze(-1) - logits.float().unsqueeze(-2)
    dy = target.unsqueeze(-1) - target.unsqueeze(-2)
    pairs = (dy > _RANK_MARGIN).float() * mask.unsqueeze(-1) * mask.unsqueeze(-2)
    rank = (F.relu(gap - dl) ** 2 * pairs).sum() / pairs.sum().clamp(min=1.0)
    return mse + RANK_WEIGHT * rank


def token_logprobs(
    logits: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probability of each next token, (B, L-1), and which of them are real tokens."""
    target = ids[:, 1:]
    lp = torch.log_softmax(logits.float(), dim=-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
    return lp, mask[:, 1:].float()


def faust_loss(logits: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy over the script (positions predicting tokens 1..L-1)."""
    target = ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
    return F.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100
    )


def token_accuracy(logits: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> tuple[int, int]:
    """(correct, total) greedy next-token predictions over real script tokens."""
    m = mask[:, 1:].bool()
    pred = logits.argmax(-1)
    return int((pred == ids[:, 1:])[m].sum()), int(m.sum())
