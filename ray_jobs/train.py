"""Ray Train + DeepSpeed ZeRO: train the unified model on the preprocessed Parquet shards.

    uv run python -m ray_jobs.train --config ray_jobs/configs/local-cpu.yaml [--set train.epochs=3]
    producer submit train --address http://HEAD:8265 --config ray_jobs/configs/gpu-cluster.yaml
    ray job submit --working-dir . -- python -m ray_jobs.train --config ray_jobs/configs/….yaml

The job is the single-process trainer's step on N workers; nothing about the model is new here:

    driver   load_config → ray.data.read_parquet(<data>/shards/*.parquet) → TorchTrainer(
                 train_loop_per_worker, ScalingConfig(num_workers, use_gpu, resources),
                 RunConfig(storage_path, run_name, FailureConfig, CheckpointConfig))
    worker   build the model (preset or `init`) → deepspeed.initialize (ZeRO 1/2/3, offload,
             AdamW + warm-up/cosine from `DeepSpeedConfig.to_deepspeed_dict`) → resume from
             `ray.train.get_checkpoint()` → for each epoch: get_dataset_shard("train") batches →
             `batch.collate` → `step.compute_losses` → engine.backward / engine.step
             → every rank `engine.save_checkpoint` + `ray.train.report(checkpoint=…)`
             → rank 0 exports `save_pretrained` (what `producer demo --checkpoint` loads)

CPU workers talk over gloo and train in float32; GPU workers use NCCL and bf16 autocast.

Checkpoints are DeepSpeed's own sharded files (each rank writes its optimizer shard; Ray merges
the ranks' files into one checkpoint directory under `storage_path/run_name`), plus
`progress.json` (epochs done, batches done in the current epoch, the loss history). They are
torch pickles written by this job: resume only from your own run directories. The export is
safetensors. Running the same config again resumes the run named `run_name` from its newest
checkpoint (a finished run just re-exports); a new `run_name` starts over.

Everything a worker needs travels in its loop config (a plain dict), never in module globals,
so the function runs the same on any node.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from producer.atomic import atomic_path
from producer.data.shards import decode_table
from producer.errors import ProducerError
from producer.models.config import preset
from producer.models.unified import UnifiedProducerModel
from producer.ray_local import init_ray, local_workers_use_this_python
from producer.training.batch import collate
from producer.training.step import compute_losses, trainable_parameters
from ray_jobs.config import ConfigError, TrainJobConfig, load_config
from ray_jobs.lora import add_lora, merge_lora

PROGRESS = "progress.json"  # inside every checkpoint, written by rank 0
DS_TAG = "deepspeed"  # DeepSpeed's checkpoint tag (a folder inside the checkpoint)
FAULT_MARKER = ".fault-injected"  # under the run directory: the injected kill happened


@dataclass
class TrainReport:
    """What `train` returns: where the model went and how the run went."""

    export_dir: str  # the save_pretrained directory (`producer demo --checkpoint` takes it)
    checkpoint: str | None  # the newest DeepSpeed checkpoint of the run
    epochs: int  # epochs done in total (a resumed run counts the earlier ones)
    steps: int  # optimizer steps in total
    rows: int  # training rows (songs) in the shards
    seconds: float
    metrics: dict[str, Any] = field(default_factory=dict)  # the last report's metrics
    history: list[dict[str, Any]] = field(default_factory=list)  # one entry per epoch


# ------------------------------------------------------------------------------ the driver


def shard_paths(data: str) -> list[str]:
    """The Parquet shard files of a preprocess output (`<data>/shards/part-*.parquet`)."""
    if "://" in data:
        import pyarrow.fs

        fs, root = pyarrow.fs.FileSystem.from_uri(data.rstrip("/") + "/shards")
        infos = fs.get_file_info(pyarrow.fs.FileSelector(root, allow_not_found=True))
        scheme = data.split("://", 1)[0]
        return sorted(
            f"{scheme}://{i.path}"
            for i in infos
            if i.base_name.startswith("part-") and i.base_name.endswith(".parquet")
        )
    return [str(p) for p in sorted((Path(data) / "shards").glob("part-*.parquet"))]


def count_rows(paths: Sequence[str]) -> int:
    """Rows in Parquet files, from their footers (no data read)."""
    import pyarrow.parquet as pq

    total = 0
    for path in paths:
        if "://" in path:
            import pyarrow.fs

            fs, inner = pyarrow.fs.FileSystem.from_uri(path)
            with fs.open_input_file(inner) as f:
                total += pq.ParquetFile(f).metadata.num_rows
        else:
            total += pq.ParquetFile(path).metadata.num_rows
    return total


def loop_config(job: TrainJobConfig, rows: int) -> dict[str, Any]:
    """The worker's whole input as a plain dict: the validated job plus what the driver knows.

    Paths are made absolute here because workers run in their own working directory.
    """
    world = job.num_workers
    rows_per_worker = rows // world  # Ray Data's equal split drops the remainder
    micro = math.ceil(rows_per_worker / job.batch_size)
    accum = job.deepspeed.gradient_accumulation_steps
    steps_per_epoch = max(1, micro // accum)
    return {
        "job": job.model_dump(mode="json"),
        "rows_per_worker": rows_per_worker,
        "micro_batches_per_epoch": micro,
        "steps_per_epoch": steps_per_epoch,
        "total_steps": steps_per_epoch * job.epochs,
        "run_dir": f"{job.resolved_storage_path().rstrip('/')}/{job.run_name}",
        "export_dir": job.resolved_export_dir(),
        "cpus_per_worker": int(job.resources_per_worker.get("CPU", 1) or 1),
    }


def train(job: TrainJobConfig, *, address: str | None = None) -> TrainReport:
    """Run (or resume) the training job; returns where the exported model is.

    Starts a local Ray when none is running (`address=None`), or joins `address` ("auto" on a
    cluster node, which is what a submitted job does).

    Raises:
        ProducerError: no shards at `data`, fewer rows than workers, or the run failed (after
            `max_failures` restarts); one line, the workers' tracebacks are in the Ray logs.
    """
    import ray
    import ray.data
    import ray.train
    from ray.train.torch import TorchTrainer

    start = time.perf_counter()
    paths = shard_paths(job.data)
    if not paths:
        raise ProducerError(
            f"no training shards in {job.data}/shards: run the preprocess job first "
            "(python -m ray_jobs.preprocess --config …)"
        )
    rows = count_rows(paths)
    if rows < job.num_workers:
        raise ProducerError(
            f"{rows} training rows in {job.data} for {job.num_workers} workers: every worker "
            "needs at least one song"
        )
    config = loop_config(job, rows)
    _say(describe_job(job, rows))

    started = _init_ray(job, address)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        # Rows are small (feature vectors and a script: ~10 KB a song), so the whole library
        # fits the object store: materialised once, every epoch streams from memory instead
        # of starting Parquet read tasks again (measured: 6-10 s per epoch on 2 cores).
        dataset = ray.data.read_parquet(paths).materialize()
        trainer = TorchTrainer(
            train_loop_per_worker,
            train_loop_config=config,
            scaling_config=ray.train.ScalingConfig(
                num_workers=job.num_workers,
                use_gpu=job.use_gpu,
                resources_per_worker=dict(job.resources_per_worker) or None,
            ),
            run_config=ray.train.RunConfig(
                name=job.run_name,
                storage_path=job.resolved_storage_path(),
                failure_config=ray.train.FailureConfig(max_failures=job.max_failures),
                checkpoint_config=ray.train.CheckpointConfig(num_to_keep=job.keep_checkpoints),
            ),
            datasets={"train": dataset},
        )
        try:
            result = trainer.fit()
        except Exception as err:  # TrainingFailedError and friends: say what failed, briefly
            raise ProducerError(f"training failed: {_first_line(err)}") from None
        if getattr(result, "error", None) is not None:
            raise ProducerError(f"training failed: {_first_line(result.error)}")
    finally:
        if started:
            ray.shutdown()

    metrics = dict(result.metrics or {})
    history = _read_history(config["export_dir"])
    return TrainReport(
        export_dir=config["export_dir"],
        checkpoint=result.checkpoint.path if result.checkpoint else None,
        epochs=int(metrics.get("epoch", 0)),
        steps=int(metrics.get("step", 0)),
        rows=rows,
        seconds=time.perf_counter() - start,
        metrics=metrics,
        history=history,
    )


def describe_job(job: TrainJobConfig, rows: int) -> str:
    """The job's first log line: what runs where, so a log says how it was trained.

    e.g. `training 600 songs, 2 epochs: 2 CPU workers (gloo, 1 CPU each), DeepSpeed ZeRO-2,
    float32, no offload, model default, runs in ./runs/producer`
    """
    ds = job.deepspeed
    device = "GPU workers (NCCL" if job.use_gpu else "CPU workers (gloo"
    resources = ", ".join(f"{v:g} {k}" for k, v in sorted(job.resources_per_worker.items()))
    offload = [
        name
        for name, on in (("optimizer", ds.offload_optimizer), ("parameters", ds.offload_param))
        if on
    ]
    storage = f"{job.resolved_storage_path().rstrip('/')}/{job.run_name}"
    return (
        f"training {rows} songs, {job.epochs} epochs: {job.num_workers} {device}, "
        f"{resources or 'default resources'} each), DeepSpeed ZeRO-{ds.zero_stage}, "
        f"{'bf16 autocast' if ds.bf16 else 'float32'}, "
        f"{'offload ' + ' and '.join(offload) + ' to CPU' if offload else 'no offload'}, "
        f"model {job.model}{' + LoRA' if job.lora.enabled else ''}, runs in {storage}"
    )


def _init_ray(job: TrainJobConfig, address: str | None) -> bool:
    """Join a running Ray or start a local one sized for the job; True when this call started it.

    A local Ray gets one logical CPU more than the workers take, so Ray Data's read tasks
    feeding them are never starved by the workers' own reservations.
    """
    import ray

    if ray.is_initialized():
        return False
    if address is None and os.environ.get("RAY_ADDRESS"):
        address = "auto"  # inside a submitted job
    if address is not None:
        ray.init(address=address, configure_logging=False)
        return True
    local_workers_use_this_python()
    cpus = job.num_workers * max(1.0, job.resources_per_worker.get("CPU", 1.0)) + 1
    # The dashboard serves the state API that Ray Train's placement-group cleaner polls
    # (without it, it logs a warning every few seconds); it binds to 127.0.0.1, and so does
    # the rest of this local Ray (producer.ray_local).
    init_ray(
        num_cpus=max(math.ceil(cpus), os.cpu_count() or 1),
        include_dashboard=True,
        dashboard_host="127.0.0.1",
        configure_logging=False,
    )
    return True


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # Ray's failure messages end with the worker's own exception: that is the useful line.
    useful = [ln for ln in lines if not ln.startswith(("Traceback", "File ", "^"))]
    return (useful[-1] if useful else lines[0])[:500]


def _read_history(export_dir: str) -> list[dict[str, Any]]:
    if "://" in export_dir:
        return []
    path = Path(export_dir) / "training.json"
    return json.loads(path.read_text()).get("history", []) if path.is_file() else []


# ------------------------------------------------------------------------------ the workers


def train_loop_per_worker(config: dict[str, Any]) -> None:
    """One DeepSpeed rank: resume, train the remaining epochs, checkpoint, export (rank 0)."""
    import deepspeed
    import numpy as np
    import ray.train
    import ray.train.torch
    import torch

    job = TrainJobConfig.model_validate(config["job"])
    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    torch.set_num_threads(config["cpus_per_worker"])
    device = ray.train.torch.get_device()
    torch.manual_seed(job.seed)  # same initial weights on every rank

    if device.type == "cpu":
        _skip_cpu_shm_op()
    else:
        _arch_list_for_deepspeed(say=rank == 0)
    model = build_model(job, device)
    engine, _, _, _ = deepspeed.initialize(
        model=model,
        model_parameters=trainable_parameters(model, job.tasks),
        config=job.deepspeed_dict(config["total_steps"]),
    )
    progress = {"epoch": 0, "batch": 0, "step": 0, "history": [], "starts": 0}
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as path:
            loaded, _ = engine.load_checkpoint(path, tag=DS_TAG)
            if loaded is None:
                raise ProducerError(f"no DeepSpeed checkpoint under {path}/{DS_TAG}")
            progress = json.loads((Path(path) / PROGRESS).read_text())
    progress["starts"] += 1
    if rank == 0 and checkpoint is not None:
        _say(
            f"resumed at epoch {progress['epoch']} (+{progress['batch']} batches), "
            f"step {progress['step']}"
        )

    shard = ray.train.get_dataset_shard("train")
    tokenizer = engine.module.tokenizer
    fault = job.fault_injection
    every = job.checkpoint_every_steps
    micro = config["micro_batches_per_epoch"]

    while progress["epoch"] < job.epochs:
        epoch = progress["epoch"]
        skip = progress["batch"]
        rng = np.random.default_rng((job.seed, epoch, rank))
        sums: dict[str, float] = {}
        seen = batches = 0
        t0 = time.perf_counter()
        engine.train()
        iterator = shard.iter_batches(
            batch_size=job.batch_size,
            batch_format="pyarrow",
            local_shuffle_buffer_size=max(2 * job.batch_size, 64),
            local_shuffle_seed=job.seed * 1000 + epoch,
        )
        for index, table in enumerate(iterator):
            if index >= micro:  # an uneven split must not make one rank step more often
                break
            rows = _decode(table)
            batch = collate(
                rows,
                tokenizer,
                audio_prob=job.audio_prob,
                ref_drop=job.ref_drop,
                rng=rng,
                max_tokens=job.max_tokens,
                device=device,
            )
            if index < skip:  # done before the checkpoint we resumed from
                continue
            out = compute_losses(engine, batch, job.tasks)
            engine.backward(out["loss"])
            engine.step()
            batches += 1
            seen += len(rows)
            for k, v in out.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            progress["batch"] = index + 1
            progress["step"] = int(engine.global_steps)
            if fault is not None and rank == fault.kill_rank:
                _maybe_die(fault.kill_at_step, progress["step"], config["run_dir"])
            if (
                every
                and engine.is_gradient_accumulation_boundary()
                and (progress["step"] % every == 0 and progress["batch"] < micro)
            ):
                _save_and_report(engine, progress, {"epoch": epoch, "step": progress["step"]})

        means = _mean_over_ranks(sums, batches, device)
        rate = _sum_over_ranks(seen, device) / max(time.perf_counter() - t0, 1e-9)
        progress["epoch"] = epoch + 1
        progress["batch"] = 0
        record = {
            "epoch": epoch + 1,
            "step": progress["step"],
            **{k: round(v, 6) for k, v in means.items() if k != "loss"},
            "samples_per_s": round(rate, 3),
            **_peak_memory_mb(device),
            "start": progress["starts"],  # 2 on the epochs after one restart
        }
        progress["history"].append(record)
        if rank == 0:
            shown = " ".join(f"{k.removesuffix('_loss')} {v:.4f}" for k, v in means.items())
            _say(
                f"epoch {epoch + 1}/{job.epochs} step {progress['step']}: {shown} "
                f"({rate:.1f} samples/s over {world} workers)"
            )
        _save_and_report(engine, progress, {k: v for k, v in record.items() if k != "start"})

    _export(engine, job, progress, config, rank)
    # The last report carries the export's path; every rank reports (they are a barrier).
    ray.train.report({"epoch": progress["epoch"], "step": progress["step"], "exported": 1})


def build_model(job: TrainJobConfig, device):
    """The model the job trains: `init` (a trained model) or the preset with random heads;
    LoRA adapters on the decoder when `lora.enabled`."""
    if job.init is not None:
        model = UnifiedProducerModel.from_pretrained(job.init, device=device)
    else:
        config = preset(job.model)
        if job.text_model_name:
            config.text_model_name = job.text_model_name
        if job.decoder_model_name:
            config.decoder_model_name = job.decoder_model_name
        model = UnifiedProducerModel.from_config(config, device=device)
    if job.lora.enabled:
        add_lora(model, job.lora)
    return model


def _say(line: str) -> None:
    """One line to the job's log. Not `print`: Ray Train routes print through its logger,
    which the driver then shows twice."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _skip_cpu_shm_op() -> None:
    """Keep DeepSpeed from JIT-compiling its CPU shared-memory all-reduce.

    On the CPU accelerator DeepSpeed builds a C++ op at start-up (about a minute on two cores,
    and it needs a compiler) that only its inference all-reduce uses; training reduces through
    torch.distributed (gloo) either way. Marking the op incompatible skips the build.
    """
    import deepspeed.ops

    deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False


