"""The pipeline's stages as objects that load what they need once and then serve calls.

Each is a thin holder around `producer.pipeline` (and `producer.pipeline.input_song` for the input):
no Ray here. A Serve deployment (`producer.serving.deployments`) wraps one stage per replica;
`producer.serving.local` runs them all in one process.

    InputStage     upload bytes → InputSong (decoded, separated or kept, analysed)  Demucs
    PlanStage      prompt (+ song) → ProductionPlan                                  the model
    GenerateStage  plan (+ song) → {role: Stem}                                      no model
    WriteStage     stems + prompt → [(Faust script, logprob)]                        the model
    RenderStage    scripts + stems → Selection (masters rendered, critiqued, scored,
                   best kept)                                                        the model

The model stages share one `Producer` when given one; otherwise each loads its own.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from producer.errors import ModelNotFoundError, ProducerError
from producer.faust.compile_guard import check_compiles
from producer.faust.validate import validate
from producer.faust.writer import random_script
from producer.generators.events import Stem
from producer.pipeline import (
    Producer,
    Selection,
    generate_stems_for,
    production_length,
)
from producer.pipeline.input_song import InputSong, prepare_input
from producer.plan import ProductionPlan
from producer.serving.config import ServeArgs, resolve_device
from producer.serving.uploads import decode_upload

__all__ = [
    "GenerateStage",
    "InputStage",
    "PlanStage",
    "RenderStage",
    "WriteStage",
    "load_producer",
    "setup_process",
]

# Threads per replica for work that releases the GIL (stems side by side, candidates' renders).
_WORKERS = min(2, os.cpu_count() or 1)
# A plan and a few stems to warm a replica with (compiles instruments, grammars, Faust code).
_WARM_ROLES = ("drums", "bass", "harmony", "melody")


def setup_process(args: ServeArgs, uses_torch: bool = True) -> None:
    """Per-process settings of a replica: torch threads (one is right on a small machine).
    A stage without torch (the generator) does not import it just to set them."""
    if args.torch_threads is not None and uses_torch:
        import torch

        torch.set_num_threads(args.torch_threads)


def load_producer(args: ServeArgs, device: str) -> Producer:
    """The model stages' `Producer`, checked to run at the app's sample rate."""
    producer = Producer(
        args.checkpoint,
        device=resolve_device(device),
        separator=args.separator,
        separator_download=args.separator_download,
    )
    if producer.sample_rate != args.sample_rate:
        raise ProducerError(
            f"the model runs at {producer.sample_rate} Hz but the app is configured for "
            f"{args.sample_rate} Hz: set args.sample_rate: {producer.sample_rate}"
        )
    return producer


def warm_plan() -> ProductionPlan:
    """One second of four stems: enough to compile what a stage compiles on first use."""
    return ProductionPlan(
        prompt="warm-up", duration=1.0, stems=[{"role": role} for role in _WARM_ROLES]
    )


class InputStage:
    """Uploaded songs: decoded with the upload limits, separated by Demucs or kept, analysed."""

    def __init__(self, args: ServeArgs):
        self.args = args
        self.device = resolve_device(args.separator_device)
        # Demucs loads once, now (it is cached per process). Without its weights the replica
        # still serves uploads given as one stem; a full mix then gets the one-line error.
        with contextlib.suppress(ModelNotFoundError):
            from producer.audio.separation import load_separator  # deferred: torch, demucs

            load_separator(args.separator, self.device, download=args.separator_download)
        if args.warmup:  # tempo and key analysis compile (numba) on first use
            sr = args.sample_rate
            t = np.arange(4 * sr) / sr
            tone = 0.2 * np.sin(2 * np.pi * 220 * t) * np.exp(-(t * 2 % 1.0) * 4)
            warm = np.stack([tone, tone]).astype(np.float32)
            prepare_input(warm, sample_rate=sr, input_sample_rate=sr, role="vocals", progress=False)

    def prepare(
        self,
        data: bytes,
        filename: str,
        role: str | None,
        duration: float | None,
        max_seconds: float,
    ) -> InputSong:
        """The upload decoded (at most `max_seconds` long, else 413), then prepared."""
        audio = decode_upload(data, filename, self.args.sample_rate, max_seconds)
        return prepare_input(
            audio,
            sample_rate=self.args.sample_rate,
            input_sample_rate=self.args.sample_rate,
            role=role,
            max_duration=duration,
            separator=self.args.separator,
            device=self.device,
            progress=False,
            download=self.args.separator_download,
        )


class PlanStage:
    """Prompt (and song) → plan, with the model."""

    def __init__(self, args: ServeArgs, producer: Producer | None = None):
        self.producer = producer or load_producer(args, args.model_device)
        self._lock = threading.Lock()  # one planning at a time per model
        if args.warmup:
            self.plan("warm-up trap beat", None, 1.0)

    def plan(self, prompt: str, song: InputSong | None, duration: float | None) -> ProductionPlan:
        with self._lock:
            return self.producer.plan(prompt, song, production_length(song, duration))


class GenerateStage:
    """Plan (and song) → every stem, with the pattern generators; no model."""

    def __init__(self, args: ServeArgs):
        self.sample_rate = args.sample_rate
        self._pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="generate")
        if args.warmup:
            self.generate(warm_plan(), None, 0)

    def generate(self, plan: ProductionPlan, song: InputSong | None, seed: int) -> dict[str, Stem]:
        return generate_stems_for(plan, song, seed, self.sample_rate, pool=self._pool)


class WriteStage:
    """Stems and prompt → `candidates` Faust mix scripts, with the model's constrained decoder."""

    def __init__(self, args: ServeArgs, producer: Producer | None = None):
        self.producer = producer or load_producer(args, args.writer_device)
        self._pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="write")
        self._lock = threading.Lock()  # one decode at a time per model
        if args.warmup:
            stems = generate_stems_for(warm_plan(), None, 0, args.sample_rate)
            self.write(stems, "warm-up", 1, 0)

    def write(
        self, stems: Mapping[str, Stem], prompt: str, candidates: int, seed: int
    ) -> list[tuple[str, float]]:
        with self._lock:
            return self.producer.write(stems, prompt, candidates, seed, pool=self._pool)


