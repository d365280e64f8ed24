"""One Ray Serve deployment per stage of the pipeline (`producer.serving.stages` does the work).

    Separator  upload → InputSong        Demucs (a GPU in cluster.yaml)
    Planner    prompt, song → plan       the model
    Generator  plan, song → stems        pattern generators and Faust instruments, no model
    Writer     stems → Faust scripts     the model's constrained decoder (a GPU in cluster.yaml)
    Renderer   scripts, stems → master   libfaust + mastering, scored by the model

Each replica loads its stage once, in `__init__`; handlers are `async` and run the stage in a
worker thread, so the replica's event loop keeps answering health checks while it works.
Arguments may be DeploymentResponses of the stage before: Serve hands them over as object
references and the replica fetches the data from the one that made it, never through the
ingress. The options here are defaults; `serve_configs/*.yaml` set them per deployment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import numpy as np
from ray import serve

from producer.generators.events import Stem
from producer.pipeline import Selection
from producer.pipeline.input_song import InputSong
from producer.plan import ProductionPlan
from producer.serving.config import ServeArgs
from producer.serving.stages import (
    GenerateStage,
    InputStage,
    PlanStage,
    RenderStage,
    WriteStage,
    setup_process,
)

__all__ = ["Generator", "Planner", "Renderer", "Separator", "Writer"]

# Defaults of every stage: CPU replicas that scale 1..4 on queue length, bounded queues.
_AUTOSCALING = {
    "min_replicas": 1,
    "initial_replicas": 1,
    "max_replicas": 4,
    "target_ongoing_requests": 1,
    "upscale_delay_s": 10,
    "downscale_delay_s": 300,
}
_OPTIONS = {
    "autoscaling_config": _AUTOSCALING,
    "max_queued_requests": 16,
    "health_check_period_s": 10,
    "health_check_timeout_s": 30,
    "graceful_shutdown_timeout_s": 60,
}


def _args(args: ServeArgs | dict) -> ServeArgs:
    return args if isinstance(args, ServeArgs) else ServeArgs.model_validate(args)


@serve.deployment(ray_actor_options={"num_cpus": 1}, max_ongoing_requests=1, **_OPTIONS)
class Separator:
    """Input songs: decode the upload, separate a full mix (Demucs) or keep a stem, analyse."""

    def __init__(self, args: ServeArgs | dict):
        self.args = _args(args)
        setup_process(self.args)
        self.stage = InputStage(self.args)

    async def prepare(
        self,
        data: bytes,
        filename: str,
        role: str | None,
        duration: float | None,
        max_seconds: float,
    ) -> InputSong:
        return await asyncio.to_thread(
            self.stage.prepare, data, filename, role, duration, max_seconds
        )

    def check_health(self) -> None:
        """Healthy without separator weights too: uploads given as one stem need none."""


@serve.deployment(ray_actor_options={"num_cpus": 0.5}, max_ongoing_requests=4, **_OPTIONS)
class Planner:
    """The model plans style, tempo, key and stems; a song's tempo and key count."""

    def __init__(self, args: ServeArgs | dict):
        self.args = _args(args)
        setup_process(self.args)
        self.stage = PlanStage(self.args)

    async def plan(
        self, prompt: str, song: InputSong | None, duration: float | None
    ) -> ProductionPlan:
        return await asyncio.to_thread(self.stage.plan, prompt, song, duration)

    def check_health(self) -> None:
        if self.stage.producer.model is None:
            raise RuntimeError("the planner's model is gone")


@serve.deployment(ray_actor_options={"num_cpus": 1}, max_ongoing_requests=2, **_OPTIONS)
class Generator:
    """Every stem of the plan, in tempo and key, on the song's beat grid."""

    def __init__(self, args: ServeArgs | dict):
        self.args = _args(args)
        setup_process(self.args, uses_torch=False)
        self.stage = GenerateStage(self.args)

    async def generate(
        self, plan: ProductionPlan, song: InputSong | None, seed: int
    ) -> dict[str, Stem]:
        return await asyncio.to_thread(self.stage.generate, plan, song, seed)

    def check_health(self) -> None:
        """Nothing loaded that could break: alive is healthy."""


@serve.deployment(ray_actor_options={"num_cpus": 1}, max_ongoing_requests=2, **_OPTIONS)
class Writer:
    """The model writes candidate Faust mix scripts (grammar-constrained: all of them valid)."""

    def __init__(self, args: ServeArgs | dict):
        self.args = _args(args)
        setup_process(self.args)
        self.stage = WriteStage(self.args)

    async def write(
        self, stems: Mapping[str, Stem], prompt: str, candidates: int, seed: int
    ) -> list[tuple[str, float]]:
        return await asyncio.to_thread(self.stage.write, stems, prompt, candidates, seed)

    def check_health(self) -> None:
        if self.stage.producer.model is None:
            raise RuntimeError("the writer's model is gone")


@serve.deployment(ray_actor_options={"num_cpus": 1}, max_ongoing_requests=2, **_OPTIONS)
class Renderer:
    """Each script rendered by libfaust, mastered, scored; the best master kept."""

    def __init__(self, args: ServeArgs | dict):
        self.args = _args(args)
        setup_process(self.args)
        self.stage = RenderStage(self.args)

    async def render_and_score(
        self,
        written: Sequence[tuple[str, float]],
        stems: Mapping[str, Stem],
        plan: ProductionPlan,
        prompt: str,
    ) -> Selection:
        return await asyncio.to_thread(self.stage.render_and_score, written, stems, plan, prompt)

    async def render_script(
        self, script: str, stems: Mapping[str, np.ndarray], plan: ProductionPlan, prompt: str
    ) -> Selection:
        return await asyncio.to_thread(self.stage.render_script, script, stems, plan, prompt)

    def check_health(self) -> None:
        if self.stage.producer.model is None:
            raise RuntimeError("the renderer's model is gone")
