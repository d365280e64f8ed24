"""The Ray Data preprocessing job on a 6-song synthetic corpus, with a local in-process Ray.

Corpus: songs 0 and 1 lose their stems (the tiny Demucs separates them), song 2's mix is
garbage bytes and song 3's JSON is not JSON (both must land in the errors table), songs 4 and 5
are fine. The tests run in file order and share one output folder.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from producer.errors import ProducerError
from ray_jobs.preprocess import (
    ROW_KEYS,
    PreprocessSettings,
    load_errors,
    load_shards,
    preprocess,
)

pytestmark = pytest.mark.slow

SR = 32000  # the drum generator needs > 24 kHz
STEMLESS = ("song_00000", "song_00001")
BROKEN = ("song_00002", "song_00003")  # garbage mix, bad JSON


@pytest.fixture(scope="module")
def ray_local():
    import ray

    from ray_jobs.preprocess import local_workers_use_this_python

    local_workers_use_this_python()
    ray.init(
        num_cpus=2,
        object_store_memory=200 * 1024**2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from producer.audio.separation import save_local_demucs
    from producer.data.synth import synthesize_corpus
    from tests.audio.tiny_demucs import tiny_htdemucs

    root = tmp_path_factory.mktemp("pre")
    data = root / "data"
    synthesize_corpus(data, 6, seed=5, duration=1.5, sample_rate=SR, progress=False, workers=1)
    songs = {p.name: p for p in data.glob("*/song_*")}
    assert len(songs) == 6
    for name in STEMLESS:
        shutil.rmtree(songs[name] / "stems")
        (songs[name] / f"{name}.dsp").unlink(missing_ok=True)
    (songs[BROKEN[0]] / f"{BROKEN[0]}.wav").write_bytes(b"RIFF\x00\x00garbage" * 50)
    (songs[BROKEN[1]] / f"{BROKEN[1]}.json").write_text("{not json")
    save_local_demucs(tiny_htdemucs(), None, root / "demucs")
    settings = PreprocessSettings(
        data_dir=str(data),
        output_dir=str(root / "out"),
        separator=str(root / "demucs"),
        separator_actors=1,
        batch_size=2,
        sample_rate=SR,
        quality_copies=2,
        seed=0,
    )
    return songs, settings


@pytest.fixture(scope="module")
def first(ray_local, setup):
    _, settings = setup
    return preprocess(settings, progress=False)


def test_first_run_separates_writes_rows_and_lists_errors(first, setup):
    songs, settings = setup
    assert (first.done, first.skipped, first.failed, first.separated) == (4, 0, 2, 2)
    for name in STEMLESS:
        stems = sorted(p.name for p in (songs[name] / "stems").glob("*.wav"))
        assert stems == ["bass.wav", "drums.wav", "other.wav", "vocals.wav"]
        assert not list(songs[name].glob(".stems-*"))  # no temp folder left behind
    rows = load_shards(settings.output_dir)
    assert sorted(Path(r["path"]).name for r in rows) == [*STEMLESS, "song_00004", "song_00005"]
    errors = {Path(e["path"]).name: e for e in load_errors(settings.output_dir)}
    assert set(errors) == set(BROKEN)
    mix, meta = errors[BROKEN[0]], errors[BROKEN[1]]
    assert mix["stage"] == "analyze" and f"{BROKEN[0]}.wav" in mix["reason"]
    assert meta["stage"] == "analyze" and f"{BROKEN[1]}.json" in meta["reason"]


@pytest.mark.filterwarnings("ignore:skipped .*:UserWarning")
def test_rows_are_exactly_the_in_process_rows(first, setup):
    """Same keys, dtypes, shapes and values as `load_rows` (the trainer's own loader)."""
    from producer.training.trainer import load_rows

    _, settings = setup
    shards = {r["path"]: r for r in load_shards(settings.output_dir)}
    direct = {
        r["path"]: r
        for r in load_rows(
            settings.data_dir,
            sample_rate=SR,
            quality_copies=settings.quality_copies,
            seed=settings.seed,
            progress=False,
        )
    }
    assert set(shards) == set(direct)
    for path, want in direct.items():
        got = shards[path]
        assert set(got) == set(want) == set(ROW_KEYS)
        for key, value in want.items():
            if isinstance(value, np.ndarray):
                assert got[key].dtype == value.dtype and got[key].shape == value.shape, key
                np.testing.assert_array_equal(got[key], value, err_msg=key)
            elif isinstance(value, float) and math.isnan(value):
                assert math.isnan(got[key]), key
            else:
                assert got[key] == value and type(got[key]) is type(value), key
    separated = [r for p, r in shards.items() if Path(p).name in STEMLESS]
    assert all(r["stem_mask"].sum() == 4 and r["faust_script"] for r in separated)


def test_shard_rows_train(first, setup):
    from producer.training.trainer import TrainConfig, UnifiedProducerTrainer
    from tests.training.conftest import debug_model

    _, settings = setup
    trainer = UnifiedProducerTrainer(
        debug_model(),
        rows=load_shards(settings.output_dir),
        config=TrainConfig(epochs=1, batch_size=2, progress=False),
    )
    losses = trainer.train_epoch()
    assert losses and all(math.isfinite(v) for v in losses.values())


def test_rerun_skips_done_songs_and_retries_failed_ones(first, setup):
    _, settings = setup
    again = preprocess(settings, progress=False)
    assert (again.done, again.skipped, again.failed, again.separated) == (0, 4, 2, 0)
    assert len(load_shards(settings.output_dir)) == 4
    assert {Path(e["path"]).name for e in load_errors(settings.output_dir)} == set(BROKEN)


def test_a_lost_shard_is_redone_and_only_it(first, setup):
    """A crash loses at most the shards not yet written: the re-run redoes exactly those."""
    _, settings = setup
    shards = sorted((Path(settings.output_dir) / "shards").glob("part-*.parquet"))
    lost = pq.read_table(shards[0]).num_rows
    shards[0].unlink()
    (shards[0].parent / ".part-x.parquet.abc.tmp").write_bytes(b"half a shard")
    again = preprocess(settings, progress=False)
    assert (again.done, again.skipped) == (lost, 4 - lost)
    assert len(load_shards(settings.output_dir)) == 4
    assert not list(shards[0].parent.glob(".*.tmp"))


def test_an_output_folder_keeps_its_settings(first, setup):
    _, settings = setup
    with pytest.raises(ProducerError, match="another output folder"):
        preprocess({**settings.__dict__, "sample_rate": 44100}, progress=False)
    with pytest.raises(ProducerError, match="unknown preprocess settings"):
        preprocess({**settings.__dict__, "workers": 3}, progress=False)
