"""The HTTP ingress of the Serve graph: FastAPI routes over the stage deployments.

One production is one chain of handle calls, issued at once by
`producer.pipeline.stage_order.run_stages` (the stage order `Producer` and the local backend run
too); each call gets the previous stage's DeploymentResponse as an argument, so Serve passes
object references and every replica fetches its input straight from the replica that made it:

    song     = separator.prepare(upload…)                 (only with an upload)
    plan     = planner.plan(prompt, song, duration)
    stems    = generator.generate(plan, song, seed)
    written  = writer.write(stems, prompt, candidates, seed)
    selected = renderer.render_and_score(written, stems, plan, prompt)

The ingress awaits the plan, then the stems — which the route starts writing to the result
store while the writer and the renderer work — and at the end the chosen master. Nothing
blocks its event loop: handlers `await`, file work runs in threads. A request past its time
limit cancels every call still in flight.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
from ray import serve
from ray.serve.handle import DeploymentHandle, DeploymentResponse

from producer.pipeline import Selection
from producer.pipeline.stage_order import run_stages
from producer.plan import ProductionPlan
from producer.serving.api import create_api
from producer.serving.backend import Produced, ProduceJob, StemsReady
from producer.serving.config import ServeArgs
from producer.serving.store import ResultStore

__all__ = ["Ingress"]


@serve.deployment(
    ray_actor_options={"num_cpus": 0.25},
    # High: the ingress only awaits; its own admission limit (limits.max_inflight) answers 503
    # as JSON. The queue bound behind it is the proxy's last resort (plain 503 + Retry-After).
    max_ongoing_requests=64,
    max_queued_requests=64,
    backpressure_config={"status_code": 503, "retry_after_s": 5},
    autoscaling_config={
        "min_replicas": 1,
        "initial_replicas": 1,
        "max_replicas": 2,
        "target_ongoing_requests": 16,
    },
    health_check_period_s=10,
)
@serve.ingress()
class Ingress:
    """The FastAPI app (`producer.serving.api`) over the stage deployments' handles."""

    def __init__(
        self,
        args: ServeArgs | dict,
        separator: DeploymentHandle,
        planner: DeploymentHandle,
        generator: DeploymentHandle,
        writer: DeploymentHandle,
        renderer: DeploymentHandle,
    ):
        self.args = args if isinstance(args, ServeArgs) else ServeArgs.model_validate(args)
        self.sample_rate = self.args.sample_rate
        self.separator = separator
        self.planner = planner
        self.generator = generator
        self.writer = writer
        self.renderer = renderer
        self.store = ResultStore(self.args.store.dir, self.args.store.ttl_s)

    def __serve_build_asgi_app__(self):
        return create_api(self, self.args, self.store)

    # ------------------------------------------------------------------ Backend

    async def plan(self, prompt: str, duration: float) -> ProductionPlan:
        response = self.planner.plan.remote(prompt, None, duration)
        async with _Calls(response):
            return await response

    async def produce(self, job: ProduceJob, on_stems: StemsReady | None = None) -> Produced:
        started = time.perf_counter()
        song = None
        if job.upload is not None:
            song = self.separator.prepare.remote(
                job.upload, job.upload_name, job.input_role, job.duration, job.max_upload_seconds
            )
        made = await run_stages(
            _Handles(self), job.prompt, song, job.duration, job.seed, job.candidates,
            on_stems=on_stems,  # the store writes them while the writer works
        )  # fmt: skip
        made.timings["total"] = time.perf_counter() - started
        return Produced(made.plan, made.stems, made.selection, made.timings)

    async def render(
        self, script: str, stems: dict[str, np.ndarray], plan: ProductionPlan, prompt: str
    ) -> Selection:
        response = self.renderer.render_script.remote(script, stems, plan, prompt)
        async with _Calls(response):
            return await response

    # ------------------------------------------------------------------ health

    def check_health(self) -> None:
        self.store.check_writable()


class _Handles:
    """The stage deployments as `StageCalls`: each call returns its DeploymentResponse at once,
    and a response given as an argument reaches the next replica as an object reference."""

    def __init__(self, ingress: Ingress):
        self.ingress = ingress

    def plan(self, prompt, song, duration):
        return self.ingress.planner.plan.remote(prompt, song, duration)

    def generate(self, plan, song, seed):
        return self.ingress.generator.generate.remote(plan, song, seed)

    def write(self, stems, prompt, candidates, seed):
        return self.ingress.writer.write.remote(stems, prompt, candidates, seed)

    def render_and_score(self, written, stems, plan, prompt):
        return self.ingress.renderer.render_and_score.remote(written, stems, plan, prompt)


class _Calls:
    """Cancels every call still in flight when the block is left early (error or timeout)."""

    def __init__(self, *responses: DeploymentResponse | None):
        self.responses = [r for r in responses if r is not None]

    async def __aenter__(self) -> _Calls:
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            return
        for response in self.responses:
            with contextlib.suppress(Exception):  # already done or cancelled: nothing to do
                response.cancel()
