"""The Ray Train + DeepSpeed job end to end, on a local in-process Ray with 3 logical CPUs.

Corpus: 13 synthetic songs. Four lose their stems (a tiny local Demucs separates them) and one
has a garbage mix (it must land in the errors table), so 12 songs become training rows. Then:
two CPU workers train with ZeRO-2 over gloo, export a model that `producer demo` loads, a rerun
continues the run, and a worker killed mid-run is replaced from the last checkpoint.
The tests run in file order and share the shards.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from producer.cli import main as producer_main
from producer.data.shards import load_shards
from ray_jobs.config import load_config
from ray_jobs.preprocess import PreprocessSettings, load_errors, preprocess
from ray_jobs.train import FAULT_MARKER, loop_config, train
from tests.ray_jobs.corpus import SR, make_corpus

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "ray_jobs" / "configs" / "local-cpu.yaml"
STEMLESS = ("song_00000", "song_00001", "song_00002", "song_00003")
CORRUPT = "song_00004"


@pytest.fixture(scope="module")
def ray_local():
    import ray

    from ray_jobs.preprocess import local_workers_use_this_python

    local_workers_use_this_python()
    # Two training workers take a CPU each; the third feeds them (Ray Data) and separates.
    ray.init(
        num_cpus=3,
        object_store_memory=300 * 1024**2,
        include_dashboard=True,  # Ray Train's placement-group cleaner polls the state API
        dashboard_host="127.0.0.1",
        log_to_driver=False,
        configure_logging=False,
    )
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    songs = make_corpus(root, 13, seed=3, stemless=STEMLESS, garbage_mix=[CORRUPT])
    return root, songs


def _settings(root: Path) -> PreprocessSettings:
    return PreprocessSettings(
        data_dir=str(root / "data"),
        output_dir=str(root / "pre"),
        separator=str(root / "demucs"),
        batch_size=4,
        sample_rate=SR,
        quality_copies=2,
    )


@pytest.fixture(scope="module")
def shards(ray_local, corpus):
    root, _ = corpus
    report = preprocess(_settings(root), progress=False)
    return root, report


def _job(root: Path, run: str, *overrides: str):
    sets = [
        f"train.data={root / 'pre'}",
        f"train.storage_path={root / 'runs'}",
        f"train.run_name={run}",
        "train.max_tokens=128",
        *overrides,
    ]
    return load_config(CONFIG, sets).train


def test_preprocess_separates_the_stemless_songs_and_lists_the_corrupt_one(shards, corpus):
    root, report = shards
    _, songs = corpus
    assert (report.done, report.failed, report.separated) == (12, 1, 4)
    for name in STEMLESS:
        assert sorted(p.name for p in (songs[name] / "stems").glob("*.wav"))
    errors = load_errors(root / "pre")
    assert [Path(e["path"]).name for e in errors] == [CORRUPT]
    assert len(load_shards(root / "pre")) == 12


def test_rerunning_the_preprocessing_processes_no_song(shards):
    root, _ = shards
    again = preprocess(_settings(root), progress=False)
    assert again.done == 0 and again.skipped == 12
    assert [Path(e["path"]).name for e in load_errors(root / "pre")] == [CORRUPT]


def test_two_zero2_workers_train_and_export_a_model_the_demo_loads(shards, tmp_path, capsys):
    from producer.models.unified import UnifiedProducerModel

    root, _ = shards
    job = _job(root, "accept", "train.epochs=2")
    assert job.num_workers == 2 and job.deepspeed.zero_stage == 2 and not job.use_gpu
    report = train(job)

    assert (report.epochs, report.steps, report.rows) == (2, 4, 12)  # 6 songs a rank, batch 4
    assert [h["epoch"] for h in report.history] == [1, 2]
    for h in report.history:
        assert all(np.isfinite(h[k]) for k in ("planning_loss", "quality_loss", "faust_loss"))
    # DeepSpeed's sharded checkpoint: each rank wrote its own optimizer shard into it.
    ckpt = Path(report.checkpoint) / "deepspeed"
    shards_written = sorted(p.name for p in ckpt.glob("zero_pp_rank_*_optim_states.pt"))
    assert shards_written == [f"zero_pp_rank_{r}_mp_rank_00_optim_states.pt" for r in (0, 1)]
    assert json.loads((Path(report.checkpoint) / "progress.json").read_text())["epoch"] == 2

    model = UnifiedProducerModel.from_pretrained(report.export_dir)
    # The quality statistics are folded across both ranks: every real quality row of both
    # epochs, not just rank 0's half.
    rows = load_shards(root / "pre")
    expected = 2 * sum(len(r["quality_score"]) for r in rows)
    assert float(model.quality_norm.count) == expected

    out = tmp_path / "beat.wav"
    code = producer_main(
        [
            "demo",
            "--checkpoint",
            report.export_dir,
            "--output",
            str(out),
            "--duration",
            "4",
            "--candidates",
            "1",
            "--no-plot",
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    import soundfile as sf

    info = sf.info(str(out))
    assert info.duration == pytest.approx(4.0, abs=0.05) and info.channels == 2


def test_running_the_job_again_continues_the_run(shards):
    root, _ = shards
    report = train(_job(root, "accept", "train.epochs=3"))
    assert (report.epochs, report.steps) == (3, 6)
    assert [h["epoch"] for h in report.history] == [1, 2, 3]
    assert [h["start"] for h in report.history] == [1, 1, 2]  # epoch 3 ran after a restart


def test_a_killed_worker_is_replaced_and_the_epoch_count_continues(shards):
    root, _ = shards
    job = _job(
        root,
        "fault",
        "train.epochs=3",
        "train.max_failures=1",
        "train.fault_injection={kill_rank: 1, kill_at_step: 3}",  # step 3 = epoch 2's first
    )
    report = train(job)
    assert (root / "runs" / "fault" / FAULT_MARKER).read_text() == "3"  # the kill happened
    assert (report.epochs, report.steps) == (3, 6)
    # Epoch 1 ran once, before the kill; epochs 2 and 3 ran in the restarted group, which
    # resumed from epoch 1's checkpoint instead of starting over.
    assert [h["epoch"] for h in report.history] == [1, 2, 3]
    assert [h["start"] for h in report.history] == [1, 2, 2]


def test_loop_config_splits_rows_evenly_over_workers(tmp_path):
    job = load_config(CONFIG, [f"train.data={tmp_path}", "train.batch_size=4"]).train
    c = loop_config(job, rows=13)
    assert c["rows_per_worker"] == 6 and c["micro_batches_per_epoch"] == 2
    assert c["total_steps"] == 2 * job.epochs
    assert c["export_dir"] == str(Path(job.resolved_storage_path()) / job.run_name / "export")


def test_cli_without_shards_is_one_line_and_exit_2(tmp_path, capsys):
    code = producer_main(
        ["train", "--config", str(CONFIG), "--set", f"train.data={tmp_path / 'none'}"]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "no training shards" in err


def test_cli_config_without_a_train_section(tmp_path, capsys):
    cfg = tmp_path / "pre-only.yaml"
    cfg.write_text("preprocess:\n  data_dir: d\n  output_dir: o\n")
    assert producer_main(["train", "--config", str(cfg)]) == 2
    assert "no 'train' section" in capsys.readouterr().err


def test_cli_single_process_training_still_needs_a_data_dir(capsys):
    assert producer_main(["train"]) == 2
    assert "--data-dir" in capsys.readouterr().err


def test_build_model_starts_from_init_or_the_preset(tmp_path, one_torch_thread):
    import torch

    from producer.models.unified import UnifiedProducerModel
    from ray_jobs.train import build_model

    torch.manual_seed(0)
    saved = UnifiedProducerModel.from_config(_debug_config())
    saved.save_pretrained(tmp_path / "init")
    job = load_config(CONFIG, [f"train.data={tmp_path}", f"train.init={tmp_path / 'init'}"]).train
    model = build_model(job, torch.device("cpu"))
    for (name, a), (_, b) in zip(
        model.state_dict().items(), saved.state_dict().items(), strict=True
    ):
        torch.testing.assert_close(a, b, msg=name)

    lora = load_config(CONFIG, [f"train.data={tmp_path}", "train.lora.enabled=true"]).train
    adapted = build_model(lora, torch.device("cpu"))
    assert any("lora_A" in n for n, _ in adapted.named_parameters())


def _debug_config():
    from producer.models.config import preset

    return preset("debug")


def test_cli_flags_beside_config_become_overrides_and_set_wins():
    from producer.cli import build_parser
    from producer.cli.model import config_overrides

    argv = ["train", "--config", str(CONFIG), "--epochs", "3", "--lr", "0.01", "--init", "default"]
    args = build_parser().parse_args([*argv, "--set", "train.epochs=5"])
    overrides = config_overrides(args)
    assert overrides == ["train.epochs=3", "train.lr=0.01", "train.init=default", "train.epochs=5"]
    job = load_config(CONFIG, overrides).train
    assert (job.epochs, job.lr, job.init) == (5, 0.01, "default")
    # Flags not given stay out of the overrides: the config's own values hold.
    assert config_overrides(build_parser().parse_args(["train", "--config", str(CONFIG)])) == []


@pytest.mark.parametrize("flag", [["--device", "cuda"], ["--resume"], ["--data-dir", "songs"]])
def test_cli_flags_with_no_place_in_a_job_config_are_refused_in_one_line(flag, capsys):
    assert producer_main(["train", "--config", str(CONFIG), *flag]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and flag[0] in err and "--config" in err
