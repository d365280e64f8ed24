"""`quality_loss`: masked MSE plus a pairwise ranking term over the copies of one song."""

from __future__ import annotations

import math

import pytest
import torch

from producer.models.losses import RANK_WEIGHT, quality_loss


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _logit(t: float) -> float:
    t = min(max(t, 0.01), 0.99)
    return math.log(t / (1 - t))


def _hinge(t_hi: float, t_lo: float, l_hi: float, l_lo: float) -> float:
    """Cost of one ranked pair: relu(target logit gap - logit gap) ** 2."""
    return max(_logit(t_hi) - _logit(t_lo) - (l_hi - l_lo), 0.0) ** 2


SCORES = torch.tensor([[0.2, 0.6, 0.9], [0.5, 0.1, 0.0]])
TARGET = torch.tensor([[0.3, 0.4, 1.0], [0.5, 0.7, 0.2]])
MASK = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])


def test_without_logits_is_masked_mse():
    by_hand = [
        (s - t) ** 2
        for srow, trow, mrow in zip(SCORES.tolist(), TARGET.tolist(), MASK.tolist(), strict=True)
        for s, t, m in zip(srow, trow, mrow, strict=True)
        if m
    ]
    assert len(by_hand) == 5
    loss = quality_loss(SCORES, TARGET, MASK)
    assert loss.shape == ()
    assert float(loss) == pytest.approx(sum(by_hand) / 5, rel=1e-6)


def test_all_masked_is_zero_not_nan():
    mask = torch.zeros_like(MASK)
    assert float(quality_loss(SCORES, TARGET, mask)) == 0.0
    assert float(quality_loss(SCORES, TARGET, mask, logits=torch.randn(2, 3))) == 0.0


@pytest.mark.parametrize("with_logits", [False, True])
def test_padding_copies_never_affect_the_value_or_the_gradient(with_logits):
    torch.manual_seed(0)
    mask = torch.tensor([[1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 1.0, 0.0]])
    scores = torch.rand(2, 4)
    target = torch.rand(2, 4)
    logits = torch.randn(2, 4)
    pad = mask == 0
    wild_scores = scores.masked_fill(pad, 7.0)
    wild_target = target.clone()
    wild_target[0, 2], wild_target[0, 3] = 1.0, 0.0  # would form a strong pair if counted
    wild_target[1, 1], wild_target[1, 3] = -5.0, 5.0
    wild_logits = logits.masked_fill(pad, -30.0)

    def run(s, t, lg):
        s = s.clone().requires_grad_(True)
        lg = lg.clone().requires_grad_(True)
        loss = quality_loss(s, t, mask, logits=lg if with_logits else None)
        loss.backward()
        return loss, s.grad, lg.grad

    a, a_sg, a_lg = run(scores, target, logits)
    b, b_sg, b_lg = run(wild_scores, wild_target, wild_logits)
    assert float(a.detach()) == pytest.approx(float(b.detach()), rel=1e-6)
    assert torch.equal(b_sg[pad], torch.zeros(int(pad.sum())))
    torch.testing.assert_close(a_sg[~pad], b_sg[~pad])
    if with_logits:
        assert torch.equal(b_lg[pad], torch.zeros(int(pad.sum())))
        torch.testing.assert_close(a_lg[~pad], b_lg[~pad])


def test_ranking_term_rewards_logits_ordered_like_the_targets():
    target = torch.tensor([[0.3, 0.7]])
    mask = torch.ones(1, 2)
    scores = torch.tensor([[0.4, 0.5]])  # the same scores every time: identical MSE part
    mse = float(quality_loss(scores, target, mask))

    def loss(logits):
        return float(quality_loss(scores, target, mask, logits=torch.tensor([logits])))

    ordered, partly, reversed_ = loss([-1.0, 1.0]), loss([0.0, 1.0]), loss([1.0, -1.0])
    assert ordered < partly < reversed_
    # one pair (copy 1 above copy 0); the target logit gap is 2 * logit(0.7) = 1.69
    assert ordered == pytest.approx(mse, rel=1e-6)  # logit gap 2 >= 1.69: no cost
    assert partly == pytest.approx(mse + RANK_WEIGHT * _hinge(0.7, 0.3, 1.0, 0.0), rel=1e-5)
    assert reversed_ == pytest.approx(mse + RANK_WEIGHT * _hinge(0.7, 0.3, -1.0, 1.0), rel=1e-5)