class RenderStage:
    """Scripts and stems → masters, each rendered, mastered, critiqued and scored; the best
    kept (`Producer.render_and_score`)."""

    def __init__(self, args: ServeArgs, producer: Producer | None = None):
        self.producer = producer or load_producer(args, args.model_device)
        self._pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="render")
        if args.warmup:  # the first render initialises libfaust; scoring, the quality head
            sr = args.sample_rate
            stems = generate_stems_for(warm_plan(), None, 0, sr)
            script = random_script(list(stems), np.random.default_rng(0), sr)
            self.render_and_score([(script, 0.0)], stems, warm_plan(), "warm-up")

    def render_and_score(
        self,
        written: Sequence[tuple[str, float]],
        stems: Mapping[str, Stem],
        plan: ProductionPlan,
        prompt: str,
    ) -> Selection:
        return self.producer.render_and_score(written, stems, plan, prompt, pool=self._pool)

    def render_script(
        self,
        script: str,
        stems: Mapping[str, np.ndarray],
        plan: ProductionPlan,
        prompt: str,
        *,
        compile_guard: bool = True,
    ) -> Selection:
        """One person's script over stored stems (arrays): validated, compiled first in a child
        process with a time limit (`compile_guard=False` skips that, for tests and benchmarks),
        rendered, critiqued (a script that does not mix stem by stem gets no verdict), scored.

        A compile past the limit is a `FaustCompileError` (HTTP 422), and the child is killed:
        a compile in this replica could not be stopped. `render_and_score` needs no guard: the
        model's scripts are grammar-constrained and compile in at most ~2.4 s (measured).
        """
        sr = self.producer.sample_rate
        if compile_guard:
            check_compiles(validate(script, len(stems), list(stems), sr), sr)
        as_stems = {role: Stem(role, audio, sr, plan.bpm) for role, audio in stems.items()}
        selection = self.producer.render_and_score(
            [(script, None)], as_stems, plan, prompt, pool=self._pool, teacher=False
        )
        selection.candidates[0].source = "user"
        return selection
