"""Build the default model that ships inside the package, with one command.

    uv run python -m producer.training.default_model

1. writes a synthetic training corpus (`--songs`, train phrasings) and a held-out corpus
   (`--heldout`, phrasings never used in training) under `--workdir`;
2. trains the `default` preset on the training corpus for `--epochs` epochs, then the quality
   head alone for `--quality-epochs` more;
3. evaluates on the held-out corpus (planning F1, style accuracy, tempo error, quality Spearman,
   Faust token accuracy, compile rate of `--eval-scripts` written scripts) and the planner on
   the hand-written evaluation prompts (`producer/data/eval_prompts.jsonl`);
4. saves the model to `producer/models/weights/default/` (safetensors, a few MB) with the
   metrics in `metrics.json` beside it.

The whole run is sized to finish within 30 minutes on a 2-core laptop CPU.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from producer.atomic import atomic_path
from producer.data.synth import synthesize_corpus
from producer.models.config import preset
from producer.models.unified import DEFAULT_CHECKPOINT, UnifiedProducerModel
from producer.training.prompt_eval import load_eval_prompts, score_planner
from producer.training.trainer import TrainConfig, UnifiedProducerTrainer


def build(
    *,
    songs: int,
    heldout: int,
    epochs: int,
    workdir: Path,
    out: Path,
    eval_scripts: int,
    quality_epochs: int = 0,
    seed: int = 0,
    duration: float = 4.0,
) -> dict:
    import torch

    timings: dict[str, float] = {}
    t = time.perf_counter()
    train_dir, heldout_dir = workdir / "train", workdir / "heldout"
    if not (train_dir / ".complete").exists():
        synthesize_corpus(train_dir, songs, seed=seed, duration=duration, phrasing="train")
        (train_dir / ".complete").write_text(str(songs))
    if not (heldout_dir / ".complete").exists():
        synthesize_corpus(
            heldout_dir, heldout, seed=seed + 10_000, duration=duration, phrasing="heldout"
        )
        (heldout_dir / ".complete").write_text(str(heldout))
    timings["corpus_s"] = time.perf_counter() - t

    torch.manual_seed(seed)
    model = UnifiedProducerModel.from_config(preset("default"))
    config = TrainConfig(epochs=epochs, seed=seed)
    t = time.perf_counter()
    trainer = UnifiedProducerTrainer(model, train_dir, "cpu", config)
    timings["features_s"] = time.perf_counter() - t
    t = time.perf_counter()
    trainer.fit(epochs)
    timings["train_s"] = time.perf_counter() - t
    if quality_epochs:
        # The quality head alone, longer: its steps are cheap (no decoder) and it keeps
        # improving after the decoder has converged.
        t = time.perf_counter()
        q_config = TrainConfig(epochs=quality_epochs, seed=seed, tasks=("quality",))
        q_trainer = UnifiedProducerTrainer(model, train_dir, "cpu", q_config, rows=trainer.rows)
        q_trainer.fit(quality_epochs)
        timings["quality_train_s"] = time.perf_counter() - t
    t = time.perf_counter()
    metrics = trainer.evaluate(heldout_dir, scripts=eval_scripts)
    timings["eval_s"] = time.perf_counter() - t
    # The planner on hand-written prompts that training never saw (prompt_eval).
    metrics["eval_prompts"] = score_planner(model.plan_production, load_eval_prompts()).summary()

    model.save_pretrained(out)
    report = {
        "command": "uv run python -m producer.training.default_model "
        f"--songs {songs} --heldout {heldout} --epochs {epochs} "
        f"--quality-epochs {quality_epochs} --eval-scripts {eval_scripts}",
        "heldout_metrics": metrics,
        "final_losses": trainer.state.history[-1] if trainer.state.history else {},
        "timings_s": timings,
        "train_songs": len(trainer.rows),
    }
    with atomic_path(out / "metrics.json") as tmp:
        Path(tmp).write_text(json.dumps(report, indent=2) + "\n")
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--songs", type=int, default=600, help="training songs")
    ap.add_argument("--heldout", type=int, default=100, help="held-out songs")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--quality-epochs", type=int, default=48, help="then the quality head alone")
    ap.add_argument("--eval-scripts", type=int, default=200)
    ap.add_argument("--workdir", type=Path, default=Path(".cache/default-model"))
    ap.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    started = time.perf_counter()
    report = build(
        songs=args.songs,
        heldout=args.heldout,
        epochs=args.epochs,
        workdir=args.workdir,
        out=args.out,
        eval_scripts=args.eval_scripts,
        quality_epochs=args.quality_epochs,
        seed=args.seed,
    )
    report["total_s"] = time.perf_counter() - started
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
