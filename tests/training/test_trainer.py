"""UnifiedProducerTrainer: losses go down, Faust-only mode, resume, evaluation, the CLI."""

from __future__ import annotations

import json
import math

import pytest
import torch

from producer.cli import main
from producer.faust.validate import validate
from producer.training.trainer import TrainConfig, UnifiedProducerTrainer
from tests.training.conftest import debug_model


def _trainer(rows, **overrides):
    cfg = dict(batch_size=3, epochs=12, warmup_steps=2, lr=3e-3, progress=False)
    cfg.update(overrides)
    return UnifiedProducerTrainer(debug_model(), rows=rows, config=TrainConfig(**cfg))


def test_a_tiny_training_run_lowers_all_three_losses(rows):
    trainer = _trainer(rows)
    first = trainer.train_epoch()
    assert set(first) == {"planning_loss", "quality_loss", "faust_loss"}
    for _ in range(11):
        last = trainer.train_epoch()
    for name in first:
        assert last[name] < first[name], (name, first[name], last[name])
    assert trainer.state.epoch == 12 and len(trainer.state.history) == 12


def test_faust_only_mode_leaves_the_heads_alone(rows):
    trainer = _trainer(rows, tasks=("faust",))
    heads = {
        k: v.clone()
        for k, v in trainer.model.state_dict().items()
        if k.startswith(("planning_head.", "quality_head."))
    }
    decoder = {k: v.clone() for k, v in trainer.model.decoder.state_dict().items()}
    losses = trainer.train_epoch()
    assert set(losses) == {"faust_loss"}
    for k, v in trainer.model.state_dict().items():
        if k in heads:
            assert torch.equal(v, heads[k]), k
    changed = [
        k for k, v in trainer.model.decoder.state_dict().items() if not torch.equal(v, decoder[k])
    ]
    assert changed


def test_unknown_task_is_refused():
    from producer.errors import ProducerError

    with pytest.raises(ProducerError, match="unknown training tasks"):
        TrainConfig(tasks=("planing",))


def test_checkpoint_resume_continues_the_run(rows, tmp_path):
    a = _trainer(rows)
    a.train_epoch()
    a.train_epoch()
    a.save_checkpoint(tmp_path / "run")
    expected = a.train_epoch()  # epoch 3 from the in-memory state

    b = _trainer(rows)
    b.load_checkpoint(tmp_path / "run")
    assert (b.state.epoch, b.state.step) == (2, 2 * a.steps_per_epoch)
    assert b.optimizer.state_dict()["state"].keys() == a.optimizer.state_dict()["state"].keys()
    resumed = b.train_epoch()  # the same epoch 3, from the checkpoint
    for k in expected:
        assert resumed[k] == pytest.approx(expected[k], rel=1e-4, abs=1e-5), k
    assert b.state.epoch == 3


def test_evaluate_reports_every_metric(rows):
    trainer = _trainer(rows)
    trainer.train_epoch()
    metrics = trainer.evaluate(scripts=2)
    for key in ("planning_f1", "style_accuracy", "quality_spearman", "faust_token_accuracy"):
        assert key in metrics
    assert 0 <= metrics["planning_f1"] <= 1 and 0 <= metrics["style_accuracy"] <= 1
    assert metrics["tempo_error_bpm"] >= 0
    assert 0 <= metrics["faust_token_accuracy"] <= 1
    assert metrics["compile_rate"] == 1.0  # the writer grammar makes every script compile
    assert math.isfinite(metrics["quality_spearman"])


def test_cli_train_plan_and_write_faust(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    code = main([
        "train", "--data-dir", str(corpus), "--epochs", "1", "--checkpoint", str(out),
        "--preset", "debug", "--batch-size", "3", "--quiet",
    ])  # fmt: skip
    assert code == 0
    assert (out / "model" / "config.json").is_file()
    assert (out / "trainer_state.json").is_file()
    capsys.readouterr()

    assert (
        main(
            [
                "plan",
                "--checkpoint",
                str(out),
                "--json",
                "--prompt",
                "a boom bap beat at 91 bpm in G minor, no drums",
            ]
        )
        == 0
    )
    plan = json.loads(capsys.readouterr().out)
    assert (plan["bpm"], plan["key"], plan["mode"]) == (91, "G", "minor")
    assert "drums" not in [s["role"] for s in plan["stems"]]

    song = next(corpus.glob("*/*/stems")).parent
    stems = sorted(p.stem for p in (song / "stems").glob("*.wav"))
    dsp = tmp_path / "mix.dsp"
    assert (
        main(
            [
                "write-faust",
                "--stems",
                str(song / "stems"),
                "--prompt",
                "trap",
                "--checkpoint",
                str(out),
                "--output",
                str(dsp),
            ]
        )
        == 0
    )
    v = validate(dsp.read_text(), sample_rate=44100)
    assert sorted(v.stem_roles) == stems

    assert (
        main(
            [
                "train",
                "--data-dir",
                str(corpus),
                "--epochs",
                "2",
                "--checkpoint",
                str(out),
                "--preset",
                "debug",
                "--batch-size",
                "3",
                "--quiet",
                "--resume",
            ]
        )
        == 0
    )
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["trainer"]["epoch"] == 2  # resumed at 1, trained one more


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["plan", "--checkpoint", str(tmp_path / "nope"), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no producer checkpoint" in err
    assert (
        main(
            [
                "train",
                "--data-dir",
                str(tmp_path / "missing"),
                "--checkpoint",
                str(tmp_path / "o"),
                "--preset",
                "debug",
                "--quiet",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "missing" in err
    assert not (tmp_path / "o").exists()
