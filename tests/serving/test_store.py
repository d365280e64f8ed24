"""The result store: round trips, ids that cannot name other files, expiry, atomic writes."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from producer.audio.io import load_audio
from producer.errors import AudioInputError
from producer.serving.errors import NotFoundError
from producer.serving.store import ResultStore, new_result_id

SR = 44100


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def audio(seconds: float = 0.5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.5, 0.5, (2, int(seconds * SR))).astype(np.float32)


def put(store: ResultStore, seed: int = 0, **record):
    stems = {"drums": audio(seed=seed + 1), "bass": audio(seed=seed + 2)}
    return store.put({"prompt": "p", **record}, audio(seed=seed), SR, stems)


def test_a_result_round_trips_with_float_stems_bit_for_bit(tmp_path):
    store = ResultStore(tmp_path, ttl_s=60)
    stored = put(store, plan={"bpm": 90})
    found = store.get(stored.id)
    assert found.record["plan"] == {"bpm": 90} and found.roles == ["drums", "bass"]
    assert found.record["sample_rate"] == SR
    stems = store.load_stems(found)
    np.testing.assert_array_equal(stems["drums"], audio(seed=1))  # 32-bit float on disk
    master = load_audio(found.master_path, SR)  # 24-bit PCM: within one step of 2^-23
    np.testing.assert_allclose(master, audio(seed=0), atol=2.0**-22)
    assert sorted(p.name for p in found.folder.iterdir()) == ["master.wav", "result.json", "stems"]


@pytest.mark.parametrize(
    "bad",
    ["../etc", "..", "/etc/passwd", "A" * 32, "0" * 31, "0" * 33, "0" * 31 + "/", "", "x y"],
)
def test_ids_that_are_not_32_hex_digits_are_never_looked_up(tmp_path, bad):
    store = ResultStore(tmp_path / "store", ttl_s=60)
    (tmp_path / "etc").mkdir()
    with pytest.raises(NotFoundError, match="no result"):
        store.get(bad)


def test_stems_are_only_the_results_own_roles(tmp_path):
    store = ResultStore(tmp_path, ttl_s=60)
    stored = put(store)
    for role in ("vocals", "../result", "../../x", "drums.wav"):
        with pytest.raises(NotFoundError, match="has no"):
            stored.stem_path(role)
    assert stored.stem_path("bass").is_file()


def test_unknown_ids_are_not_found(tmp_path):
    store = ResultStore(tmp_path, ttl_s=60)
    with pytest.raises(NotFoundError, match="kept 60 s"):
        store.get(new_result_id())


def test_results_expire_and_the_sweep_deletes_them_and_stale_temp_folders(tmp_path):
    clock = Clock()
    store = ResultStore(tmp_path, ttl_s=60, clock=clock)
    old = put(store, seed=0)
    clock.now += 30
    young = put(store, seed=5)
    stale_tmp = tmp_path / ".tmp-0123"
    stale_tmp.mkdir()
    os.utime(stale_tmp, (0, 0))
    clock.now += 31  # old is 61 s old, young 31 s
    with pytest.raises(NotFoundError):
        store.get(old.id)
    assert not old.folder.exists()  # read as missing and deleted on the spot
    assert store.get(young.id).id == young.id
    clock.now += 30
    assert store.sweep() == 2  # young (expired now) and the crashed write's leftovers
    assert list(tmp_path.iterdir()) == []


def test_maybe_sweep_waits_for_its_interval(tmp_path):
    clock = Clock()
    store = ResultStore(tmp_path, ttl_s=10, clock=clock)
    put(store)
    clock.now += 11
    assert store.maybe_sweep(60) == 0
    clock.now += 60
    assert store.maybe_sweep(60) == 1


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    store = ResultStore(tmp_path, ttl_s=60)
    bad = audio()
    bad[0, 10] = np.nan
    with pytest.raises(AudioInputError, match="NaN"):
        store.put({"prompt": "p"}, bad, SR, {"drums": audio()})
    assert list(tmp_path.iterdir()) == []


def test_a_failed_stem_among_files_written_at_once_leaves_nothing_behind(tmp_path):
    store = ResultStore(tmp_path, ttl_s=60)
    bad = audio()
    bad[1, 5] = np.inf
    stems = {"drums": audio(), "bass": audio(), "harmony": bad, "melody": audio()}
    with pytest.raises(AudioInputError):
        store.put({"prompt": "p"}, audio(), SR, stems)
    assert list(tmp_path.iterdir()) == []


def test_a_rerender_shares_the_stems_of_its_parent(tmp_path):
    store = ResultStore(tmp_path, ttl_s=60)
    parent = put(store)
    child = store.put({"prompt": "p"}, audio(seed=9), SR, stems_from=parent)
    assert child.roles == parent.roles
    a, b = parent.stem_path("drums").stat(), child.stem_path("drums").stat()
    assert (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev)  # hard-linked, not copied
    np.testing.assert_array_equal(store.load_stems(child)["bass"], audio(seed=2))


def test_stems_written_early_stay_hidden_until_the_result_is_committed(tmp_path):
    store = ResultStore(tmp_path, ttl_s=60)
    pending = store.begin()
    pending.write_stems({"drums": audio(seed=1), "bass": audio(seed=2)}, SR)
    with pytest.raises(NotFoundError):  # stems on their way, but no result yet
        store.get(pending.id)
    assert [p.name for p in tmp_path.iterdir()] == [f".tmp-{pending.id}"]
    stored = pending.commit({"prompt": "p"}, audio(seed=0), SR)
    found = store.get(pending.id)
    assert found.roles == ["drums", "bass"] == stored.roles
    np.testing.assert_array_equal(store.load_stems(found)["bass"], audio(seed=2))
    assert [p.name for p in tmp_path.iterdir()] == [pending.id]
    with pytest.raises(RuntimeError, match="already committed"):
        pending.commit({"prompt": "p"}, audio(), SR)


def test_an_aborted_result_is_removed_once_its_stem_writes_finish(tmp_path):
    store = ResultStore(tmp_path, ttl_s=60)
    pending = store.begin()
    long = {role: audio(seconds=20, seed=i) for i, role in enumerate(["drums", "bass", "melody"])}
    pending.write_stems(long, SR)
    pending.abort()  # returns at once, while the writes may still run
    for _ in range(200):
        if not any(tmp_path.iterdir()):
            break
        time.sleep(0.05)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError, match="already committed or aborted"):
        pending.commit({"prompt": "p"}, audio(), SR)


def test_a_bad_master_at_commit_removes_the_early_stems_too(tmp_path):
    store = ResultStore(tmp_path, ttl_s=60)
    pending = store.begin()
    pending.write_stems({"drums": audio()}, SR)
    bad = audio()
    bad[0, 3] = np.nan
    with pytest.raises(AudioInputError, match="NaN"):
        pending.commit({"prompt": "p"}, bad, SR)
    assert list(tmp_path.iterdir()) == []


def test_pending_results_refuse_unknown_or_repeated_roles_and_mismatched_rates(tmp_path):
    store = ResultStore(tmp_path, ttl_s=60)
    pending = store.begin()
    with pytest.raises(ValueError, match="unknown stem roles"):
        pending.write_stems({"kazoo": audio()}, SR)
    pending.write_stems({"drums": audio()}, SR)
    with pytest.raises(ValueError, match="given twice"):
        pending.write_stems({"drums": audio()}, SR)
    with pytest.raises(ValueError, match="48000 Hz"):
        pending.commit({"prompt": "p"}, audio(), 48000)
    pending.abort(wait_writes=True)
    assert list(tmp_path.iterdir()) == []
