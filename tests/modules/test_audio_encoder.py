"""AudioEncoder and StemSetEncoder: shapes, masking, order invariance, roles, training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from producer.modules.audio_encoder import (
    AudioEncoder,
    AudioEncoderConfig,
    StemSetEncoder,
    StemSetEncoderConfig,
    batch_stem_features,
)
from producer.modules.features import AUDIO_FEATURE_DIM
from producer.plan import ROLES

F = AUDIO_FEATURE_DIM


@pytest.fixture
def stems() -> StemSetEncoder:
    torch.manual_seed(0)
    return StemSetEncoder(hidden=32, out_dim=16, n_heads=2).eval()


def test_audio_encoder_maps_any_leading_shape():
    torch.manual_seed(0)
    enc = AudioEncoder(hidden=32, out_dim=16)
    assert enc(torch.randn(5, F)).shape == (5, 16)
    assert enc(torch.randn(2, 3, F)).shape == (2, 3, 16)
    with pytest.raises(ValueError, match=f"{F} features"):
        enc(torch.randn(5, F - 1))


def test_configs_rebuild_the_same_modules():
    torch.manual_seed(0)
    enc = AudioEncoder(hidden=32, out_dim=16, dropout=0.1)
    assert enc.config == AudioEncoderConfig(F, 32, 16, 0.1)
    AudioEncoder.from_config(enc.config).load_state_dict(enc.state_dict())  # same shapes
    sets = StemSetEncoder(hidden=32, out_dim=16, n_heads=2)
    assert sets.config == StemSetEncoderConfig(F, 32, 16, 2, len(ROLES), 0.0)
    StemSetEncoder.from_config(sets.config).load_state_dict(sets.state_dict())
    with pytest.raises(ValueError, match="multiple of n_heads"):
        StemSetEncoder(out_dim=10, n_heads=4)


def test_stem_set_shapes_and_padded_slots_are_zero(stems):
    torch.manual_seed(1)
    x, roles = torch.randn(3, 4, F), torch.tensor([[0, 1, 2, 3]] * 3)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.bool)
    pooled, per_stem = stems(x, roles, mask)
    assert pooled.shape == (3, 16) and per_stem.shape == (3, 4, 16)
    assert torch.all(per_stem[~mask] == 0)
    assert torch.all(per_stem[mask].abs().sum(-1) > 0)


def test_padded_slots_do_not_change_the_result(stems):
    torch.manual_seed(2)
    x, roles = torch.randn(1, 4, F), torch.tensor([[0, 1, 4, 5]])
    mask = torch.tensor([[True, True, False, False]])
    other = x.clone()
    other[0, 2:] = 100 * torch.randn(2, F)  # garbage where there is no stem
    a, b = stems(x, roles, mask), stems(other, torch.tensor([[0, 1, 2, 3]]), mask)
    torch.testing.assert_close(a[0], b[0])
    torch.testing.assert_close(a[1], b[1])
    # ...and equal the same two stems with no padding at all.
    c = stems(x[:, :2], roles[:, :2])
    torch.testing.assert_close(a[0], c[0], atol=1e-5, rtol=1e-5)


def test_the_order_of_stems_does_not_matter(stems):
    torch.manual_seed(3)
    x, roles = torch.randn(1, 4, F), torch.tensor([[0, 1, 2, 3]])
    perm = torch.tensor([2, 0, 3, 1])
    pooled, per_stem = stems(x, roles)
    pooled_p, per_stem_p = stems(x[:, perm], roles[:, perm])
    torch.testing.assert_close(pooled, pooled_p, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(per_stem[:, perm], per_stem_p, atol=1e-5, rtol=1e-5)


def test_stems_see_each_other_and_their_roles(stems):
    torch.manual_seed(4)
    x, roles = torch.randn(1, 2, F), torch.tensor([[0, 1]])
    _, base = stems(x, roles)
    changed = x.clone()
    changed[0, 1] += 1.0
    _, after = stems(changed, roles)
    assert not torch.allclose(base[0, 0], after[0, 0])  # stem 0 reacts to stem 1
    _, swapped_role = stems(x, torch.tensor([[0, 2]]))
    assert not torch.allclose(base[0, 1], swapped_role[0, 1])  # same audio, other role


def test_a_production_without_stems_is_finite_zeros(stems):
    pooled, per_stem = stems(
        torch.randn(2, 3, F), torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3, dtype=bool)
    )
    assert torch.all(pooled == 0) and torch.all(per_stem == 0)


def test_gradients_reach_every_parameter():
    torch.manual_seed(5)
    enc = StemSetEncoder(hidden=32, out_dim=16, n_heads=2, dropout=0.1).train()
    x, roles = torch.randn(2, 3, F), torch.tensor([[0, 1, 2], [3, 4, 5]])
    pooled, per_stem = enc(x, roles, torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.bool))
    (pooled.pow(2).sum() + per_stem.pow(2).sum()).backward()
    missing = [n for n, p in enc.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    # Role 5's embedding is only used in a padded slot, so its row has no gradient; every
    # parameter tensor as a whole does.
    assert missing == []
    assert torch.all(enc.role.weight.grad[5] == 0)


def test_batch_stem_features_keeps_order_and_pads():
    a = {"drums": np.full(F, 1.0), "bass": np.full(F, 2.0)}
    b = {"vocals": np.full(F, 3.0, dtype=np.float32)}
    feats, roles, mask = batch_stem_features([a, b])
    assert feats.shape == (2, 2, F) and feats.dtype == torch.float32
    assert roles.tolist() == [
        [ROLES.index("drums"), ROLES.index("bass")],
        [ROLES.index("vocals"), 0],
    ]
    assert mask.tolist() == [[True, True], [True, False]]
    assert feats[0, 1, 0] == 2.0 and torch.all(feats[1, 1] == 0)
    assert batch_stem_features([a], max_stems=len(ROLES))[0].shape == (1, len(ROLES), F)
    with pytest.raises(ValueError, match="unknown stem role 'cowbell'"):
        batch_stem_features([{"cowbell": np.zeros(F)}])
