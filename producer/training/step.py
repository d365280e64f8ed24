"""One optimisation step, shared by the single-process trainer and the Ray Train + DeepSpeed job.

`compute_losses` is the whole forward pass of a training step; the optimizer part differs only in
who owns it: `train_step` here (AdamW + clipping), `deepspeed_engine.backward/step` in
`ray_jobs/train.py`. Keeping the forward in one place is what lets the distributed job run the
trainer's step unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import torch

from producer.models.unified import TASKS


def autocast_for(device: torch.device | str, bf16: bool):
    """bf16 autocast on CUDA when asked, a no-op elsewhere (CPU trains in float32)."""
    device = torch.device(device)
    if bf16 and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def compute_losses(
    model, batch: dict[str, Any], tasks: Sequence[str] = TASKS, *, bf16: bool = False
) -> dict[str, torch.Tensor]:
    """The model's losses on one batch (`loss` is the weighted total to minimise)."""
    device = next(p for p in model.parameters()).device
    with autocast_for(device, bf16):
        return model(batch, tasks=tuple(tasks))


def train_step(
    model,
    optimizer: torch.optim.Optimizer,
    batch: dict[str, Any],
    *,
    tasks: Sequence[str] = TASKS,
    grad_clip: float | None = 1.0,
    scheduler=None,
    bf16: bool = False,
) -> dict[str, float]:
    """Forward, backward, clip, step; returns the losses as floats."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    out = compute_losses(model, batch, tasks, bf16=bf16)
    out["loss"].backward()
    if grad_clip:
        params = [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return {k: float(v.detach()) for k, v in out.items()}


def trainable_parameters(model, tasks: Sequence[str] = TASKS) -> list[torch.nn.Parameter]:
    """Parameters the tasks train: Faust-only training leaves the planning/quality heads alone;
    quality-only training touches nothing but the quality parts (its input is detached from
    the shared encoders, see `UnifiedProducerModel.quality_scores`)."""
    if tuple(tasks) == ("quality",):
        return [
            p for n, p in model.named_parameters() if p.requires_grad and n.startswith("quality_")
        ]
    skip: tuple[str, ...] = ()
    if "planning" not in tasks:
        skip += ("planning_head.",)
    if "quality" not in tasks:
        skip += ("quality_head.",)
    return [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith(skip)]
