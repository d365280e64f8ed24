"""The Ray Data preprocessing job on a 6-song synthetic corpus, with a local in-process Ray.

Corpus: songs 0 and 1 lose their stems (the tiny Demucs separates them), song 2's mix is
garbage bytes and song 3's JSON is not JSON (both must land in the errors table), songs 4 and 5
are fine. The tests run in file order and share one output folder (and the data folder: once
the first run has written the stems, later runs have nothing to separate). The tests of
songs_per_shard, max_errors, overwrite and the CLI reuse the same Ray and corpus; each such run
takes a second or two.
"""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from producer.data.shards import ROW_KEYS, load_shards
from producer.errors import ProducerError
from ray_jobs.preprocess import PreprocessSettings, load_errors, preprocess
from tests.ray_jobs.corpus import SR, make_corpus

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
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
    root = tmp_path_factory.mktemp("pre")
    data = root / "data"
    songs = make_corpus(
        root, 6, seed=5, stemless=STEMLESS, garbage_mix=BROKEN[:1], bad_json=BROKEN[1:]
    )
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
        preprocess({**settings.model_dump(), "sample_rate": 44100}, progress=False)
    with pytest.raises(ProducerError, match=r"unknown key 'preprocess\.workers'"):
        preprocess({**settings.model_dump(), "workers": 3}, progress=False)


def _with(settings, **changes):
    """The settings with some fields changed."""
    return settings.model_copy(update=changes)


# --- settings --------------------------------------------------------------------------------


def test_settings_in_python_are_checked_as_the_config_section_is():
    """A bad value or unknown key given in Python gets the config file's one-line error."""
    from ray_jobs.config import ConfigError

    with pytest.raises(ConfigError, match=r"preprocess\.batch_size"):
        preprocess({"data_dir": "d", "output_dir": "o", "batch_size": 0}, progress=False)
    with pytest.raises(ConfigError, match=r"unknown key 'preprocess\.shuffle'"):
        preprocess({"data_dir": "d", "output_dir": "o", "shuffle": True}, progress=False)


def test_settings_from_config_maps_every_key():
    from ray_jobs.preprocess import settings_from_config

    s = settings_from_config(
        ROOT / "ray_jobs/configs/local-cpu.yaml",
        [
            "preprocess.songs_per_shard=5",
            "preprocess.max_errors=7",
            "preprocess.analysis_concurrency=3",
            "preprocess.analysis_num_cpus=0.5",
            "preprocess.separator_download=true",
            "preprocess.overwrite=true",
        ],
    )
    assert (s.songs_per_shard, s.max_errors, s.overwrite, s.separator_download) == (5, 7, 1, 1)
    assert (s.analysis_concurrency, s.analysis_num_cpus) == (3, 0.5)


def test_a_config_key_the_settings_lack_is_refused():
    from ray_jobs.config import ConfigError, PreprocessConfig
    from ray_jobs.preprocess import settings_from_section

    section = PreprocessConfig(data_dir="d", output_dir="o").model_dump()
    assert settings_from_section(section).output_dir == "o"
    with pytest.raises(ConfigError, match=r"x\.yaml: unknown key 'preprocess\.shuffle'"):
        settings_from_section({**section, "shuffle": True}, source="x.yaml")


# --- shards, max_errors, overwrite, progress -------------------------------------------------
# These run after the tests above: the stemless songs have their stems by now, so no run below
# needs the separator.


def _shard_sizes(output_dir) -> list[int]:
    shards = sorted((Path(output_dir) / "shards").glob("part-*.parquet"))
    return [pq.read_table(p).num_rows for p in shards]


def test_rows_gather_into_shards_of_songs_per_shard(first, setup, tmp_path, capsys):
    """4 good songs in batches of 2, 3 songs a shard: a full shard across batches, then the rest.

    stderr is not a terminal here, so progress comes as plain lines (one per shard)."""
    _, settings = setup
    out = tmp_path / "out"
    s = _with(settings, output_dir=str(out), songs_per_shard=3)
    report = preprocess(s, progress=True)
    assert (report.done, report.failed, report.shards) == (4, 2, 2)
    assert _shard_sizes(out) == [3, 1]
    assert len(load_shards(out)) == 4
    assert [n for _, n in report.timeline] == sorted(n for _, n in report.timeline)
    assert report.timeline[-1][1] == 6
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = [line for line in err.splitlines() if line.startswith("preprocess:")]
    assert lines[0] == "preprocess: 6 songs to do (0 already in a shard)"
    assert re.fullmatch(r"preprocess: 6/6 songs, 2 failed, [\d.]+ songs/s, 2 shards", lines[-1])
    assert any(re.search(r", 1 shards$", line) for line in lines)  # a line when a shard lands


