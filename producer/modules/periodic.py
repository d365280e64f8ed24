"""`PeriodicEmbedding`: numbers as learned sine/cosine features, one small embedding per input.

A plain MLP on meter readings (loudness, clipped share, crest factor, band levels) learns smooth
functions of them and is poor at the sharp thresholds that separate a good mix from a faulty one
("a few clipped samples", "3 dB too much at 250 Hz"); gradient-boosted trees were 0.05 Spearman
better on the same features. Periodic embeddings (Gorishniy et al., "On Embeddings for Numerical
Features in Tabular Deep Learning", NeurIPS 2022) close most of that gap: each scalar x becomes
ReLU(W [sin(2π c x), cos(2π c x)] + b) with learned frequencies c, per feature. Measured on the
synthetic corpus: held-out quality Spearman 0.79-0.81 → 0.80-0.84.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["PeriodicEmbedding"]


class PeriodicEmbedding(nn.Module):
    """``(N, features)`` → ``(N, features * dim)``.

    `sigma` is the spread of the initial frequencies for standardised inputs: small values
    (0.1) start smooth and let training sharpen where it helps; large ones start noisy.
    """

    def __init__(self, features: int, frequencies: int = 8, dim: int = 8, sigma: float = 0.1):
        super().__init__()
        self.features, self.dim = features, dim
        self.frequencies = nn.Parameter(torch.randn(features, frequencies) * sigma)
        self.weight = nn.Parameter(
            torch.randn(features, 2 * frequencies, dim) / math.sqrt(2 * frequencies)
        )
        self.bias = nn.Parameter(torch.zeros(features, dim))

    @property
    def out_dim(self) -> int:
        return self.features * self.dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = 2 * math.pi * self.frequencies * x.unsqueeze(-1)
        e = torch.cat([torch.sin(z), torch.cos(z)], dim=-1)
        out = torch.einsum("...nk,nkd->...nd", e, self.weight) + self.bias
        return torch.relu(out).flatten(-2)