def deepspeed_arch_list(value: str) -> str:
    """TORCH_CUDA_ARCH_LIST as DeepSpeed's JIT op builder can read it.

    torch accepts arch-specific entries such as "9.0a" (Hopper's wgmma) and "10.0f"; DeepSpeed
    0.19 sorts the entries with int() on each part and fails on them ("invalid literal for
    int(): '0a'") before compiling FusedAdam. Its ops use none of those instructions, so the
    suffix is dropped; "+PTX" and the order are kept, duplicates go.
    """
    out: list[str] = []
    for entry in value.replace(" ", ";").split(";"):
        base, plus, ptx = entry.strip().partition("+")
        if not base:
            continue
        major, _, minor = base.partition(".")
        minor = minor.rstrip("abcdefghijklmnopqrstuvwxyz")
        fixed = f"{major}.{minor}" if minor else major
        fixed += plus + ptx
        if fixed not in out:
            out.append(fixed)
    return ";".join(out)


def _arch_list_for_deepspeed(say: bool) -> None:
    """Rewrite this worker's TORCH_CUDA_ARCH_LIST for DeepSpeed (see `deepspeed_arch_list`)."""
    value = os.environ.get("TORCH_CUDA_ARCH_LIST", "")
    fixed = deepspeed_arch_list(value)
    if value.strip() and fixed != value:
        os.environ["TORCH_CUDA_ARCH_LIST"] = fixed
        if say:
            _say(f"TORCH_CUDA_ARCH_LIST {value!r} → {fixed!r} for DeepSpeed's op builder")


