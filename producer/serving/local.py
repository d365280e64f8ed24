"""The stages in this process, one model shared: the HTTP API without Ray.

    from producer.serving.api import create_api
    from producer.serving.local import LocalBackend
    app = create_api(LocalBackend(ServeArgs()), ServeArgs())   # any ASGI server, or TestClient

Same stages, same order as the Serve graph (`producer.serving.ingress`): both run
`producer.pipeline.stage_order.run_stages`, here with each stage in a worker thread so the event
loop stays free. Used by the API tests, and handy for debugging a
route without a Ray cluster.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np

from producer.pipeline import Producer, Selection
from producer.pipeline.stage_order import ThreadCalls, run_stages
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
            # Pending, as the Serve graph's: the planner's time includes the input's.
            song = asyncio.ensure_future(
                asyncio.to_thread(
                    self._input.prepare,
                    job.upload,
                    job.upload_name,
                    job.input_role,
                    job.duration,
                    job.max_upload_seconds,
                )
            )
        calls = ThreadCalls(
            plan=self.planner.plan,
            generate=self.generator.generate,
            write=self.writer.write,
            render_and_score=self.renderer.render_and_score,
        )
        made = await run_stages(
            calls, job.prompt, song, job.duration, job.seed, job.candidates, on_stems=on_stems
        )
        made.timings["total"] = time.perf_counter() - started
        return Produced(made.plan, made.stems, made.selection, made.timings)

    async def render(
        self, script: str, stems: dict[str, np.ndarray], plan: ProductionPlan, prompt: str
    ) -> Selection:
        return await asyncio.to_thread(self.renderer.render_script, script, stems, plan, prompt)
