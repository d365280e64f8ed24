"""What the HTTP routes ask of the pipeline, whoever runs it.

The routes (`producer.serving.api`) talk to a `Backend`: the Ray Serve ingress, which chains the
stage deployments through DeploymentHandles (`producer.serving.ingress`), or the same stages in
this process (`producer.serving.local`, for tests and debugging without Ray). Either way the
stages are `producer.serving.stages`, which call `producer.pipeline`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from producer.generators.events import Stem
from producer.pipeline import Selection
from producer.plan import ProductionPlan

__all__ = ["Backend", "ProduceJob", "Produced", "StemsReady"]

# Called with a production's stems the moment they are made; must return at once.
StemsReady = Callable[[dict[str, Stem]], None]


@dataclass(frozen=True)
class ProduceJob:
    """One `POST /v1/produce`, checked against the limits already."""

    prompt: str
    duration: float | None  # None: the upload's length, or the pipeline's default
    seed: int
    candidates: int
    upload: bytes | None = None  # the song, as uploaded (any format libsndfile reads)
    upload_name: str = ""
    input_role: str | None = None  # the upload is already this stem (None: a full mix)
    max_upload_seconds: float = 120.0  # a longer upload is refused (413)


@dataclass
class Produced:
    """What a production made; the route stores it and answers with its JSON."""

    plan: ProductionPlan
    stems: dict[str, Stem]
    selection: Selection
    timings: dict[str, float] = field(default_factory=dict)


class Backend(Protocol):
    """The pipeline as the routes see it. Errors are raised as they come (the routes map them)."""

    sample_rate: int

    async def plan(self, prompt: str, duration: float) -> ProductionPlan: ...

    async def produce(self, job: ProduceJob, on_stems: StemsReady | None = None) -> Produced:
        """Run the production; `on_stems` is called with the stems as soon as they exist (the
        route starts writing them to the store while the mix is written and rendered)."""
        ...

    async def render(
        self, script: str, stems: dict[str, np.ndarray], plan: ProductionPlan, prompt: str
    ) -> Selection: ...
