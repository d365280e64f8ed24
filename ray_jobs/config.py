"""Typed configuration of the Ray jobs (preprocessing and training), and its YAML loader.

One YAML file describes a whole job: a `preprocess:` section (Ray Data over a song folder →
Parquet shards) and a `train:` section (Ray Train + DeepSpeed ZeRO on those shards). Either may
be left out. The shipped files live in `ray_jobs/configs/`; a test loads every one of them.

    job = load_config("ray_jobs/configs/local-cpu.yaml", overrides=["train.epochs=1"])
    ds = job.train.deepspeed_dict(total_steps=100)     # the dict `deepspeed.initialize` takes

Loading refuses what it does not know, by name, in one line that a user can act on:

    ray_jobs/configs/x.yaml: unknown key 'train.deepspeed.zero_stag' (did you mean 'zero_stage'?
    known: bf16, gradient_accumulation_steps, …)
    ray_jobs/configs/x.yaml: train.deepspeed.offload_param: needs zero_stage 3 (got 2) …

The models are pydantic (strict types, `extra="forbid"`), so a config built in code
(`TrainJobConfig(...)`, or rebuilt on a worker from `model_dump()`) is checked the same way;
`JobConfig.from_dict` turns pydantic's errors into the same one-line `ConfigError`. Loading a
config imports neither torch nor Ray.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from producer.errors import ProducerError
from producer.models.config import preset_names

#: Training tasks, as `producer.models.unified.TASKS` (repeated here so that loading a config does
#: not import torch; a test checks the two agree).
TASKS = ("planning", "quality", "faust")


class ConfigError(ProducerError):
    """A job config that cannot be used: names the file, the key, the problem and the fix."""


def _rule(field: str | None, reason: str) -> PydanticCustomError:
    """A cross-field check failure; `field` (relative to the model) is added to the error's path."""
    return PydanticCustomError("config_rule", "{reason}", {"field": field or "", "reason": reason})


