"""`PeriodicEmbedding` and `QualityHead(periodic=N)`."""

from __future__ import annotations

import math

import pytest
import torch

from producer.modules.heads import QualityHead
from producer.modules.periodic import PeriodicEmbedding


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_output_shape_and_out_dim():
    torch.manual_seed(0)
    emb = PeriodicEmbedding(5, frequencies=4, dim=3)
    assert emb.out_dim == 15
    assert emb(torch.randn(7, 5)).shape == (7, 15)
    assert emb(torch.randn(2, 7, 5)).shape == (2, 7, 15)  # leading batch dims pass through
    assert PeriodicEmbedding(2).out_dim == 2 * 8


def test_matches_the_formula_per_feature():
    """Block j is ReLU(W_j [sin(2π c_j x_j), cos(2π c_j x_j)] + b_j)."""
    torch.manual_seed(1)
    emb = PeriodicEmbedding(3, frequencies=4, dim=5, sigma=1.0)
    with torch.no_grad():
        emb.bias.normal_()
    x = torch.randn(6, 3)
    out = emb(x)
    for j in range(3):
        z = 2 * math.pi * emb.frequencies[j] * x[:, j : j + 1]  # (6, 4)
        e = torch.cat([torch.sin(z), torch.cos(z)], dim=-1)  # (6, 8)
        expected = torch.relu(e @ emb.weight[j] + emb.bias[j])
        torch.testing.assert_close(out[:, j * 5 : (j + 1) * 5], expected)


@pytest.mark.parametrize("j", [0, 1, 2, 3])
def test_each_block_depends_only_on_its_own_feature(j):
    torch.manual_seed(2)
    features, dim = 4, 6
    emb = PeriodicEmbedding(features, frequencies=8, dim=dim, sigma=1.0)
    x = torch.randn(16, features)
    y = x.clone()
    y[:, j] += 0.37
    a, b = emb(x), emb(y)
    for k in range(features):
        block = slice(k * dim, (k + 1) * dim)
        if k == j:
            assert not torch.allclose(a[:, block], b[:, block])
        else:
            assert torch.equal(a[:, block], b[:, block])


def test_gradients_reach_frequencies_weights_and_bias():
    torch.manual_seed(3)
    emb = PeriodicEmbedding(3, frequencies=4, dim=4, sigma=0.5)
    with torch.no_grad():
        emb.bias.fill_(0.5)  # keep units active so every weight sees a gradient
    x = torch.randn(10, 3)
    (emb(x) * torch.randn(10, 12)).sum().backward()
    for name, p in emb.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        # every feature's parameters get some gradient
        per_feature = p.grad.abs().reshape(3, -1).sum(-1)
        assert (per_feature > 0).all(), name


def test_quality_head_wires_leading_inputs_through_the_embedding():
    head = QualityHead(6, hidden=16, dropout=0.0, periodic=2)
    assert isinstance(head.periodic, PeriodicEmbedding)
    assert head.periodic.features == 2
    first = head.trunk[0][0]
    assert first.in_features == 6 - 2 + head.periodic.out_dim
    assert QualityHead(6, hidden=16, periodic=0).periodic is None
    assert QualityHead(6, hidden=16, periodic=0).trunk[0][0].in_features == 6


def test_quality_head_scores_in_unit_interval_and_logits_are_pre_sigmoid():
    torch.manual_seed(4)
    head = QualityHead(6, hidden=16, dropout=0.1, periodic=3).eval()
    x = torch.cat(
        [
            torch.randn(8, 6),
            torch.full((2, 6), 1e6),
            torch.full((2, 6), -1e6),
            torch.tensor([[1e9, -1e9, 0.0, 1e4, -1e4, 3.0]]),
        ]
    )
    scores = head(x)
    assert scores.shape == (13,)
    assert torch.isfinite(scores).all()
    assert ((scores >= 0) & (scores <= 1)).all()
    logits = head.logits(x)
    assert logits.shape == (13,)
    assert torch.isfinite(logits).all()
    torch.testing.assert_close(torch.sigmoid(logits), scores)
    # and the other way round, where the sigmoid is not saturated
    ordinary = scores[:8].double()
    torch.testing.assert_close(torch.logit(ordinary), logits[:8].double(), atol=1e-4, rtol=1e-4)


def test_quality_head_output_depends_on_a_periodic_input():
    torch.manual_seed(5)
    head = QualityHead(4, hidden=16, dropout=0.0, periodic=2).eval()
    x = torch.randn(8, 4)
    y = x.clone()
    y[:, 1] += 0.5
    assert not torch.allclose(head(x), head(y))


def _fit_threshold(periodic: int, seed: int = 0, steps: int = 200) -> float:
    """Held-out MSE of a tiny head trained on y = 0.9 if x0 > 0.3 else 0.2."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(512, 2, generator=gen)
    y = torch.where(x[:, 0] > 0.3, 0.9, 0.2)
    x_test = torch.randn(1024, 2, generator=gen)
    y_test = torch.where(x_test[:, 0] > 0.3, 0.9, 0.2)
    torch.manual_seed(seed)
    head = QualityHead(2, hidden=32, dropout=0.0, periodic=periodic)
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((head(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    head.eval()
    with torch.no_grad():
        return float(((head(x_test) - y_test) ** 2).mean())


def test_periodic_head_learns_a_sharp_threshold():
    # The target's variance is ~0.11 (a constant predictor's MSE); a smooth fit of the step
    # leaves a few 1e-3 around x0 = 0.3.
    periodic = _fit_threshold(periodic=2)
    plain = _fit_threshold(periodic=0)
    assert periodic < 2e-3
    # Same data, steps and width: the periodic embedding fits the step markedly better.
    assert periodic < plain / 2
