"""`UnifiedProducerTrainer`: trains the unified model on a song folder in one process.

    trainer = UnifiedProducerTrainer(model, "data/", device="cpu")
    for epoch in range(10):
        print(trainer.train_epoch())    # {'planning_loss': …, 'quality_loss': …, 'faust_loss': …}
    print(trainer.evaluate("heldout/"))
    trainer.save_checkpoint("runs/a")   # resume later with trainer.load_checkpoint("runs/a")

AdamW with linear warm-up and cosine decay, gradient clipping, bf16 autocast on GPU. The step
itself is `step.compute_losses`, which the Ray Train + DeepSpeed job runs unchanged. A Faust-only
mode (`tasks=("faust",)`) trains the decoder and its prefix and leaves the heads as they are.

Checkpoints hold the model (`save_pretrained` layout), the optimizer state as safetensors and the
trainer's counters as JSON: no pickle, so a checkpoint from anywhere is safe to load.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from producer.atomic import atomic_path
from producer.data.dataset import UnifiedProducerDataset
from producer.errors import ProducerError
from producer.models.unified import TASKS, UnifiedProducerModel
from producer.training.batch import Row, collate, example_to_row, to_device
from producer.training.evaluate import evaluate_rows
from producer.training.step import train_step, trainable_parameters


@dataclass
class TrainConfig:
    """Optimisation settings of the single-process trainer (and the defaults of the Ray job)."""

    batch_size: int = 16  # songs per step
    lr: float = 2e-3  # peak learning rate
    weight_decay: float = 0.01  # AdamW decoupled weight decay
    warmup_steps: int = 30  # linear warm-up from 0 to `lr`
    epochs: int = 20  # planned epochs: the cosine decay reaches 10% of `lr` at the end
    grad_clip: float = 1.0  # max global gradient norm (0 disables)
    audio_prob: float = 0.5  # chance the planner sees the song's mix as its input song
    ref_drop: float = 0.2  # chance the quality head scores a mix without its reference
    tasks: tuple[str, ...] = TASKS  # ("faust",) for Faust-only training
    quality_copies: int = 3  # degraded copies per song for the quality head
    max_tokens: int = 768  # scripts are truncated to this many tokens
    seed: int = 0
    bf16: bool = True  # bf16 autocast on CUDA (ignored on CPU)
    progress: bool = True  # tqdm progress bars

    def __post_init__(self) -> None:
        unknown = [t for t in self.tasks if t not in TASKS]
        if unknown or not self.tasks:
            raise ProducerError(f"unknown training tasks {unknown}: choose from {', '.join(TASKS)}")
        self.tasks = tuple(self.tasks)


@dataclass
class TrainerState:
    """Counters saved with a checkpoint so a resumed run continues where it stopped."""

    epoch: int = 0
    step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)


class UnifiedProducerTrainer:
    """Trains a `UnifiedProducerModel` on a song folder (see `producer.data`)."""

    def __init__(
        self,
        model,
        data_dir: str | os.PathLike | None = None,
        device: str | torch.device = "cpu",
        config: TrainConfig | None = None,
        *,
        rows: Sequence[Row] | None = None,
    ):
        self.config = config or TrainConfig()
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.data_dir = Path(data_dir) if data_dir is not None else None
        if rows is None:
            if self.data_dir is None:
                raise ProducerError("UnifiedProducerTrainer needs a data_dir (or rows)")
            rows = load_rows(
                self.data_dir,
                quality_copies=self.config.quality_copies,
                seed=self.config.seed,
                sample_rate=model.config.sample_rate,
                progress=self.config.progress,
            )
        self.rows = list(rows)
        if not self.rows:
            raise ProducerError(f"no usable songs in {self.data_dir}")
        self.state = TrainerState()
        self.optimizer = torch.optim.AdamW(
            trainable_parameters(self.model, self.config.tasks),
            lr=self.config.lr,
            weight_decay=self.config.weight_decay,
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.rows) / self.config.batch_size)

    def _lr_factor(self, step: int) -> float:
        c = self.config
        if step < c.warmup_steps:
            return (step + 1) / c.warmup_steps
        total = max(c.epochs * self.steps_per_epoch - c.warmup_steps, 1)
        t = min((step - c.warmup_steps) / total, 1.0)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t))

    def batches(self, epoch: int):
        """The epoch's batches, shuffled with a seed fixed by (seed, epoch): resumable."""
        rng = np.random.default_rng((self.config.seed, epoch))
        order = rng.permutation(len(self.rows))
        bs = self.config.batch_size
        for start in range(0, len(order), bs):
            rows = [self.rows[i] for i in order[start : start + bs]]
            yield collate(
                rows,
                self.model.tokenizer,
                audio_prob=self.config.audio_prob,
                ref_drop=self.config.ref_drop,
                rng=rng,
                max_tokens=self.config.max_tokens,
                device=self.device,
            )

    def train_epoch(self) -> dict[str, float]:
        """One pass over the data; returns the mean of each loss over the epoch."""
        from tqdm.auto import tqdm

        c = self.config
        sums: dict[str, float] = {}
        n = 0
        bar = tqdm(
            self.batches(self.state.epoch),
            total=self.steps_per_epoch,
            desc=f"epoch {self.state.epoch + 1}",
            disable=not c.progress,
            leave=False,
        )
        for batch in bar:
            losses = train_step(
                self.model,
                self.optimizer,
                batch,
                tasks=c.tasks,
                grad_clip=c.grad_clip,
                scheduler=self.scheduler,
                bf16=c.bf16,
            )
            self.state.step += 1
            n += 1
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + v
            bar.set_postfix(
                {k.removesuffix("_loss")[:4]: f"{v:.3f}" for k, v in losses.items() if k != "loss"}
            )
        self.state.epoch += 1
        means = {k: v / max(n, 1) for k, v in sums.items() if k != "loss"}
        self.state.history.append({"epoch": self.state.epoch, **means})
        return means

    def fit(self, epochs: int, checkpoint_dir: str | os.PathLike | None = None, log=print):
        """Train until `epochs` epochs are done in total (a resumed run continues the count)."""
        while self.state.epoch < epochs:
            losses = self.train_epoch()
            if log is not None:
                shown = ", ".join(f"{k} {v:.4f}" for k, v in losses.items())
                log(f"epoch {self.state.epoch}/{epochs}: {shown}")
            if checkpoint_dir is not None:
                self.save_checkpoint(checkpoint_dir)
        return self.state.history

    @torch.no_grad()
    def evaluate(
        self, data_dir: str | os.PathLike | None = None, *, scripts: int = 20, **kwargs
    ) -> dict[str, float]:
        """Planning F1, style accuracy, tempo error, quality Spearman, Faust token accuracy and
        compile rate on `data_dir` (default: the training data). See `evaluate.evaluate_rows`."""
        rows = self.rows
        if data_dir is not None:
            rows = load_rows(
                data_dir,
                quality_copies=self.config.quality_copies,
                seed=self.config.seed + 1,
                sample_rate=self.model.config.sample_rate,
                progress=self.config.progress,
            )
        return evaluate_rows(self.model, rows, scripts=scripts, **kwargs)

    # ------------------------------------------------------------------ checkpoints

    def save_checkpoint(self, directory: str | os.PathLike) -> Path:
        """Model (save_pretrained layout) + optimizer/scheduler state + counters, atomically."""
        from safetensors.torch import save_file

        directory = Path(directory)
        self.model.save_pretrained(directory / "model")
        tensors, meta = _flatten_optimizer(self.optimizer.state_dict())
        # The torch RNG (dropout) travels too, so a resumed epoch is the epoch it would have been.
        tensors["rng.torch"] = torch.get_rng_state()
        with atomic_path(directory / "optimizer.safetensors") as tmp:
            save_file(tensors, tmp)
        state = {
            "trainer": asdict(self.state),
            "config": {**asdict(self.config), "tasks": list(self.config.tasks)},
            "optimizer": meta,
            "scheduler": self.scheduler.state_dict(),
        }
        with atomic_path(directory / "trainer_state.json") as tmp:
            Path(tmp).write_text(json.dumps(state, indent=2))
        return directory

    def load_checkpoint(self, directory: str | os.PathLike) -> None:
        """Resume from `save_checkpoint` output: weights, optimizer, schedule and counters."""
        from safetensors.torch import load_file

        directory = Path(directory)
        state_file = directory / "trainer_state.json"
        if not state_file.is_file():
            raise ProducerError(
                f"no trainer checkpoint in {directory} (trainer_state.json missing)"
            )
        state = json.loads(state_file.read_text())
        loaded = UnifiedProducerModel.from_pretrained(directory / "model", device=self.device)
        self.model.load_state_dict(loaded.state_dict())
        tensors = load_file(directory / "optimizer.safetensors")
        rng = tensors.pop("rng.torch", None)
        if rng is not None:
            torch.set_rng_state(rng)
        self.optimizer.load_state_dict(_unflatten_optimizer(tensors, state["optimizer"]))
        self.scheduler.load_state_dict(state["scheduler"])
        self.state = TrainerState(**state["trainer"])


def load_rows(
    data_dir: str | os.PathLike,
    *,
    quality_copies: int = 3,
    seed: int = 0,
    sample_rate: int = 44100,
    progress: bool = True,
) -> list[Row]:
    """Every usable song of a folder as a training row (bad songs are reported and skipped)."""
    ds = UnifiedProducerDataset(
        data_dir,
        sample_rate=sample_rate,
        quality_copies=quality_copies,
        seed=seed,
        progress=progress,
    )
    return [example_to_row(ds[i]) for i in range(len(ds))]


def _flatten_optimizer(sd: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """An optimizer state_dict as (tensors for safetensors, JSON-able rest)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, entry in sd["state"].items():
        for name, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"{idx}.{name}"] = value.detach().contiguous().cpu()
            else:
                scalars.setdefault(str(idx), {})[name] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    for idx, entry in meta.get("scalars", {}).items():
        state.setdefault(int(idx), {}).update(entry)
    return {"state": state, "param_groups": meta["param_groups"]}


__all__ = ["TrainConfig", "TrainerState", "UnifiedProducerTrainer", "load_rows", "to_device"]
