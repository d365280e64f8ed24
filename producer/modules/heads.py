"""Prediction heads: the planner's outputs and the mix quality score.

- :class:`PlanningHead` reads a fused prompt (+ input song) vector and predicts, as logits,
  which roles the production has (multi-label, ``plan.ROLES`` order), its style, mode and key
  (``plan.STYLES``, ``plan.MODES``, ``plan.KEYS`` order), and its tempo as a normalised number
  ``(bpm - TEMPO_CENTER) / TEMPO_SCALE`` (so hip-hop's 60-180 bpm maps to about -1.5..1.5,
  a comfortable range for a regression output). Use :func:`bpm_from_tempo` to read it.
- :class:`QualityHead` maps a mix representation to a score in [0, 1] (sigmoid);
  :meth:`QualityHead.logits` gives the pre-sigmoid value for a numerically stable loss.

Both share one trunk shape, Linear → LayerNorm → GELU → Dropout, and a typed config.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from producer.modules.periodic import PeriodicEmbedding
from producer.plan import KEYS, MODES, ROLES, STYLES

__all__ = [
    "PLANNING_OUTPUTS",
    "TEMPO_CENTER",
    "TEMPO_SCALE",
    "PlanningHead",
    "PlanningHeadConfig",
    "QualityHead",
    "QualityHeadConfig",
    "bpm_from_tempo",
    "tempo_from_bpm",
]

#: The tempo output is (bpm - TEMPO_CENTER) / TEMPO_SCALE.
TEMPO_CENTER, TEMPO_SCALE = 120.0, 40.0

#: Output name → size of :class:`PlanningHead`'s last dimension.
PLANNING_OUTPUTS: dict[str, int] = {
    "roles": len(ROLES),  # multi-label logits: is the role in the production
    "style": len(STYLES),  # class logits
    "mode": len(MODES),  # class logits
    "key": len(KEYS),  # class logits (tonic)
    "tempo": 1,  # normalised bpm, see tempo_from_bpm
}


def tempo_from_bpm(bpm: torch.Tensor | float) -> torch.Tensor | float:
    """The tempo head's target for a bpm."""
    return (bpm - TEMPO_CENTER) / TEMPO_SCALE


def bpm_from_tempo(tempo: torch.Tensor | float) -> torch.Tensor | float:
    """The bpm a tempo-head output stands for."""
    return tempo * TEMPO_SCALE + TEMPO_CENTER


def _trunk(in_dim: int, hidden: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_dim, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Dropout(dropout)
    )


@dataclass
class PlanningHeadConfig:
    in_dim: int  # size of the fused prompt (+ song) vector
    hidden: int = 256  # trunk width
    dropout: float = 0.1  # after the trunk (training only)


class PlanningHead(nn.Module):
    """``(B, in_dim)`` → ``{"roles": (B, 6), "style": (B, 5), "mode": (B, 2), "key": (B, 12),
    "tempo": (B, 1)}``, all logits except tempo (normalised bpm)."""

    def __init__(self, in_dim: int, hidden: int = 256, dropout: float = 0.1):
        super().__init__()
        self.config = PlanningHeadConfig(in_dim, hidden, dropout)
        self.trunk = _trunk(in_dim, hidden, dropout)
        self.outputs = nn.ModuleDict(
            {name: nn.Linear(hidden, n) for name, n in PLANNING_OUTPUTS.items()}
        )

    @classmethod
    def from_config(cls, config: PlanningHeadConfig) -> PlanningHead:
        return cls(**asdict(config))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.trunk(x)
        return {name: layer(h) for name, layer in self.outputs.items()}


@dataclass
class QualityHeadConfig:
    in_dim: int  # size of the mix representation
    hidden: int = 128  # trunk width
    dropout: float = 0.1  # after the trunk (training only)
    periodic: int = 0  # leading inputs that go through a PeriodicEmbedding (meter readings)


class QualityHead(nn.Module):
    """``(B, in_dim)`` → quality score ``(B,)`` in [0, 1].

    The first `periodic` inputs (standardised meter readings) are embedded periodically
    (`producer.modules.periodic`), the rest pass as they are. Two hidden layers: judging a mix
    means comparing readings with each other (the low band against its reference, the crest
    factor against the loudness), which one layer learned markedly worse.
    """

    def __init__(self, in_dim: int, hidden: int = 128, dropout: float = 0.1, periodic: int = 0):
        super().__init__()
        self.config = QualityHeadConfig(in_dim, hidden, dropout, periodic)
        self.periodic = PeriodicEmbedding(periodic) if periodic else None
        width = in_dim - periodic + (self.periodic.out_dim if self.periodic else 0)
        self.trunk = nn.Sequential(
            _trunk(width, hidden, dropout), nn.Linear(hidden, hidden), nn.GELU()
        )
        self.out = nn.Linear(hidden, 1)

    @classmethod
    def from_config(cls, config: QualityHeadConfig) -> QualityHead:
        return cls(**asdict(config))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-sigmoid scores ``(B,)`` (use with ``binary_cross_entropy_with_logits``)."""
        if self.periodic is not None:
            n = self.config.periodic
            x = torch.cat([self.periodic(x[..., :n]), x[..., n:]], dim=-1)
        return self.out(self.trunk(x)).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))
