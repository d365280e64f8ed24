"""`RunningNorm`: cumulative standardisation statistics kept as buffers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from producer.modules.norm import RunningNorm


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _batches(seed: int = 0):
    """(x, mask) batches of mixed sizes, incl. a single row, a fully masked batch, no mask."""
    rng = np.random.default_rng(seed)
    # Large offsets and different spreads per column: a naive sum-of-squares update would lose
    # precision here; Chan's update must not.
    loc = np.array([1000.0, -3.0, 0.0, 50.0])
    scale = np.array([5.0, 0.01, 1.0, 200.0])
    out = []
    for n, kind in [
        (7, "mask"),
        (1, "all"),
        (5, "none"),
        (12, "mask"),
        (3, "masked-out"),
        (1, "none"),
    ]:
        x = torch.tensor(rng.normal(loc, scale, size=(n, 4)), dtype=torch.float32)
        if kind == "mask":
            mask = torch.tensor(rng.random(n) < 0.6)
            mask[0] = True  # at least one real row
        elif kind == "all":
            mask = torch.ones(n, dtype=torch.bool)
        elif kind == "masked-out":
            mask = torch.zeros(n, dtype=torch.bool)
        else:
            mask = None
        out.append((x, mask))
    return out


def _kept_rows(batches) -> np.ndarray:
    rows = [(x if mask is None else x[mask]).double().numpy() for x, mask in batches]
    return np.concatenate(rows, axis=0)


def test_identity_before_any_update():
    norm = RunningNorm(3).eval()
    x = torch.randn(5, 3) * 7 + 2
    assert torch.equal(norm(x), x)
    assert torch.equal(norm.mean, torch.zeros(3, dtype=torch.float64))
    assert torch.equal(norm.std, torch.ones(3, dtype=torch.float64))
    assert float(norm.count) == 0


def test_statistics_equal_numpy_over_unmasked_rows_of_all_batches():
    norm = RunningNorm(4).train()
    batches = _batches()
    for x, mask in batches:
        norm(x, mask)
    rows = _kept_rows(batches)
    assert float(norm.count) == rows.shape[0]
    np.testing.assert_allclose(norm.mean.numpy(), rows.mean(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(norm.std.numpy(), rows.std(0, ddof=1), rtol=1e-10)


def test_masked_rows_never_count():
    """Putting wild values in the masked rows changes nothing."""
    a, b = RunningNorm(4).train(), RunningNorm(4).train()
    for x, mask in _batches(seed=1):
        a(x, mask)
        if mask is not None:
            x = x.clone()
            x[~mask] = 1e6
        b(x, mask)
    for name in ("count", "mean", "m2"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name


def test_two_dimensional_float_mask_is_accepted():
    norm = RunningNorm(2).train()
    x = torch.tensor([[1.0, 10.0], [3.0, 30.0], [100.0, -100.0]])
    norm(x, torch.tensor([[1.0], [1.0], [0.0]]))
    assert float(norm.count) == 2
    np.testing.assert_allclose(norm.mean.numpy(), [2.0, 20.0])
    np.testing.assert_allclose(norm.std.numpy(), [np.sqrt(2.0), np.sqrt(200.0)])


def test_one_row_sets_mean_but_keeps_unit_std():
    norm = RunningNorm(2).train()
    norm(torch.tensor([[4.0, -2.0]]))
    np.testing.assert_allclose(norm.mean.numpy(), [4.0, -2.0])
    assert torch.equal(norm.std, torch.ones(2, dtype=torch.float64))


def test_eval_mode_does_not_update():
    norm = RunningNorm(4).train()
    for x, mask in _batches()[:3]:
        norm(x, mask)
    before = {k: v.clone() for k, v in norm.state_dict().items()}
    norm.eval()
    for x, mask in _batches(seed=5):
        norm(x, mask)
    for k, v in norm.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_output_is_standardised_on_the_data_it_was_fit_on():
    torch.manual_seed(0)
    data = torch.randn(600, 3) * torch.tensor([0.01, 3.0, 40.0]) + torch.tensor([5.0, -1.0, 900.0])
    norm = RunningNorm(3).train()
    for chunk in data.split(64):
        norm(chunk)
    out = norm.eval()(data).double()
    np.testing.assert_allclose(out.mean(0).numpy(), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(0).numpy(), 1.0, atol=1e-4)


def test_constant_feature_stays_finite():
    norm = RunningNorm(2).train()
    x = torch.stack([torch.full((10,), 3.0), torch.arange(10.0)], dim=1)
    out = norm(x)
    assert torch.isfinite(out).all()
    assert torch.equal(out[:, 0], torch.zeros(10))
    assert float(norm.std[0]) == pytest.approx(norm.eps)


def _fitted() -> RunningNorm:
    norm = RunningNorm(4).train()
    for x, mask in _batches(seed=2):
        norm(x, mask)
    return norm.eval()


def test_statistics_survive_a_state_dict_round_trip():
    norm = _fitted()
    state = norm.state_dict()
    assert set(state) == {"count", "mean", "m2"}
    fresh = RunningNorm(4)
    fresh.load_state_dict(state)
    fresh.eval()
    x = torch.randn(6, 4) * 100
    assert torch.equal(fresh(x), norm(x))
    assert torch.equal(fresh.std, norm.std)


def test_statistics_survive_safetensors(tmp_path):
    from safetensors.torch import load_file, save_file

    norm = _fitted()
    path = tmp_path / "norm.safetensors"
    save_file(norm.state_dict(), str(path))
    loaded = load_file(str(path))
    assert loaded["mean"].dtype == torch.float64
    fresh = RunningNorm(4)
    fresh.load_state_dict(loaded)
    for name in ("count", "mean", "m2"):
        assert torch.equal(getattr(fresh, name), getattr(norm, name)), name
    x = torch.randn(3, 4)
    assert torch.equal(fresh.eval()(x), norm(x))


def test_gradient_reaches_input_but_not_the_statistics():
    norm = RunningNorm(3).train()
    x = (torch.randn(8, 3) * 5 + 1).requires_grad_(True)
    out = norm(x)  # updates the statistics with this very batch, then standardises
    for buf in norm.buffers():
        assert not buf.requires_grad
    assert list(norm.parameters()) == []
    out.sum().backward()
    # The statistics are constants for autograd: d(sum out)/dx = 1/std for every row. (Were the
    # batch mean differentiated through, the gradient of the sum would be 0.)
    expected = (1.0 / norm.std.float()).expand(8, 3)
    torch.testing.assert_close(x.grad, expected)
    assert all(b.grad is None for b in norm.buffers())


def _rank_updates(rank: int, world: int, port: int, rows, out) -> None:
    """One rank of a gloo group: fold its half of every batch, then hand back its statistics."""
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    try:
        norm = RunningNorm(rows[0].shape[1]).train()
        for batch in rows:
            norm(torch.as_tensor(np.array_split(batch, world)[rank]))
        out.put((rank, norm.count.item(), norm.mean.numpy().copy(), norm.m2.numpy().copy()))
    finally:
        dist.destroy_process_group()


def test_ranks_of_a_process_group_fold_in_every_ranks_rows():
    """Under data parallelism each rank sees half a batch; the statistics must be those of the
    whole batch, the same on every rank (else rank 0's export would know half the data)."""
    import socket

    import torch.multiprocessing as mp

    rng = np.random.default_rng(3)
    rows = [rng.normal(100.0, 7.0, size=(n, 4)) for n in (8, 6, 3)]  # 3 rows: one rank gets 1
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_rank_updates, args=(r, 2, port, rows, out)) for r in (0, 1)]
    for p in procs:
        p.start()
    got = sorted(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0

    single = RunningNorm(4).train()
    for batch in rows:
        single(torch.as_tensor(batch))
    for _, count, mean, m2 in got:
        assert count == sum(len(b) for b in rows) == single.count.item()
        np.testing.assert_allclose(mean, single.mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(m2, single.m2.numpy(), rtol=1e-9)
