"""The HTTP API's bodies (what `/openapi.json` describes).

Requests carry the hard bounds of the library (the longest production, the most candidates);
the tighter limits a deployment sets (`ServeArgs.limits`) are checked by the routes, which say
which limit a request broke.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from producer.faust.validate import MAX_SCRIPT_CHARS
from producer.pipeline import BASIC_FAILURE_PENALTY, CRITIC_WEIGHT, FINDING_PENALTY
from producer.plan import MAX_DURATION, ProductionPlan
from producer.schemas import QualityReport

__all__ = [
    "CandidateInfo",
    "DescriptorInfo",
    "ErrorBody",
    "ErrorInfo",
    "Health",
    "MixCheckInfo",
    "MixVerdictInfo",
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
    script: str = Field(description="The Faust mix script.")
    source: Literal["model", "teacher", "user"] = Field(
        "model",
        description="Who wrote it: the model, the mixing teacher (a search against the mix "
        "critic) or the person who sent it to be rendered.",
    )
    logprob: float | None = Field(
        description="Its mean token log-probability under the model (null: not the model's)."
    )
    score: float = Field(description="The learned quality score of its master, 0..1.")
    findings: list[str] = Field(description="What the meters found wrong with its master.")
    critic_score: float | None = Field(
        None,
        description="The mix critic's score of its mix, 0..1 (1: every check passes); null "
        "when the critic could not hear it (a script that does not mix stem by stem).",
    )
    critic_findings: list[str] | None = Field(
        None, description="What the mix critic found wrong, one sentence each, basics first."
    )
    passes_basics: bool | None = Field(
        None, description="Whether every basic check of the mix critic passed."
    )
    total: float = Field(
        description=f"The selection score: score, minus {FINDING_PENALTY:g} per finding, minus "
        f"{CRITIC_WEIGHT:g} x (1 - critic_score), minus {BASIC_FAILURE_PENALTY:g} per failed "
        "basic check of the critic; the highest is chosen."
    )
    chosen: bool = Field(description="Whether this candidate's master is the result's.")


class MixCheckInfo(BaseModel):
    """One check of the mix critic: what it measured, against what, and what it concluded."""

    name: str = Field(description="e.g. balance, buried, low_end_kept, tonal_balance, plr.")
    passed: bool
    value: float | None = Field(description="The measured number (null: not measurable).")
    limit: float | list[float] | None = Field(
        description="The limit: a bound, or an inclusive [lo, hi] range."
    )
    stem: str | None = Field(None, description="The stem it is about, or the main source.")
    band: str | None = Field(None, description="The frequency band it is about.")
    basic: bool = Field(description="One of the basics that `passes_basics` requires.")
    message: str = Field(description="What an engineer would say about a failed check.")
    severity: float = Field(description="How far outside its limit, in the check's scale.")
    weight: float = Field(description="Its weight in the score.")


class MixVerdictInfo(BaseModel):
    """The mix critic's verdict on a master (`producer.mixing.critic.MixVerdict.to_dict`)."""

    style: str | None = Field(description="The style whose targets it was checked against.")
    score: float = Field(description="0..1: 1 when every check passes, lower as faults add up.")
    passes_basics: bool = Field(
        description="No stem buried or overpowering, the low end kept and mono, not harsh or muddy."
    )
    findings: list[str] = Field(description="The failed checks' sentences, basics first.")
    mix_lufs: float | None = Field(None, description="Loudness of the pre-master mix, LUFS.")
    master_lufs: float | None = Field(None, description="Loudness of the master, LUFS.")
    plr_db: float | None = Field(None, description="Peak-to-loudness ratio of the master, dB.")
    stem_lufs: dict[str, float | None] = Field(
        default_factory=dict, description="Each stem's loudness through its chain, LUFS."
    )
    balance_lu: dict[str, float | None] = Field(
        default_factory=dict, description="Each stem's loudness against the mix, LU."
    )
    bands: dict[str, dict[str, float | None]] = Field(
        default_factory=dict, description="The master's numbers per band against the style curve."
    )
    checks: list[MixCheckInfo]


class DescriptorInfo(BaseModel):
    """A mix word of the prompt ("heavy 808s", "bright") and how it moved the critic's targets."""

    name: str
    words: list[str] = Field(description="The prompt's words that matched.")
    change: str = Field(description="The move, in one line, or why nothing changed.")
    status: Literal["applied", "negated", "cancelled", "overruled"]
    role: str | None = Field(None, description="The stem it moves, for a stem's descriptor.")


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
    mix: MixVerdictInfo | None = Field(
        None,
        description="The mix critic's verdict on the master: what a mix engineer checks, "
        "against the style's targets moved by the prompt's words (null: not measured).",
    )
    descriptors: list[DescriptorInfo] = Field(
        default_factory=list, description="The prompt's mix words, as the critic applied them."
    )
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
