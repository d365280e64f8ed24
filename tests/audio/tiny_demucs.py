"""Tiny Demucs-shaped models for the separation tests (random weights, built in milliseconds).

`tiny_htdemucs` is a real HTDemucs sized to run fast on one CPU thread. Its speed hinges on the
transformer at the bottom of the U-Net, which attends over the positions left after `depth`
stride-4 layers: in the time branch T / 4**depth samples, in the spectral branch
(nfft/2 / 4**depth frequencies) × (T / hop frames), since that branch strides over frequency
only. A shallow net or a large nfft leaves thousands of positions (nfft=4096, depth=2: ~4000
spectral and ~2000 time positions for a 2 s chunk), which runs for seconds per chunk. With
nfft=1024 and depth=4 the frequency axis collapses to 1 and the hop (256) equals 4**4, so both
branches hold 122 positions for the 1.95 s chunk at 16 kHz, in one transformer layer of width
32; separating 8 s of audio takes ~0.4 s on one thread (85k parameters).

`GainModel` is not a neural net at all: source k is exactly `gains[k]` × the mix. Because the
answer is known, tests can check what a random network cannot show: that the output is at the
input's rate, aligned, at full length, and that chunk cross-fades reconstruct the signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import torch
from demucs.htdemucs import HTDemucs
from torch import nn

SOURCES = ["drums", "bass", "other", "vocals"]

#: Constructor kwargs of the tiny HTDemucs (segment is a Fraction, like the pretrained ones).
TINY_KWARGS = {
    "sources": SOURCES,
    "audio_channels": 2,
    "samplerate": 16000,
    "segment": Fraction(39, 20),  # 1.95 s
    "nfft": 1024,
    "depth": 4,
    "channels": 4,
    "t_layers": 1,
    "t_heads": 2,
    "dconv_comp": 4,
}


def tiny_htdemucs(seed: int = 0, **overrides) -> HTDemucs:
    """A randomly initialised tiny HTDemucs in eval mode (TINY_KWARGS, with `overrides`)."""
    torch.manual_seed(seed)
    return HTDemucs(**{**TINY_KWARGS, **overrides}).eval()


class GainModel(nn.Module):
    """Source k = gains[k] × mix; counts its forward calls (one per chunk)."""

    def __init__(
        self,
        sources: Sequence[str],
        gains: Sequence[float],
        samplerate: int = 16000,
        segment: float = 1.0,
        audio_channels: int = 2,
    ):
        super().__init__()
        self.sources = list(sources)
        self.samplerate = samplerate
        self.segment = segment
        self.audio_channels = audio_channels
        self.register_buffer("gains", torch.tensor(list(gains), dtype=torch.float32))
        self.calls = 0

    def forward(self, mix: torch.Tensor) -> torch.Tensor:  # (B, C, T) → (B, S, C, T)
        self.calls += 1
        return mix[:, None] * self.gains.view(1, -1, 1, 1)