class _Model(BaseModel):
    """Strict types (a string is never taken for a number), unknown keys refused."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)


# --- preprocessing ---------------------------------------------------------------------------


class PreprocessConfig(_Model):
    """The Ray Data job: song folder → separation → analysis and targets → Parquet shards."""

    # Song folder (data/<artist>/<song>/<song>.wav + .json). On several nodes every node must see
    # it: shared storage (NFS mount) or a cloud URI (s3://…).
    data_dir: str = Field(min_length=1)
    # Where the Parquet shards go; shared storage on several nodes, like `data_dir`.
    output_dir: str = Field(min_length=1)
    # Demucs model for songs without stems: a pretrained name or a local path (on disk; see
    # producer.audio.separation).
    separator: str = Field("htdemucs", min_length=1)
    # Let Demucs download pretrained weights that are not on disk (off: nothing downloads).
    separator_download: bool = False
    # Separator actors in the pool; each loads the model once and separates many songs.
    separator_actors: int = Field(1, ge=1)
    # GPUs per separator actor: 0 runs Demucs on CPU; a fraction (0.5) packs actors on one GPU.
    separator_num_gpus: float = Field(0.0, ge=0)
    # CPUs reserved per separator actor.
    separator_num_cpus: float = Field(1.0, ge=0)
    # Songs per batch handed to a separator actor (and per analysis batch).
    batch_size: int = Field(4, ge=1)
    # Concurrent analysis / target-derivation workers (CPU).
    analysis_concurrency: int = Field(2, ge=1)
    # CPUs reserved per analysis worker.
    analysis_num_cpus: float = Field(1.0, ge=0)
    # Rate the songs and stems are analysed at (the model's `sample_rate`).
    sample_rate: int = Field(44100, ge=8000, le=192000)
    # Degraded copies per song for the quality head (as UnifiedProducerDataset).
    quality_copies: int = Field(3, ge=0)
    # Songs per Parquet shard (the unit of resuming: a shard already written is not redone).
    songs_per_shard: int = Field(64, ge=1)
    # Songs that may fail (each lands in the errors table with its reason) before the job
    # stops; null = never stop for bad songs, 0 = the first bad song stops the job.
    max_errors: int | None = Field(None, ge=0)
    # Redo every song even when its shard exists (default: skip them, so a rerun resumes and a
    # finished job run again changes nothing).
    overwrite: bool = False
    # Seed of the degraded copies and of anything else random; same seed → same shards.
    seed: int = 0

    @field_validator("separator_num_gpus")
    @classmethod
    def _whole_gpus_above_one(cls, value: float) -> float:
        if value > 1 and not float(value).is_integer():
            raise _rule(None, f"Ray takes a fraction up to 1 or a whole number (got {value})")
        return value


# --- training --------------------------------------------------------------------------------


class DeepSpeedConfig(_Model):
    """How DeepSpeed shards and runs the optimisation (becomes `deepspeed.initialize`'s config)."""

    # ZeRO stage: 1 shards optimizer state, 2 also gradients, 3 also the parameters; 0 shards
    # nothing (plain data parallelism: every rank holds everything).
    zero_stage: Literal[0, 1, 2, 3] = 2
    # Keep optimizer state (and its step) in CPU memory: ZeRO-Offload (any stage).
    offload_optimizer: bool = False
    # Keep the parameters in CPU memory too: ZeRO-Infinity (stage 3 only).
    offload_param: bool = False
    # bf16 mixed precision (autocast; the weights and optimizer stay float32); GPU workers only
    # (CPU workers train in float32).
    bf16: bool = False
    # Max global gradient norm (0 disables).
    gradient_clipping: float = Field(1.0, ge=0)
    # Micro-batches per optimizer step on each worker.
    gradient_accumulation_steps: int = Field(1, ge=1)
    # Use torch.optim.AdamW instead of DeepSpeed's fused / CPU Adam: no C++/CUDA op to build,
    # which is what CPU-only machines want; slower with offload.
    torch_adam: bool = False

    @model_validator(mode="after")
    def _offload_param_needs_stage3(self) -> DeepSpeedConfig:
        if self.offload_param and self.zero_stage != 3:
            raise _rule(
                "offload_param",
                f"needs zero_stage 3 (got {self.zero_stage}); only ZeRO-3 partitions the "
                "parameters it would offload",
            )
        return self

    def to_deepspeed_dict(
        self,
        train_batch_size_per_worker: int,
        lr: float,
        weight_decay: float,
        warmup: int,
        total_steps: int,
    ) -> dict[str, Any]:
        """DeepSpeed's JSON config: AdamW, linear warm-up then cosine decay to 10% of `lr` (the
        schedule of `UnifiedProducerTrainer`), ZeRO, bf16 and clipping as configured.

        The global batch is left for DeepSpeed to derive (micro batch × accumulation × world
        size), so one dict fits any number of workers. `total_steps` counts optimizer steps.
        """
        if train_batch_size_per_worker < 1 or total_steps < 1 or warmup < 0 or lr <= 0:
            raise ConfigError(
                f"to_deepspeed_dict: need batch >= 1, total_steps >= 1, warmup >= 0 and lr > 0 "
                f"(got {train_batch_size_per_worker}, {total_steps}, {warmup}, {lr})"
            )
        zero: dict[str, Any] = {"stage": self.zero_stage}
        if self.offload_optimizer:
            zero["offload_optimizer"] = {"device": "cpu"}
        if self.offload_param:
            zero["offload_param"] = {"device": "cpu"}
        if self.zero_stage == 3:
            # Lets `save_16bit_model` / the final export gather the partitioned weights.
            zero["stage3_gather_16bit_weights_on_model_save"] = True
        return {
            "train_micro_batch_size_per_gpu": train_batch_size_per_worker,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            "gradient_clipping": self.gradient_clipping,
            "optimizer": {
                "type": "AdamW",
                "params": {
                    "lr": lr,
                    "betas": [0.9, 0.999],
                    "eps": 1e-8,
                    "weight_decay": weight_decay,
                    "torch_adam": self.torch_adam,
                },
            },
            "scheduler": {
                "type": "WarmupCosineLR",
                "params": {
                    "total_num_steps": total_steps,
                    # DeepSpeed wants at least one warm-up step.
                    "warmup_num_steps": max(1, min(warmup, total_steps)),
                    "warmup_min_ratio": 0.0,
                    "warmup_type": "linear",
                    "cos_min_ratio": 0.1,
                },
            },
            # bf16 as autocast over float32 master weights, not DeepSpeed's "bf16" mode: that
            # mode casts the whole module, buffers included, and the model's running feature
            # statistics (float64 counts and sums) would lose their precision.
            "torch_autocast": {"enabled": self.bf16, "dtype": "bfloat16"},
            "zero_optimization": zero,
            "steps_per_print": 1_000_000,  # the job reports its own metrics
            "wall_clock_breakdown": False,
        }


class LoraConfig(_Model):
    """Low-rank adapters on the decoder (with `peft`); only the adapters are trained."""

    # Train LoRA adapters instead of the full decoder (needs `peft` installed).
    enabled: bool = False
    # Rank of the adapters.
    r: int = Field(16, ge=1)
    # Scaling numerator: the update is scaled by alpha / r.
    alpha: float = Field(32.0, gt=0)
    # Dropout on the adapters' input.
    dropout: float = Field(0.05, ge=0, lt=1)
    # Decoder modules that get adapters (peft's names: the attention projections here).
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"], min_length=1
    )

    def to_peft_kwargs(self) -> dict[str, Any]:
        """Arguments of `peft.LoraConfig` (peft itself is imported by the caller)."""
        return {
            "r": self.r,
            "lora_alpha": self.alpha,
            "lora_dropout": self.dropout,
            "target_modules": list(self.target_modules),
            "task_type": "CAUSAL_LM",
        }


