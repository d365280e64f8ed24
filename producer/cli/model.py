"""The model commands of `producer`: plan, write-faust, train, faust-train, synth-data.

Thin shells over the library (`producer.models`, `producer.training`, `producer.data`),
registered into the main parser by `add_model_commands`. Errors propagate to `cli.main`, which
turns domain errors into one line and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from producer.cli import options as opt
from producer.cli.lazy import lazy
from producer.errors import ProducerError
from producer.models.loading import load_model  # light: torch loads when a model does
from producer.plan import DEFAULT_PROMPT


def _cmd_plan(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    model = load_model(args.checkpoint, args.device)
    loaded = time.perf_counter()
    plan = model.plan_production(
        args.prompt, args.input, duration=args.duration, input_role=args.input_role
    )
    done = time.perf_counter()
    if args.json:
        print(
            json.dumps(
                plan.model_dump(mode="json", exclude=set() if args.explain else {"reasons"}),
                indent=2,
            )
        )
        return 0
    if args.explain:
        for line in explain_lines(plan):
            print(line)
    else:
        stems = ", ".join(f"{s.role} ({s.source})" for s in plan.stems)
        print(f"style   {plan.style}" + (f" ({', '.join(plan.mood)})" if plan.mood else ""))
        print(f"tempo   {plan.bpm:g} bpm")
        print(f"key     {plan.key} {plan.mode}")
        print(f"stems   {stems}")
    for role in plan.needs_input:
        print(
            f"note    the prompt asks for {role}: no generator makes them; give a take with "
            f"--input FILE --input-role {role}",
            file=sys.stderr,
        )
    print(f"(model load {loaded - started:.1f} s, planning {done - loaded:.2f} s)", file=sys.stderr)
    return 0


def explain_lines(plan) -> list[str]:
    """One line per decided field: the value, who decided it, and the words or confidence."""
    shown = {"bpm": f"{plan.bpm:g} bpm", "key": plan.key, "mode": plan.mode, "style": plan.style}
    lines = []
    for r in plan.reasons:
        value = shown.get(r.field, r.value)
        if r.source == "model":
            detail = f"p={r.confidence:.2f}" if r.confidence is not None else ""
            detail = ", ".join(x for x in (detail, r.rule) if x)
        elif r.source == "prompt":
            words = ", ".join(f'"{w}"' for w in r.words)
            detail = f"{words} ({r.rule})" if words else r.rule
        else:
            detail = r.rule
        lines.append(f"{r.field:<8}{value:<16}{r.source:<8}{detail}".rstrip())
    return lines


# `producer train --config`: the one-process flags that map onto the job config's keys ...
_CONFIG_KEYS = {
    "epochs": "train.epochs",
    "batch_size": "train.batch_size",
    "lr": "train.lr",
    "seed": "train.seed",
    "init": "train.init",
    "text_model": "train.text_model_name",
    "decoder_model": "train.decoder_model_name",
    "preset": "train.model",
}
# ... and those that do not (refused rather than silently dropped, as they once were).
_NOT_WITH_CONFIG = {
    "data_dir": "the job reads train.data, the preprocess job's Parquet shards",
    "checkpoint": "checkpoints go under train.storage_path/train.run_name",
    "resume": "a job resumes from its run folder by itself",
    "device": "the job config decides: train.use_gpu, train.resources_per_worker",
    "eval_dir": "the Ray job does not evaluate; its export is a model folder to test",
    "eval_scripts": "the Ray job does not evaluate",
    "quiet": "the job logs through Ray",
}
# The train parser's real defaults; its flags default to None so that a given one is seen.
_TRAIN_DEFAULTS: dict[str, object] = {}


def config_overrides(args: argparse.Namespace) -> list[str]:
    """`key=value` overrides for the job config from the flags given beside `--config`, then
    `--set` (last wins); ProducerError naming a flag that has no place in a job config."""
    refused = [
        f"--{dest.replace('_', '-')} ({why})"
        for dest, why in _NOT_WITH_CONFIG.items()
        if getattr(args, dest, None) is not None
    ]
    if refused:
        raise ProducerError(f"with --config, {'; '.join(refused)}: leave it out")
    mapped = [
        f"{key}={getattr(args, dest)}"
        for dest, key in _CONFIG_KEYS.items()
        if getattr(args, dest, None) is not None
    ]
    return [*mapped, *args.set]


def _common_training_args(
    p: argparse.ArgumentParser, checkpoint_default: str | None, data_required: bool = True
) -> None:
    p.add_argument(
        "--data-dir", required=data_required, help="song folder: <artist>/<song>/<song>.wav…"
    )
    p.add_argument(
        "--epochs", type=opt.count, default=10, help="total epochs (a resumed run continues)"
    )
    p.add_argument(
        "--checkpoint",
        default=checkpoint_default,
        help="folder for checkpoints (model/ inside is what --checkpoint of other commands takes)",
    )
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint if present")
    p.add_argument("--batch-size", type=opt.count, default=16)
    p.add_argument("--lr", type=opt.positive_float, default=2e-3)
    p.add_argument("--seed", type=opt.seed, default=0)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps")
    p.add_argument("--eval-dir", help="a held-out song folder to evaluate on after training")
    p.add_argument(
        "--eval-scripts", type=opt.count, default=20, help="scripts written in evaluation"
    )
    p.add_argument("--quiet", action="store_true")


def add_model_commands(sub) -> None:
    """Register the model commands on the main parser's subparsers."""
    plan = sub.add_parser("plan", help="plan a production from a prompt (and a song)")
    plan.add_argument("--prompt", default=DEFAULT_PROMPT)
    plan.add_argument("--input", help="a song or stem the production builds on")
    plan.add_argument("--input-role", help="keep --input as this stem (e.g. vocals)")
    plan.add_argument("--duration", type=opt.duration_s, default=20.0, help="seconds, 0.5..600")
    plan.add_argument("--checkpoint", help="a trained model folder (default: the packaged one)")
    plan.add_argument("--device", default="cpu")
    plan.add_argument("--json", action="store_true", help="print the ProductionPlan as JSON")
    plan.add_argument(
        "--explain",
        action="store_true",
        help="show which words (or the model, with its confidence) decided each field",
    )
    plan.set_defaults(func=_cmd_plan)

    wf = sub.add_parser("write-faust", help="write a Faust mix script for a folder of stems")
    wf.add_argument("--stems", required=True, nargs="+", help="a folder of <role>.wav, or files")
    wf.add_argument("--prompt", default="")
    wf.add_argument("--output", help="write the script here (default: print it)")
    wf.add_argument(
        "--candidates", type=opt.candidates, default=1, help="best of N by likelihood, 1..16"
    )
    wf.add_argument("--temperature", type=opt.temperature, default=0.7, help="above 0, <= 10")
    wf.add_argument("--seed", type=opt.seed, default=0)
    wf.add_argument("--checkpoint")
    wf.add_argument("--device", default="cpu")
    wf.set_defaults(func=lazy("producer.cli.model_run:write_faust"))

    train = sub.add_parser(
        "train",
        help="train the unified model on a song folder (or on a Ray cluster with --config)",
    )
    _common_training_args(train, checkpoint_default=None, data_required=False)
    train.add_argument(
        "--config",
        help="train with Ray Train + DeepSpeed from a job config (ray_jobs/configs/*.yaml) on "
        "the Parquet shards of `producer preprocess`; --epochs, --batch-size, --lr, --seed, "
        "--init, --preset, --text-model and --decoder-model then override its train section, "
        "and flags with no place in it are refused",
    )
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="with --config: override a key, e.g. --set train.epochs=1 (repeatable)",
    )
    train.add_argument("--address", help="with --config: the Ray to join (default: local)")
    train.add_argument("--preset", default="default", help="model size: default or debug")
    train.add_argument("--init", help="start from this trained model instead of a fresh one")
    train.add_argument("--text-model", help="text encoder: hub id in the cache or a folder")
    train.add_argument("--decoder-model", help="Faust decoder LM: hub id in the cache or folder")
    train.set_defaults(func=lazy("producer.cli.model_run:train"))
    for dest in (*_CONFIG_KEYS, *_NOT_WITH_CONFIG):
        _TRAIN_DEFAULTS[dest] = train.get_default(dest)
    train.set_defaults(**dict.fromkeys(_TRAIN_DEFAULTS))

    ft = sub.add_parser("faust-train", help="train only the Faust writer (decoder + prefix)")
    _common_training_args(ft, checkpoint_default="runs/faust")
    ft.add_argument("--init", help="model to fine-tune (default: the packaged one)")
    ft.set_defaults(func=lazy("producer.cli.model_run:faust_train"))

    syn = sub.add_parser("synth-data", help="write a synthetic training corpus")
    syn.add_argument("--out", required=True, help="folder to write <artist>/<song>/ into")
    syn.add_argument("--songs", type=opt.count, default=100)
    syn.add_argument("--seed", type=opt.seed, default=0)
    syn.add_argument(
        "--duration", type=opt.duration_s, default=4.0, help="seconds per song, 0.5..600"
    )
    syn.add_argument(
        "--phrasing",
        default="train",
        choices=["train", "heldout"],
        help="prompt phrasings: the training set's, or the held-out ones",
    )
    syn.add_argument("--quiet", action="store_true")
    syn.set_defaults(func=lazy("producer.cli.model_run:synth_data"))
