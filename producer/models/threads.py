"""How many CPU threads token-by-token decoding gets.

Decoding runs one small forward pass per token. For a narrow decoder (the packaged default is
128 wide) each matmul is a few microseconds of work, and splitting it over threads costs more
in hand-offs than it saves: on a 2-core machine the Faust writer decoded 2-3x slower with
torch's default 2 threads than with one (`benchmarks/serve_load.py`, RESULTS.md, "Serving").
A wide decoder (a 7B model on CPU) needs every core. So: one thread below `SMALL_WIDTH`,
torch's setting otherwise, and nothing changes on a GPU.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["SMALL_WIDTH", "decode_threads"]

#: Decoders narrower than this decode on one CPU thread.
SMALL_WIDTH = 1024


@contextlib.contextmanager
def decode_threads(width: int, device: torch.device | str) -> Iterator[int]:
    """Within the block, torch's intra-op threads suit decoding a `width`-wide model on
    `device`; the previous count comes back after. Yields the count used.

    The setting is process-wide: a server decoding in several threads at once shares it, which
    is why the serving replicas set `torch_threads` once instead.
    """
    before = torch.get_num_threads()
    wanted = 1 if torch.device(device).type == "cpu" and width < SMALL_WIDTH else before
    if wanted == before:
        yield before
        return
    torch.set_num_threads(wanted)
    try:
        yield wanted
    finally:
        torch.set_num_threads(before)
