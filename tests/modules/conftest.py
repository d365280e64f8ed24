"""Fixtures shared by the module tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="package")
def _one_torch_thread():
    """Run the tiny test models on one thread.

    At these sizes (a few hundred values per op) extra intra-op threads only add overhead, and
    when other processes keep the cores busy, each op waits for a thread to be scheduled: a
    200-step training test went from 1 s to 10 s on a loaded 2-core machine.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
