"""The model commands at work: `write-faust`, `train`, `faust-train`, `synth-data`.

Their parsers are in `cli.model` (`add_model_commands`); `main` imports this module only when one
of them runs, since it loads torch and numpy at its top (and Ray, for `train --config`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from producer.atomic import atomic_path
from producer.audio.stems import load_stems
from producer.cli.model import _TRAIN_DEFAULTS, config_overrides
from producer.data.synth import synthesize_corpus
from producer.errors import ProducerError
from producer.models.config import preset
from producer.models.loading import load_model
from producer.models.unified import UnifiedProducerModel
from producer.training.trainer import TrainConfig, UnifiedProducerTrainer
from producer.user_files import check_output_path

__all__ = ["faust_train", "synth_data", "train", "write_faust"]


def write_faust(args: argparse.Namespace) -> int:
    if args.output:  # before the model loads: a folder or a missing parent fails at once
        check_output_path(args.output)
    model = load_model(args.checkpoint, args.device)
    stems = load_stems(args.stems, sample_rate=model.config.sample_rate)
    candidates = model.write_faust_candidates(
        stems,
        args.prompt,
        candidates=args.candidates,
        seed=args.seed,
        temperature=args.temperature,
    )
    script = candidates[0][0]
    if args.output:
        with atomic_path(args.output) as tmp:
            Path(tmp).write_text(script)
        print(f"wrote {args.output} ({len(stems)} stems: {', '.join(stems)})", file=sys.stderr)
    else:
        print(script, end="")
    return 0


def _train_config(args: argparse.Namespace, tasks: tuple[str, ...]):
    return TrainConfig(
        batch_size=args.batch_size,
        lr=args.lr,
        epochs=args.epochs,
        tasks=tasks,
        seed=args.seed,
        progress=not args.quiet,
    )


def _run_training(args: argparse.Namespace, tasks: tuple[str, ...], model) -> int:
    trainer = UnifiedProducerTrainer(model, args.data_dir, args.device, _train_config(args, tasks))
    out = Path(args.checkpoint)
    if args.resume and (out / "trainer_state.json").is_file():
        trainer.load_checkpoint(out)
        print(f"resumed from {out} at epoch {trainer.state.epoch}", file=sys.stderr)
    trainer.fit(args.epochs, out, log=None if args.quiet else print)
    if args.eval_dir:
        metrics = trainer.evaluate(args.eval_dir, scripts=args.eval_scripts)
        print(json.dumps(metrics, indent=2))
    print(f"saved {out} (load it with --checkpoint {out})", file=sys.stderr)
    return 0


def train(args: argparse.Namespace) -> int:
    if args.config:  # the distributed job: Ray Train + DeepSpeed, configured by the YAML
        from ray_jobs.train import describe, train_from_config  # deferred: ray

        overrides = config_overrides(args)
        print(describe(train_from_config(args.config, overrides, address=args.address)))
        return 0
    for dest, default in _TRAIN_DEFAULTS.items():
        if getattr(args, dest) is None:
            setattr(args, dest, default)
    if not args.data_dir or not args.checkpoint:
        raise ProducerError("give --data-dir and --checkpoint (one process), or --config (Ray)")
    torch.manual_seed(args.seed)
    if args.init:
        model = load_model(args.init, args.device)
    else:
        config = preset(args.preset)
        if args.text_model:
            config.text_model_name = args.text_model
        if args.decoder_model:
            config.decoder_model_name = args.decoder_model
        model = UnifiedProducerModel.from_config(config, device=args.device)
    return _run_training(args, ("planning", "quality", "faust"), model)


def faust_train(args: argparse.Namespace) -> int:
    model = load_model(args.init, args.device)
    return _run_training(args, ("faust",), model)


def synth_data(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    paths = synthesize_corpus(
        args.out,
        args.songs,
        seed=args.seed,
        duration=args.duration,
        phrasing=args.phrasing,
        progress=not args.quiet,
    )
    print(f"wrote {len(paths)} songs to {args.out} ({time.perf_counter() - started:.1f} s)")
    return 0
