"""The stages in this process, one model shared: the HTTP API without Ray.

    from producer.serving.api import create_api
    from producer.serving.local import LocalBackend
    app = create_api(LocalBackend(ServeArgs()), ServeArgs())   # any ASGI server, or TestClient

Same stages, same order as the Serve graph (`producer.serving.ingress`); each call runs in a
worker thread so the event loop stays free. Used by the API tests, and handy for debugging a
route without a Ray cluster.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np

from producer.pipeline import Producer, Selection
from producer.plan import ProductionPlan
from producer.serving.backend import Produced, ProduceJob, StemsReady
from producer.serving.config import ServeArgs
from producer.serving.stages import (
    GenerateStage,
    InputStage,
    PlanStage,
    RenderStage,
    WriteStage,
    load_producer,
)

__all__ = ["LocalBackend"]


class LocalBackend:
    """Every stage in this process. `producer` shares an already loaded model."""

    def __init__(self, args: ServeArgs, producer: Producer | None = None):
        self.args = args
        self.sample_rate = args.sample_rate
        producer = producer or load_producer(args, args.model_device)
        self._input: InputStage | None = None  # Demucs is loaded on the first upload
        self.planner = PlanStage(args, producer)
        self.generator = GenerateStage(args)
        self.writer = WriteStage(args, producer)
        self.renderer = RenderStage(args, producer)

    async def plan(self, prompt: str, duration: float) -> ProductionPlan:
        return await asyncio.to_thread(self.planner.plan, prompt, None, duration)

    async def produce(self, job: ProduceJob, on_stems: StemsReady | None = None) -> Produced:
        started = time.perf_counter()
        song = None
        if job.upload is not None:
            if self._input is None:
                self._input = await asyncio.to_thread(InputStage, self.args)
            song = await asyncio.to_thread(
                self._input.prepare,
                job.upload,
                job.upload_name,
                job.input_role,
                job.duration,
                job.max_upload_seconds,
            )
        plan = await asyncio.to_thread(self.planner.plan, job.prompt, song, job.duration)
        timings = {"plan": time.perf_counter() - started}
        t = time.perf_counter()
        stems = await asyncio.to_thread(self.generator.generate, plan, song, job.seed)
        timings["generate"] = time.perf_counter() - t
        if on_stems is not None:
            on_stems(stems)
        t = time.perf_counter()
        written = await asyncio.to_thread(
            self.writer.write, stems, job.prompt, job.candidates, job.seed
        )
        timings["write"] = time.perf_counter() - t
        selection = await asyncio.to_thread(
            self.renderer.render_and_score, written, stems, plan, job.prompt
        )
        timings |= selection.timings
        timings["total"] = time.perf_counter() - started
        return Produced(plan, stems, selection, timings)

    async def render(
        self, script: str, stems: dict[str, np.ndarray], plan: ProductionPlan, prompt: str
    ) -> Selection:
        return await asyncio.to_thread(self.renderer.render_script, script, stems, plan, prompt)
