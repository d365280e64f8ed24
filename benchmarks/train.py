"""Training throughput: Ray Train + DeepSpeed on 2 CPU workers against the one-process trainer,
and the peak memory of a worker under ZeRO stages 0, 1, 2 and 3; side by side in one run.

    uv run python benchmarks/train.py --songs 48 --epochs 4 --json benchmarks/train.json

One synthetic corpus is preprocessed once (Ray Data, `ray_jobs.preprocess`); then on the same
rows, with the same global batch (2 workers × `--batch` songs against one process with
2 × `--batch`), so the same number of optimizer steps:

- the peer: `UnifiedProducerTrainer` in this process, torch on all cores;
- `ray_jobs.train.train` with 2 CPU workers (one core each, gloo) for each ZeRO stage.

Reported per row: samples/s as the median over epochs after the first (the first pays for
start-up), the whole wall time including start-up, and the largest peak RSS of a worker
(`ru_maxrss`, max over ranks). The model is the `default` preset (the shipped size) unless
`--model debug`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from machine import machine

ROOT = Path(__file__).resolve().parents[1]


def single_process(rows, args) -> dict:
    """The peer: the one-process trainer on the same rows, global batch and epochs."""
    import resource

    import torch

    from producer.models.config import preset
    from producer.models.unified import UnifiedProducerModel
    from producer.training.trainer import TrainConfig, UnifiedProducerTrainer

    torch.set_num_threads(2)
    torch.manual_seed(0)
    start = time.perf_counter()
    model = UnifiedProducerModel.from_config(preset(args.model))
    config = TrainConfig(
        batch_size=2 * args.batch,
        epochs=args.epochs,
        warmup_steps=2,
        max_tokens=args.max_tokens,
        progress=False,
    )
    trainer = UnifiedProducerTrainer(model, config=config, rows=rows)
    rates = []
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        trainer.train_epoch()
        rates.append(len(rows) / (time.perf_counter() - t0))
    return {
        "name": "one process (2 threads)",
        "samples_per_s": statistics.median(rates[1:] or rates),
        "wall_s": time.perf_counter() - start,
        "steps": trainer.state.step,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def ray_train(data: Path, runs: Path, stage: int, args) -> dict:
    from ray_jobs.config import load_config
    from ray_jobs.train import train

    job = load_config(
        ROOT / "ray_jobs" / "configs" / "local-cpu.yaml",
        [
            f"train.data={data}",
            f"train.storage_path={runs}",
            f"train.run_name=zero{stage}",
            f"train.model={args.model}",
            f"train.epochs={args.epochs}",
            f"train.batch_size={args.batch}",
            f"train.max_tokens={args.max_tokens}",
            f"train.deepspeed.zero_stage={stage}",
        ],
    ).train
    report = train(job)
    rates = [h["samples_per_s"] for h in report.history]
    return {
        "name": f"Ray Train + DeepSpeed ZeRO-{stage}, 2 workers",
        "samples_per_s": statistics.median(rates[1:] or rates),
        "wall_s": report.seconds,
        "steps": report.steps,
        "peak_rss_mb": max(h["peak_rss_mb"] for h in report.history),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--songs", type=int, default=48)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=4, help="songs per worker per step")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--model", default="default", choices=["default", "debug"])
    ap.add_argument("--stages", default="0,1,2,3")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import ray

    from producer.data.shards import load_shards
    from producer.data.synth import synthesize_corpus
    from ray_jobs.preprocess import local_workers_use_this_python, preprocess

    tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
    synthesize_corpus(tmp / "data", args.songs, seed=0, duration=1.5, progress=False)
    local_workers_use_this_python()
    ray.init(num_cpus=3, include_dashboard=True, log_to_driver=False, configure_logging=False)
    pre = preprocess(
        {"data_dir": str(tmp / "data"), "output_dir": str(tmp / "pre"), "batch_size": 8},
        progress=False,
    )
    rows = load_shards(tmp / "pre")
    print(f"{pre.done} songs preprocessed in {pre.seconds:.1f} s; {len(rows)} rows")

    results = [single_process(rows, args)]
    for stage in (int(s) for s in args.stages.split(",")):
        results.append(ray_train(tmp / "pre", tmp / "runs", stage, args))
    ray.shutdown()

    base = results[0]["samples_per_s"]
    print(f"\n{'':46} {'samples/s':>9} {'ratio':>6} {'wall s':>7} {'steps':>5} {'peak RSS MB':>11}")
    for r in results:
        r["ratio_to_one_process"] = r["samples_per_s"] / base
        print(
            f"{r['name']:46} {r['samples_per_s']:9.2f} {r['ratio_to_one_process']:6.2f} "
            f"{r['wall_s']:7.1f} {r['steps']:5d} {r['peak_rss_mb']:11.0f}"
        )
    if args.json:
        info = machine(**vars(args) | {"json": None})
        args.json.write_text(json.dumps({"machine": info, "rows": results}, indent=1))


if __name__ == "__main__":
    main()