class FaultInjectionConfig(_Model):
    """Kill one training worker mid-run, to test recovery (used by the fault test only)."""

    # Rank of the worker that exits (must be < num_workers).
    kill_rank: int = Field(0, ge=0)
    # Optimizer step after which it exits. The job kills once per run (it leaves a marker under
    # the run's storage), so the restarted group, resumed from a checkpoint, runs through.
    kill_at_step: int = Field(ge=1)


class TrainJobConfig(_Model):
    """The Ray Train job: DeepSpeed ZeRO on N workers, fed by the Parquet shards."""

    # Parquet directory written by the preprocess job (its `output_dir`); local or s3://….
    data: str = Field(min_length=1)
    # Model preset to build ("debug" tiny, "default" the shipped size).
    model: str = "default"
    # Start from a trained model instead of the preset's random weights: "default" (the
    # packaged model) or a save_pretrained directory; null trains from scratch.
    init: str | None = None
    # Override the preset's text encoder / decoder with a hub id (on disk) or a local path;
    # null keeps the preset's.
    text_model_name: str | None = None
    decoder_model_name: str | None = None
    # Passes over the data.
    epochs: int = Field(1, ge=1)
    # Songs per micro-batch on each worker.
    batch_size: int = Field(16, ge=1)
    # Peak learning rate, AdamW decoupled weight decay, linear warm-up steps.
    lr: float = Field(2e-3, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_steps: int = Field(30, ge=0)
    # Heads to train: any of planning, quality, faust.
    tasks: list[str] = Field(default_factory=lambda: list(TASKS), min_length=1)
    # Chance the planner sees the song's own mix; chance the quality head loses its reference.
    audio_prob: float = Field(0.5, ge=0, le=1)
    ref_drop: float = Field(0.2, ge=0, le=1)
    # Faust scripts are truncated to this many tokens.
    max_tokens: int = Field(768, ge=1)
    # Training workers (Ray Train's ScalingConfig.num_workers); one DeepSpeed rank each.
    num_workers: int = Field(2, ge=1)
    # One GPU per worker (NCCL); false trains on CPU with gloo.
    use_gpu: bool = False
    # Resources per worker, e.g. {CPU: 4, GPU: 1}; empty = Ray Train's defaults.
    resources_per_worker: dict[str, float] = Field(default_factory=dict)
    # Run directory root (RunConfig.storage_path). On several nodes it MUST be shared storage
    # every node can reach (s3://bucket/path, gs://…, or an NFS mount): checkpoints are written by
    # every rank and restored on whichever node a restarted worker lands. Relative paths are
    # taken from the current directory.
    storage_path: str = Field("./runs", min_length=1)
    # Run name: the run's directory under storage_path; resuming looks there for checkpoints.
    run_name: str = Field("producer", min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    # Also checkpoint every N optimizer steps; null = only at the end of each epoch.
    checkpoint_every_steps: int | None = Field(None, ge=1)
    # Checkpoints kept (the newest ones).
    keep_checkpoints: int = Field(2, ge=1)
    # Times a failed worker group restarts from the latest checkpoint (-1 = forever, 0 = never).
    max_failures: int = Field(3, ge=-1)
    # Final `save_pretrained` directory, written by rank 0; null = <storage_path>/<run_name>/export.
    export_dir: str | None = None
    # Kill a worker mid-run (fault test only); null in real runs.
    fault_injection: FaultInjectionConfig | None = None
    deepspeed: DeepSpeedConfig = Field(default_factory=DeepSpeedConfig)
    lora: LoraConfig = Field(default_factory=LoraConfig)
    # Seed of initialisation, shuffling and batch augmentation.
    seed: int = 0

    @field_validator("model")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        if value not in preset_names():
            raise _rule(None, f"unknown preset {value!r} (choose from {', '.join(preset_names())})")
        return value

    @field_validator("tasks")
    @classmethod
    def _known_tasks(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in TASKS]
        if unknown:
            raise _rule(None, f"unknown tasks {unknown} (choose from {', '.join(TASKS)})")
        if len(set(value)) != len(value):
            raise _rule(None, f"a task is listed twice: {value}")
        return value

    @field_validator("resources_per_worker")
    @classmethod
    def _non_negative_resources(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if not (math.isfinite(v) and v >= 0)}
        if bad:
            raise _rule(None, f"amounts must be >= 0 (got {bad})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TrainJobConfig:
        if self.deepspeed.bf16 and not self.use_gpu:
            raise _rule("deepspeed.bf16", "needs use_gpu: true (CPU workers train in float32)")
        if not self.use_gpu and self.resources_per_worker.get("GPU", 0) > 0:
            raise _rule("resources_per_worker.GPU", "asks for GPUs but use_gpu is false")
        fault = self.fault_injection
        if fault is not None and fault.kill_rank >= self.num_workers:
            raise _rule(
                "fault_injection.kill_rank",
                f"must be < num_workers ({self.num_workers}) (got {fault.kill_rank})",
            )
        return self

    def deepspeed_dict(self, total_steps: int) -> dict[str, Any]:
        """`DeepSpeedConfig.to_deepspeed_dict` with this job's batch size and optimiser settings."""
        return self.deepspeed.to_deepspeed_dict(
            self.batch_size, self.lr, self.weight_decay, self.warmup_steps, total_steps
        )

    def resolved_storage_path(self) -> str:
        """`storage_path` as Ray Train wants it: URIs unchanged, local paths made absolute."""
        return _absolute(self.storage_path)

    def resolved_export_dir(self) -> str:
        """Where the final `save_pretrained` export goes."""
        if self.export_dir is not None:
            return _absolute(self.export_dir)
        return f"{self.resolved_storage_path().rstrip('/')}/{self.run_name}/export"


def _absolute(path: str) -> str:
    if "://" in path:
        return path
    return os.path.abspath(os.path.expanduser(path))


# --- the whole job and its loader ------------------------------------------------------------


class JobConfig(_Model):
    """One job file: preprocessing, training, or both."""

    # Ray Data preprocessing (null / absent: this file has no preprocessing).
    preprocess: PreprocessConfig | None = None
    # Ray Train training (null / absent: this file has no training).
    train: TrainJobConfig | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> JobConfig:
        if self.preprocess is None and self.train is None:
            raise _rule(None, "needs a 'preprocess:' or a 'train:' section (or both)")
        return self

    @classmethod
    def from_dict(cls, data: Any, source: str = "<config>") -> JobConfig:
        """Validate a plain dict (parsed YAML); errors become one-line `ConfigError`s."""
        if not isinstance(data, Mapping):
            kind = type(data).__name__
            raise ConfigError(f"{source}: expected a mapping of sections, got {kind}")
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise ConfigError(f"{source}: {_describe(exc)}") from None


def load_config(path: str | os.PathLike[str], overrides: Iterable[str] = ()) -> JobConfig:
    """Read, override (`"train.epochs=1"`, values in YAML syntax) and validate a job file."""
    source = os.fspath(path)
    try:
        text = Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the config ({exc.strerror or exc})") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        where, problem = _yaml_where(exc), _yaml_problem(exc)
        raise ConfigError(f"{source}{where}: invalid YAML: {problem}") from None
    if data is None:
        raise ConfigError(f"{source}: the file is empty")
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of sections, got {type(data).__name__}")
    for item in overrides:
        _apply_override(data, item, source)
    return JobConfig.from_dict(data, source)


def _apply_override(data: dict[str, Any], item: str, source: str) -> None:
    key, sep, raw = item.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(parts):
        raise ConfigError(f"{source}: override {item!r} is not KEY.PATH=VALUE")
    try:
        value = yaml.load(raw, Loader=_Loader)
    except yaml.YAMLError as exc:
        problem = _yaml_problem(exc)
        raise ConfigError(f"{source}: override {item!r}: invalid value: {problem}") from None
    node = data
    for i, part in enumerate(parts[:-1]):
        if node.get(part) is None:
            node[part] = {}
        node = node[part]
        if not isinstance(node, dict):
            where = ".".join(parts[: i + 1])
            raise ConfigError(f"{source}: override {item!r}: '{where}' is not a section")
    node[parts[-1]] = value


# --- error messages --------------------------------------------------------------------------


def _describe(exc: ValidationError) -> str:
    """The first error of a pydantic ValidationError, in one line that names the key."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if first["type"] == "extra_forbidden":
        model = _model_at(JobConfig, loc[:-1])
        known = sorted(model.model_fields) if model is not None else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"unknown key '{_dotted(loc)}' ({hint}known: {', '.join(known)}){more}"
    if first["type"] == "missing":
        return f"missing required key '{_dotted(loc)}'{more}"
    if first["type"] == "config_rule":
        ctx = first.get("ctx") or {}
        field = tuple(ctx.get("field", "").split(".")) if ctx.get("field") else ()
        key = _dotted(loc + field)
        return f"{key + ': ' if key else ''}{ctx.get('reason', first['msg'])}{more}"
    got = first.get("input")
    shown = f" (got {got!r})" if not isinstance(got, dict | list) else ""
    key = _dotted(loc)
    return f"{key + ': ' if key else ''}{first['msg']}{shown}{more}"


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class found by following `loc` down from `model`."""
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        candidates = [field.annotation, *get_args(field.annotation)]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model


def _yaml_where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    return " ".join(str(problem or exc).split())


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and reads `1e-4` as a number (YAML 1.2 style)."""

    def construct_mapping(self, node, deep=False):
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


# PyYAML (YAML 1.1) reads `1e-4` (no dot) as a string; a learning rate is written that way.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)