def test_max_errors_stops_the_job_and_keeps_what_finished(first, setup, tmp_path):
    """One analysis task at a time: songs come back in order, so the stop lands on batch 2
    (songs 2 and 3, both broken), after songs 0 and 1 made rows and before 4 and 5 ran."""
    _, settings = setup
    out = tmp_path / "out"
    s = _with(
        settings, output_dir=str(out), max_errors=1, analysis_concurrency=1, songs_per_shard=64
    )
    with pytest.raises(ProducerError) as info:
        preprocess(s, progress=False)
    message = str(info.value)
    assert "\n" not in message
    assert message.endswith(f"2 songs failed (max_errors 1); see {out / 'errors.parquet'}")
    assert {Path(e["path"]).name for e in load_errors(out)} == set(BROKEN)
    kept = sorted(Path(r["path"]).name for r in load_shards(out))
    assert kept == ["song_00000", "song_00001"]  # held rows flushed, as one shard
    assert _shard_sizes(out) == [2]
    # The rows kept are finished work: the next run (no limit) does the rest only.
    again = preprocess(_with(s, max_errors=None), progress=False)
    assert (again.done, again.skipped, again.failed) == (2, 2, 2)
    assert len(load_shards(out)) == 4


def test_overwrite_redoes_every_song_and_replaces_the_shards(first, setup):
    _, settings = setup
    out = Path(settings.output_dir)
    before_files = {p.name for p in (out / "shards").glob("part-*.parquet")}
    before = load_shards(out)
    again = preprocess(_with(settings, overwrite=True), progress=False)
    assert (again.done, again.skipped, again.failed, again.separated) == (4, 0, 2, 0)
    after_files = {p.name for p in (out / "shards").glob("part-*.parquet")}
    assert after_files and not after_files & before_files  # every old shard is gone
    after = load_shards(out)
    assert [r["path"] for r in after] == [r["path"] for r in before]
    for old, new in zip(before, after, strict=True):  # same seed: the same rows again
        np.testing.assert_array_equal(old["audio_feat"], new["audio_feat"])
    assert sorted(p.name for p in out.iterdir()) == ["errors.parquet", "settings.json", "shards"]


def test_a_stopped_overwrite_keeps_the_old_shards(first, setup):
    _, settings = setup
    out = Path(settings.output_dir)
    before = {p.name for p in (out / "shards").glob("part-*.parquet")}
    s = _with(settings, overwrite=True, max_errors=0)
    with pytest.raises(ProducerError, match=r"songs failed \(max_errors 0\)"):
        preprocess(s, progress=False)
    assert {p.name for p in (out / "shards").glob("part-*.parquet")} == before
    assert len(load_shards(out)) == 4
    assert sorted(p.name for p in out.iterdir()) == ["errors.parquet", "settings.json", "shards"]


def test_a_swap_cut_between_its_renames_is_finished(first, setup, tmp_path):
    """A crash after `shards/` was set aside but before the new folder took its place."""
    _, settings = setup
    out = tmp_path / "out"
    shutil.copytree(settings.output_dir, out)
    shards = sorted((out / "shards").glob("part-*.parquet"))
    lost = pq.read_table(shards[0]).num_rows
    (out / "shards").rename(out / ".shards-old-r1")
    shutil.copytree(out / ".shards-old-r1", out / ".shards-new-r1")
    (out / ".shards-new-r1" / shards[0].name).unlink()  # tell the new folder from the old one
    again = preprocess(_with(settings, output_dir=str(out)), progress=False)
    # The new folder took the place (the old one had the shard): only its missing rows are redone.
    assert not (out / "shards" / shards[0].name).exists()
    assert (again.done, again.skipped) == (lost, 4 - lost)
    assert len(load_shards(out)) == 4
    assert sorted(p.name for p in out.iterdir()) == ["errors.parquet", "settings.json", "shards"]


def test_cli_flags_and_one_line_stop(first, setup, tmp_path, capsys):
    from ray_jobs.preprocess import main

    _, settings = setup
    out = tmp_path / "out"
    args = ["--data-dir", settings.data_dir, "--output-dir", str(out), "--sample-rate", str(SR)]
    args += ["--separator", settings.separator, "--quality-copies", "2", "--batch-size", "6"]
    assert main([*args, "--max-errors", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: preprocess stopped: 2 songs failed (max_errors 1)")
    assert "\n" not in err
    assert _shard_sizes(out) == [4]  # one batch of 6: its 4 rows were flushed before the stop
    assert main([*args, "--overwrite", "--songs-per-shard", "2"]) == 0
    summary = capsys.readouterr().out.strip()
    assert summary.startswith("done 4, skipped 0, failed 2 (0 separated)")
    assert "2 new shards" in summary and "\n" not in summary
    assert _shard_sizes(out) == [2, 2]


def test_progress_lines_keep_coming_while_nothing_finishes():
    """Not a terminal: a timer line every interval (Ray may take a while to start), one per
    shard, and the final state once."""
    import io
    import time

    from ray_jobs.preprocess import _Progress

    stream = io.StringIO()
    bar = _Progress(total=3, skipped=1, enabled=True, stream=stream, interval=0.05)
    time.sleep(0.3)
    bar.update(2, done=2, failed=0, new_shards=1)
    bar.update(1, done=2, failed=1, new_shards=0)
    bar.close(new_shards=1)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "preprocess: 3 songs to do (1 already in a shard)"
    assert sum(line.startswith("preprocess: 0/3 songs, 0 failed") for line in lines) >= 2
    assert any(line.endswith(", 1 shards") and "2/3 songs" in line for line in lines)
    assert re.fullmatch(r"preprocess: 3/3 songs, 1 failed, [\d.]+ songs/s, 2 shards", lines[-1])
    silent = io.StringIO()
    _Progress(total=3, skipped=0, enabled=False, stream=silent, interval=0.01).close()
    assert silent.getvalue() == ""
