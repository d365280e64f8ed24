"""Audio encoders over fixed-size features (``producer.modules.features``).

- :class:`AudioEncoder` maps one clip's features ``(..., F)`` to an embedding ``(..., out_dim)``:
  a two-layer MLP with LayerNorm. Features are already scaled to about unit range, so no input
  normalisation is needed; a LayerNorm over the *input* would even hurt, since it would subtract
  the mean over unrelated features (mel levels and meters) and so erase the overall level.
- :class:`StemSetEncoder` encodes the stems of one production, ``(B, S, F)`` with their roles
  and a mask of which slots hold a stem: each stem goes through an ``AudioEncoder``, gets its
  role's embedding, then one pre-norm self-attention block lets every stem see the others
  (whether the bass is masking the kick depends on both); it returns each stem's embedding
  ``(B, S, out)`` and their masked mean ``(B, out)``. Padded slots never influence the result,
  and the result does not depend on the order of the stems.

:func:`batch_stem_features` turns ``{role: features}`` dicts into the tensors it takes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from producer.modules.features import AUDIO_FEATURE_DIM
from producer.plan import ROLES

__all__ = [
    "AudioEncoder",
    "AudioEncoderConfig",
    "StemSetEncoder",
    "StemSetEncoderConfig",
    "batch_stem_features",
]


@dataclass
class AudioEncoderConfig:
    in_dim: int = AUDIO_FEATURE_DIM  # feature size (audio_features' output)
    hidden: int = 128  # width of the hidden layer
    out_dim: int = 128  # embedding size
    dropout: float = 0.0  # dropout after the hidden layer (training only)


class AudioEncoder(nn.Module):
    """Features ``(..., in_dim)`` → embedding ``(..., out_dim)``.

    Linear → LayerNorm → GELU → Dropout → Linear → LayerNorm.
    """

    def __init__(
        self,
        in_dim: int = AUDIO_FEATURE_DIM,
        hidden: int = 128,
        out_dim: int = 128,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.config = AudioEncoderConfig(in_dim, hidden, out_dim, dropout)
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.LayerNorm(hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, out_dim),
            nn.LayerNorm(out_dim),
        )

    @classmethod
    def from_config(cls, config: AudioEncoderConfig) -> AudioEncoder:
        return cls(**asdict(config))

    @property
    def out_dim(self) -> int:
        return self.config.out_dim

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.shape[-1] != self.config.in_dim:
            raise ValueError(
                f"AudioEncoder expects {self.config.in_dim} features in the last dimension, "
                f"got shape {tuple(features.shape)}"
            )
        return self.net(features)


@dataclass
class StemSetEncoderConfig:
    in_dim: int = AUDIO_FEATURE_DIM  # feature size per stem
    hidden: int = 128  # per-stem AudioEncoder hidden width
    out_dim: int = 128  # embedding size (per stem and pooled)
    n_heads: int = 4  # attention heads of the stem-to-stem block; must divide out_dim
    n_roles: int = len(ROLES)  # size of the role vocabulary (plan.ROLES order)
    dropout: float = 0.0  # dropout in the MLP, attention and feed-forward (training only)


class StemSetEncoder(nn.Module):
    """A set of stems ``(B, S, F)`` + roles ``(B, S)`` + mask ``(B, S)`` → pooled and per stem.

    ``forward`` returns ``(pooled (B, out_dim), per_stem (B, S, out_dim))``; per-stem rows of
    padded slots are zeros, and a production with no stem at all pools to zeros.
    """

    def __init__(
        self,
        in_dim: int = AUDIO_FEATURE_DIM,
        hidden: int = 128,
        out_dim: int = 128,
        n_heads: int = 4,
        n_roles: int = len(ROLES),
        dropout: float = 0.0,
    ):
        super().__init__()
        if out_dim % n_heads:
            raise ValueError(f"out_dim ({out_dim}) must be a multiple of n_heads ({n_heads})")
        self.config = StemSetEncoderConfig(in_dim, hidden, out_dim, n_heads, n_roles, dropout)
        self.stem = AudioEncoder(in_dim, hidden, out_dim, dropout)
        self.role = nn.Embedding(n_roles, out_dim)
        self.attn_norm = nn.LayerNorm(out_dim)
        self.attn = nn.MultiheadAttention(out_dim, n_heads, dropout=dropout, batch_first=True)
        self.ff_norm = nn.LayerNorm(out_dim)
        self.ff = nn.Sequential(
            nn.Linear(out_dim, 2 * out_dim),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(2 * out_dim, out_dim),
        )
        self.out_norm = nn.LayerNorm(out_dim)

    @classmethod
    def from_config(cls, config: StemSetEncoderConfig) -> StemSetEncoder:
        return cls(**asdict(config))

    @property
    def out_dim(self) -> int:
        return self.config.out_dim

    def forward(
        self, features: torch.Tensor, roles: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        b, s, _ = features.shape
        if mask is None:
            mask = torch.ones(b, s, dtype=torch.bool, device=features.device)
        mask = mask.bool()
        h = self.stem(features) + self.role(roles.long())  # (B, S, D)
        # A row with no stem at all would make attention softmax over nothing (NaN): let such
        # rows attend to their (zero-weighted) first slot instead; their output is zeroed below.
        empty = ~mask.any(dim=1)
        attend = mask.clone()
        attend[empty, 0] = True
        q = self.attn_norm(h)
        a, _ = self.attn(q, q, q, key_padding_mask=~attend, need_weights=False)
        h = h + a
        h = h + self.ff(self.ff_norm(h))
        keep = mask.unsqueeze(-1).to(h.dtype)  # (B, S, 1)
        per_stem = h * keep
        pooled = per_stem.sum(1) / keep.sum(1).clamp(min=1.0)
        pooled = self.out_norm(pooled) * (~empty).unsqueeze(-1).to(h.dtype)
        return pooled, per_stem


def batch_stem_features(
    batch: Sequence[Mapping[str, np.ndarray]], max_stems: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``[{role: features}]`` → ``(features (B, S, F) float32, roles (B, S) long, mask (B, S))``.

    Stems keep their dict order; S is the largest number of stems in the batch (or
    ``max_stems``); padding slots have zero features, role 0 and mask False. Unknown roles
    raise ``ValueError``.
    """
    width = max([len(stems) for stems in batch], default=0)
    s = max(width, 1) if max_stems is None else max_stems
    if width > s:
        raise ValueError(f"an example has {width} stems, more than max_stems={s}")
    feats = torch.zeros(len(batch), s, AUDIO_FEATURE_DIM)
    roles = torch.zeros(len(batch), s, dtype=torch.long)
    mask = torch.zeros(len(batch), s, dtype=torch.bool)
    for i, stems in enumerate(batch):
        for j, (role, feature) in enumerate(stems.items()):
            if role not in ROLES:
                raise ValueError(f"unknown stem role {role!r}: roles are {', '.join(ROLES)}")
            feats[i, j] = torch.as_tensor(np.asarray(feature, dtype=np.float32))
            roles[i, j] = ROLES.index(role)
            mask[i, j] = True
    return feats, roles, mask