def test_ranking_term_is_the_mean_over_ranked_pairs():
    t = [0.1, 0.5, 0.9]
    lg = [0.0, 2.0, 1.0]
    scores = torch.full((1, 3), 0.5)
    mse = float(quality_loss(scores, torch.tensor([t]), torch.ones(1, 3)))
    got = float(
        quality_loss(scores, torch.tensor([t]), torch.ones(1, 3), logits=torch.tensor([lg]))
    )
    pairs = [(1, 0), (2, 0), (2, 1)]  # (higher target, lower target)
    rank = sum(_hinge(t[i], t[j], lg[i], lg[j]) for i, j in pairs) / 3
    assert rank > 1.0  # the expectation is not trivially ~0
    assert got == pytest.approx(mse + RANK_WEIGHT * rank, rel=1e-5)


def test_extreme_targets_are_clamped_before_the_logit():
    scores = torch.tensor([[0.5, 0.5]])
    target = torch.tensor([[0.0, 1.0]])
    logits = torch.tensor([[0.0, 0.0]])
    got = float(quality_loss(scores, target, torch.ones(1, 2), logits=logits))
    assert math.isfinite(got)
    # the gap is logit(0.99) - logit(0.01), about 9.19
    expected = float(quality_loss(scores, target, torch.ones(1, 2))) + RANK_WEIGHT * _hinge(
        1.0, 0.0, 0.0, 0.0
    )
    assert got == pytest.approx(expected, rel=1e-5)


def test_pairs_closer_than_the_margin_are_not_ranked():
    scores = torch.tensor([[0.5, 0.5]])
    mask = torch.ones(1, 2)
    close = torch.tensor([[0.50, 0.51]])  # 0.01 apart: under the 0.02 margin
    apart = torch.tensor([[0.50, 0.53]])  # 0.03 apart: ranked
    logits = torch.tensor([[3.0, -3.0]])  # badly ordered
    assert float(quality_loss(scores, close, mask, logits=logits)) == pytest.approx(
        float(quality_loss(scores, close, mask)), abs=1e-9
    )
    assert float(quality_loss(scores, apart, mask, logits=logits)) == pytest.approx(
        float(quality_loss(scores, apart, mask)) + RANK_WEIGHT * _hinge(0.53, 0.50, -3.0, 3.0),
        rel=1e-5,
    )
    # with three copies only the pairs with the far one count
    t = [0.50, 0.51, 0.80]
    lg = [0.0, 5.0, 1.0]
    s3 = torch.full((1, 3), 0.5)
    got = float(quality_loss(s3, torch.tensor([t]), torch.ones(1, 3), logits=torch.tensor([lg])))
    rank = (_hinge(t[2], t[0], lg[2], lg[0]) + _hinge(t[2], t[1], lg[2], lg[1])) / 2
    mse = float(quality_loss(s3, torch.tensor([t]), torch.ones(1, 3)))
    assert got == pytest.approx(mse + RANK_WEIGHT * rank, rel=1e-5)


def test_copies_are_only_ranked_within_their_own_row():
    # Each row has one real copy: no pair exists, whatever the targets across rows.
    scores = torch.tensor([[0.5, 0.0], [0.5, 0.0]])
    target = torch.tensor([[0.9, 0.0], [0.1, 0.0]])
    mask = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    logits = torch.tensor([[-4.0, 0.0], [4.0, 0.0]])  # reversed across rows
    assert float(quality_loss(scores, target, mask, logits=logits)) == pytest.approx(
        float(quality_loss(scores, target, mask)), abs=1e-9
    )


def test_gradient_pushes_the_better_copy_up():
    target = torch.tensor([[0.2, 0.8, 0.5]])
    logits = torch.zeros(1, 3, requires_grad=True)
    scores = torch.full((1, 3), 0.5)
    quality_loss(scores, target, torch.ones(1, 3), logits=logits).backward()
    g = logits.grad[0]
    # gradient descent moves logits by -grad: best copy up, worst down
    assert g[1] < 0
    assert g[0] > 0
    assert g[1] < g[2] < g[0]
    assert float(g.sum()) == pytest.approx(0.0, abs=1e-6)


def test_no_push_once_the_logit_gaps_match_the_targets():
    """The hinge stops at the targets' own logit gaps: good copies are not driven to 1.0."""
    target = torch.tensor([[0.2, 0.8, 0.5]])
    exact = torch.logit(target).clone().requires_grad_(True)
    wider = (torch.logit(target) * 3).requires_grad_(True)
    mask = torch.ones(1, 3)
    scores = torch.full((1, 3), 0.5)
    mse = float(quality_loss(scores, target, mask))
    for logits in (exact, wider):
        loss = quality_loss(scores, target, mask, logits=logits)
        assert float(loss.detach()) == pytest.approx(mse, abs=1e-9)
        loss.backward()
        assert float(logits.grad.abs().max()) < 1e-5