def _decode(table) -> list[dict[str, Any]]:
    return decode_table(table)


def _save_and_report(engine, progress: dict[str, Any], metrics: dict[str, Any]) -> None:
    """Every rank writes its DeepSpeed shard into a local folder and reports it; Ray gathers
    the ranks' files into one checkpoint under the run directory."""
    import ray.train

    rank = ray.train.get_context().get_world_rank()
    with tempfile.TemporaryDirectory(prefix="producer-ckpt-") as tmp:
        engine.save_checkpoint(tmp, tag=DS_TAG)
        if rank == 0:
            (Path(tmp) / PROGRESS).write_text(json.dumps(progress, indent=1))
        ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(tmp))


def _export(engine, job: TrainJobConfig, progress: dict[str, Any], config, rank: int) -> None:
    """Rank 0 writes the trained model as a save_pretrained directory (+ training.json).

    Under ZeRO-3 each rank holds a slice of every weight: all ranks gather them together, then
    rank 0 saves. LoRA adapters are merged into the decoder first, so the export is a plain
    model that loads without peft.
    """
    import contextlib

    import deepspeed

    model = engine.module
    gather = (
        deepspeed.zero.GatheredParameters(list(model.parameters()), modifier_rank=None)
        if job.deepspeed.zero_stage == 3
        else contextlib.nullcontext()
    )
    with gather:
        if rank != 0:
            return
        target = config["export_dir"]
        with tempfile.TemporaryDirectory(prefix="producer-export-") as tmp:
            local = target if "://" not in target else str(Path(tmp) / "export")
            if job.lora.enabled:
                merge_lora(model)  # training is over: the engine's module can change
            model.save_pretrained(local)
            summary = {
                "run": config["run_dir"],
                "epochs": progress["epoch"],
                "steps": progress["step"],
                "history": progress["history"],
                "job": config["job"],
            }
            with atomic_path(Path(local) / "training.json") as f:
                Path(f).write_text(json.dumps(summary, indent=1))
            if local != target:
                _upload_dir(local, target)
        _say(f"exported {target}")


