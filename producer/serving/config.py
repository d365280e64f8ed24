"""The serving app's typed arguments: what `serve_configs/*.yaml` put under `applications[].args`.

    applications:
      - name: producer
        import_path: producer.serving.app:build_app
        args:                         # → ServeArgs (every field optional)
          checkpoint: null            # the packaged default model
          limits: {max_duration_s: 60, max_candidates: 4}
          store: {dir: /var/lib/producer/results, ttl_s: 3600}   # default: private, per user

Serve validates `args` against `ServeArgs` before building the graph (the app builder is
annotated with it), so a typo or an out-of-range value fails the deploy with the field's name.
Resources, replicas and queue bounds of each deployment live beside `args` in the YAML
(`deployments:`), not here: they are Serve's own options.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, field_validator

from producer.faust.validate import MAX_SCRIPT_CHARS
from producer.pipeline import MAX_CANDIDATES
from producer.plan import MAX_DURATION
from producer.serving.store import default_store_dir

__all__ = ["DEFAULT_STORE_DIR", "Limits", "ServeArgs", "StoreSettings"]

#: Where results go when the config names no folder: the user's own runtime folder, else their
#: cache folder (`store.default_store_dir`), never a predictable name in the shared /tmp.
DEFAULT_STORE_DIR = str(default_store_dir())


class Limits(BaseModel):
    """What one HTTP request may ask for; anything more is refused with a 4xx before any work."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_prompt_chars: int = Field(500, ge=1, le=10_000, description="Longest prompt, characters.")
    max_duration_s: float = Field(
        60.0, gt=0.5, le=MAX_DURATION, description="Longest production, seconds."
    )
    max_candidates: int = Field(
        4, ge=1, le=MAX_CANDIDATES, description="Most mix scripts written per production."
    )
    max_upload_bytes: int = Field(
        32 * 1024 * 1024, ge=1024, description="Largest audio upload, bytes (413 above)."
    )
    max_upload_seconds: float = Field(
        120.0, gt=0, le=MAX_DURATION, description="Longest audio upload, seconds (413 above)."
    )
    max_script_chars: int = Field(
        MAX_SCRIPT_CHARS, ge=100, le=MAX_SCRIPT_CHARS, description="Longest Faust script."
    )
    request_timeout_s: float = Field(
        300.0, gt=0, description="A request still running after this answers 504."
    )
    max_inflight: int = Field(
        8, ge=1, description="Productions in progress per ingress replica; more answer 503."
    )
    retry_after_s: int = Field(
        5, ge=1, le=3600, description="The Retry-After of a 503 (overload) answer, seconds."
    )


class StoreSettings(BaseModel):
    """The result store: where results are written and how long they live.

    With more than one ingress replica on more than one node, `dir` must be shared storage
    (NFS or similar): any replica may be asked for any result.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dir: str = Field(DEFAULT_STORE_DIR, description="Folder of the results (created if missing).")
    ttl_s: float = Field(
        3600.0, gt=0, description="Seconds a result can be downloaded after it is made."
    )
    sweep_interval_s: float = Field(
        60.0, gt=0, description="How often expired results are deleted, seconds."
    )

    @field_validator("dir")
    @classmethod
    def _expand(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("store dir is empty")
        return os.path.abspath(os.path.expanduser(value))


Device = str  # "cpu", "cuda", "cuda:1", "mps", or "auto" (cuda when the replica has a GPU)


class ServeArgs(BaseModel):
    """Arguments of the app builder (`producer.serving.app:build_app`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checkpoint: str | None = Field(
        None, description="A trained model folder; null: the packaged default model."
    )
    model_device: Device = Field("cpu", description="Device of the planner's and scorer's model.")
    writer_device: Device = Field("cpu", description="Device of the Faust writer's model.")
    separator: str = Field("htdemucs", description="Demucs name or local model for input songs.")
    separator_device: Device = Field("cpu", description="Device of the separator.")
    separator_download: bool = Field(
        False, description="Let Demucs download weights that are not on disk."
    )
    sample_rate: int = Field(
        44100, ge=8000, le=192000, description="The model's sample rate; every stage runs at it."
    )
    torch_threads: int | None = Field(
        1, ge=1, description="torch threads per replica (null: torch's default, all cores)."
    )
    warmup: bool = Field(
        True, description="Run each stage once on tiny input at replica start (a fast first call)."
    )
    limits: Limits = Field(default_factory=Limits)
    store: StoreSettings = Field(default_factory=StoreSettings)


def resolve_device(device: Device) -> str:
    """`auto` → "cuda" when this process sees a GPU, else "cpu"; anything else unchanged."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
