"""The HTTP API's bodies (what `/openapi.json` describes).

Requests carry the hard bounds of the library (the longest production, the most candidates);
the tighter limits a deployment sets (`ServeArgs.limits`) are checked by the routes, which say
which limit a request broke.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from producer.faust.validate import MAX_SCRIPT_CHARS
from producer.plan import MAX_DURATION, ProductionPlan
from producer.schemas import QualityReport

__all__ = [
    "CandidateInfo",
    "ErrorBody",
    "ErrorInfo",
    "Health",
    "PlanRequest",
    "ProductionBody",
    "RenderRequest",
    "StemInfo",
]

RoleName = Literal["drums", "bass", "melody", "harmony", "vocals", "other"]


class PlanRequest(BaseModel):
    """`POST /v1/plan`: a prompt in, the production plan out (no audio is made)."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=10_000, description="What to make, in words.")
    duration: float = Field(20.0, ge=0.5, le=MAX_DURATION, description="Seconds to plan for.")


class RenderRequest(BaseModel):
    """`POST /v1/render`: an edited Faust mix script for the stems of an earlier result."""

    model_config = ConfigDict(extra="forbid")

    result_id: str = Field(
        min_length=1, max_length=64, description="The result whose stems to mix."
    )
    script: str = Field(
        min_length=1,
        max_length=MAX_SCRIPT_CHARS,
        description="The Faust mix script: the allowlisted subset of `docs/mix-language.md`, "
        "one `<role>_process` per stem of the result.",
    )


class StemInfo(BaseModel):
    role: RoleName = Field(description="The stem's role; `<role>_process` mixes it.")
    source: Literal["generate", "input"] = Field(description="Generated, or kept from the input.")
    generator: str = Field(description="The generator that made it (`input` for a kept stem).")
    events: int = Field(description="Notes or hits the generator played (0 for a kept stem).")
    url: str = Field(description="Where to download it: a 32-bit float WAV.")


class CandidateInfo(BaseModel):
    script: str = Field(description="The Faust mix script the model wrote.")
    logprob: float = Field(description="Its mean token log-probability under the model.")
    score: float = Field(description="The learned quality score of its master, 0..1.")
    findings: list[str] = Field(description="What the meters found wrong with its master.")
    total: float = Field(description="The selection score: score minus 0.05 per finding.")
    chosen: bool = Field(description="Whether this candidate's master is the result's.")


class ProductionBody(BaseModel):
    """A result: what `POST /v1/produce` and `POST /v1/render` answer, and
    `GET /v1/results/{id}` repeats until it expires."""

    id: str = Field(description="The result id (32 hex digits).")
    parent_id: str | None = Field(
        None, description="For a re-render: the result whose stems it mixes."
    )
    expires_at: float = Field(description="When the result's files are deleted (Unix time).")
    prompt: str
    seed: int
    duration_s: float = Field(description="Length of the master in seconds.")
    sample_rate: int
    plan: ProductionPlan
    script: str = Field(description="The Faust mix script of the master.")
    quality: QualityReport = Field(description="The master's meters and learned score.")
    candidates: list[CandidateInfo]
    stems: list[StemInfo]
    master_url: str = Field(description="The master: 24-bit WAV at -14 LUFS (the plan's target).")
    timings_s: dict[str, float] = Field(description="Seconds per stage, and in total.")


class ErrorInfo(BaseModel):
    status: int = Field(description="The HTTP status, repeated.")
    type: str = Field(description="The kind of error, e.g. FaustValidationError.")
    message: str = Field(
        description="One line saying what was wrong and, where it helps, how to fix it."
    )


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer."""

    error: ErrorInfo
    detail: dict[str, Any] | None = Field(
        None, description="Extras of some errors, e.g. `line` and `column` of a script error."
    )


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    sample_rate: int
    limits: dict[str, Any] = Field(description="The request limits this server applies.")