def _upload_dir(local: str, uri: str) -> None:
    import pyarrow.fs

    fs, path = pyarrow.fs.FileSystem.from_uri(uri)
    pyarrow.fs.copy_files(local, path, destination_filesystem=fs)


def _maybe_die(kill_at: int, step: int, run_dir: str) -> None:
    """Fault injection: exit this worker abruptly at step `kill_at`, once per run.

    The marker under the run directory makes it once: the group that Ray restarts from the
    checkpoint runs through.
    """
    if step != kill_at:
        return
    if "://" in run_dir:
        import pyarrow.fs

        fs, root = pyarrow.fs.FileSystem.from_uri(run_dir)
        marker = f"{root}/{FAULT_MARKER}"
        if fs.get_file_info(marker).type != pyarrow.fs.FileType.NotFound:
            return
        with fs.open_output_stream(marker) as f:
            f.write(str(step).encode())
    else:
        marker = Path(run_dir) / FAULT_MARKER
        if marker.exists():
            return
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(step))
    # Ray Train registers a reported checkpoint when its controller next polls the workers
    # (every RAY_TRAIN_HEALTH_CHECK_INTERVAL_S, 2 s). A worker that dies within that window of
    # its last report takes the report with it and the run resumes from the checkpoint before;
    # a real fault lands anywhere in an epoch, so the injected one waits out the window.
    interval = float(os.environ.get("RAY_TRAIN_HEALTH_CHECK_INTERVAL_S", "2"))
    time.sleep(2.5 * interval)
    _say(f"fault injection: worker exits at step {step}")
    os._exit(1)  # no cleanup, like a node that vanished


