"""PlanningHead and QualityHead: output layout, ranges, tempo scaling, and that they learn."""

from __future__ import annotations

import pytest
import torch

from producer.modules.heads import (
    PLANNING_OUTPUTS,
    PlanningHead,
    PlanningHeadConfig,
    QualityHead,
    QualityHeadConfig,
    bpm_from_tempo,
    tempo_from_bpm,
)
from producer.plan import KEYS, MODES, ROLES, STYLES


def test_planning_outputs_follow_the_plan_vocabularies():
    torch.manual_seed(0)
    head = PlanningHead(24, hidden=32)
    out = head(torch.randn(5, 24))
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "roles": (5, len(ROLES)),
        "style": (5, len(STYLES)),
        "mode": (5, len(MODES)),
        "key": (5, len(KEYS)),
        "tempo": (5, 1),
    }
    assert {k: v.shape[1] for k, v in out.items()} == PLANNING_OUTPUTS
    assert head.config == PlanningHeadConfig(24, 32, 0.1)
    PlanningHead.from_config(head.config).load_state_dict(head.state_dict())


def test_tempo_normalisation_round_trips():
    assert tempo_from_bpm(120.0) == 0.0 and tempo_from_bpm(160.0) == 1.0
    assert bpm_from_tempo(tempo_from_bpm(87.5)) == pytest.approx(87.5)
    t = torch.tensor([60.0, 140.0, 180.0])
    torch.testing.assert_close(bpm_from_tempo(tempo_from_bpm(t)), t)


def test_quality_scores_are_probabilities_even_for_extreme_inputs():
    torch.manual_seed(0)
    head = QualityHead(16, hidden=8).eval()
    x = torch.cat([torch.randn(4, 16), 1e4 * torch.randn(4, 16)])
    score = head(x)
    assert score.shape == (8,) and torch.all((score >= 0) & (score <= 1))
    torch.testing.assert_close(score, torch.sigmoid(head.logits(x)))
    assert head.config == QualityHeadConfig(16, 8, 0.1)
    QualityHead.from_config(head.config).load_state_dict(head.state_dict())


def test_heads_learn_a_simple_mapping():
    # Style = which of 5 input directions is largest; quality = a smooth function in [0, 1];
    # tempo = a linear function. A hundred steps of Adam fit all three.
    torch.manual_seed(0)
    x = torch.randn(256, 8)
    style = x[:, :5].argmax(-1)
    quality = torch.sigmoid(2 * x[:, 5])
    tempo = tempo_from_bpm(120 + 30 * x[:, 6])
    plan, judge = PlanningHead(8, hidden=64, dropout=0.0), QualityHead(8, hidden=32, dropout=0.0)
    opt = torch.optim.Adam([*plan.parameters(), *judge.parameters()], lr=1e-2)
    for _ in range(100):
        out = plan(x)
        loss = (
            torch.nn.functional.cross_entropy(out["style"], style)
            + torch.nn.functional.mse_loss(out["tempo"].squeeze(-1), tempo)
            + torch.nn.functional.binary_cross_entropy_with_logits(judge.logits(x), quality)
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        out = plan(x)
        assert (out["style"].argmax(-1) == style).float().mean() > 0.95
        bpm_error = (bpm_from_tempo(out["tempo"].squeeze(-1)) - (120 + 30 * x[:, 6])).abs()
        assert bpm_error.mean() < 5.0
        assert (judge(x) - quality).abs().mean() < 0.05
