"""Decoding threads: one for a narrow decoder on CPU, torch's own count otherwise, restored."""

from __future__ import annotations

import pytest
import torch

from producer.models.threads import SMALL_WIDTH, decode_threads


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_a_narrow_decoder_decodes_on_one_thread_and_the_count_comes_back(two_threads):
    with decode_threads(128, "cpu") as used:
        assert used == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


def test_the_count_comes_back_after_an_error(two_threads):
    with pytest.raises(RuntimeError), decode_threads(128, torch.device("cpu")):
        raise RuntimeError("decoding failed")
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize(("width", "device"), [(SMALL_WIDTH, "cpu"), (4096, "cpu"), (128, "meta")])
def test_a_wide_decoder_or_another_device_keeps_torch_s_count(two_threads, width, device):
    with decode_threads(width, device) as used:
        assert used == 2 and torch.get_num_threads() == 2
    assert torch.get_num_threads() == 2