def _mean_over_ranks(sums: dict[str, float], batches: int, device) -> dict[str, float]:
    import torch

    keys = sorted(sums)
    t = torch.tensor([batches, *(sums[k] for k in keys)], dtype=torch.float64, device=device)
    if torch.distributed.is_initialized():
        torch.distributed.all_reduce(t)
    n = max(float(t[0]), 1.0)
    return {k: float(v) / n for k, v in zip(keys, t[1:], strict=True)}


def _peak_memory_mb(device) -> dict[str, float]:
    """The largest peak over ranks of process memory (RSS) and, on GPUs, of CUDA memory."""
    import resource

    import torch

    values = [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]  # KiB on Linux
    if device.type == "cuda":
        values.append(torch.cuda.max_memory_allocated(device) / 2**20)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    if torch.distributed.is_initialized():
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
    names = ["peak_rss_mb", "peak_gpu_mb"][: len(values)]
    return {k: round(float(v), 1) for k, v in zip(names, t, strict=True)}


def _sum_over_ranks(value: float, device) -> float:
    import torch

    t = torch.tensor([float(value)], dtype=torch.float64, device=device)
    if torch.distributed.is_initialized():
        torch.distributed.all_reduce(t)
    return float(t[0])


# -------------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ray_jobs.train", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--config", required=True, help="a job config (ray_jobs/configs/*.yaml)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set train.epochs=1 (repeatable)",
    )
    parser.add_argument(
        "--address", help="Ray to join (default: the submitted job's, else a local Ray)"
    )
    args = parser.parse_args(argv)
    try:
        report = train_from_config(args.config, args.set, address=args.address)
    except ProducerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(describe(report))
    return 0


def train_from_config(
    path: str, overrides: Sequence[str] = (), *, address: str | None = None
) -> TrainReport:
    """Load a job file's `train:` section (with `key=value` overrides) and run it."""
    config = load_config(path, overrides)
    if config.train is None:
        raise ConfigError(f"{path}: no 'train' section")
    return train(config.train, address=address)


def describe(report: TrainReport) -> str:
    """Two lines for the terminal: what was trained, and where the model is."""
    last = report.history[-1] if report.history else {}
    losses = ", ".join(f"{k} {v:.4f}" for k, v in last.items() if k.endswith("_loss"))
    return (
        f"trained {report.epochs} epochs ({report.steps} steps, {report.rows} songs) in "
        f"{report.seconds:.1f} s{': ' + losses if losses else ''}\n"
        f"model: {report.export_dir} (try: producer demo --checkpoint {report.export_dir})"
    )


if __name__ == "__main__":
    sys.exit(main())
