"""HTTP errors of the serving layer, and the one place where any exception becomes a status.

Domain errors (`producer.errors`) are raised deep in the stages, often in another replica; Ray
hands them back wrapped in a `RayTaskError` whose text carries a traceback. `unwrap` digs the
original out, and `http_error` turns it into a status and one clear line for the JSON body:

    ProducerError (bad prompt, unknown role)                      400
    PlanError (a prompt that refuses everything or contradicts)   422
    AudioInputError (unreadable, silent, corrupt upload)          400
    NotFoundError (unknown or expired result id, stem)            404
    LimitError (upload or request over a configured limit)        413 / 422
    FaustValidationError, FaustCompileError, RenderError          422
    ModelNotFoundError (e.g. no separator weights for a mix)      422
    BackPressureError, a replica that died or is not up yet       503 + Retry-After
    a request over its time limit                                 504
    anything else                                                 500, the traceback in the log
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from producer.errors import (
    AudioInputError,
    FaustCompileError,
    FaustValidationError,
    ModelNotFoundError,
    PlanError,
    ProducerError,
    RenderError,
)

__all__ = [
    "HttpError",
    "LimitError",
    "NotFoundError",
    "OverloadedError",
    "RequestTimeoutError",
    "http_error",
    "unwrap",
]


class NotFoundError(ProducerError):
    """No such result (never made, expired, or not a valid id), or no such file in it."""


class LimitError(ProducerError):
    """A request over a configured limit: 413 for an upload too large, 422 for the rest."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


class OverloadedError(ProducerError):
    """Every queue on the way is full; the client should come back after `retry_after_s`."""


class RequestTimeoutError(ProducerError):
    """The request ran past its time limit and was cancelled."""


@dataclass(frozen=True)
class HttpError:
    """What the edge answers: a status, a kind, one line, and the extras some kinds carry."""

    status: int
    kind: str  # the exception's class name, e.g. "FaustValidationError"
    message: str
    extra: dict = field(default_factory=dict)  # e.g. {"line": 3, "column": 7}
    retry_after: int | None = None  # seconds, for 503

    def body(self) -> dict:
        return {"error": {"status": self.status, "type": self.kind, "message": self.message}} | (
            {"detail": self.extra} if self.extra else {}
        )


_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (NotFoundError, 404),
    (FaustValidationError, 422),
    (FaustCompileError, 422),
    (RenderError, 422),
    (ModelNotFoundError, 422),
    (PlanError, 422),
    (AudioInputError, 400),
    (RequestTimeoutError, 504),
    (OverloadedError, 503),
    (ProducerError, 400),
)


def unwrap(exc: BaseException) -> BaseException:
    """The exception a replica raised, out of the `RayTaskError`s wrapped around it on the way."""
    from ray.exceptions import RayTaskError

    seen = 0
    while isinstance(exc, RayTaskError) and seen < 16:
        cause = getattr(exc, "cause", None)
        if cause is None or cause is exc:
            break
        exc, seen = cause, seen + 1
    return exc


def http_error(exc: BaseException, retry_after_s: int = 5) -> HttpError:
    """The status and message for any exception (call `unwrap` first for Ray's wrappers)."""
    kind = type(exc).__name__
    if isinstance(exc, LimitError):
        return HttpError(exc.status, kind, str(exc))
    if isinstance(exc, FaustValidationError):
        extra = {"line": exc.line, "column": exc.column} if exc.line is not None else {}
        return HttpError(422, kind, str(exc), extra)
    if isinstance(exc, OverloadedError):
        return HttpError(503, kind, str(exc), retry_after=retry_after_s)
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return HttpError(status, kind, str(exc))
    if _is_overload(exc):
        return HttpError(
            503,
            "Overloaded",
            "the server is busy: every queue for this request is full; retry later",
            retry_after=retry_after_s,
        )
    if _is_unavailable(exc):
        return HttpError(
            503,
            "Unavailable",
            "a stage of the pipeline is restarting or not up yet; retry later",
            retry_after=retry_after_s,
        )
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return HttpError(504, "RequestTimeoutError", "the request timed out")
    return HttpError(500, "InternalError", f"internal error ({kind}); see the server log")


def _is_overload(exc: BaseException) -> bool:
    from ray.serve.exceptions import BackPressureError

    return isinstance(exc, BackPressureError)


def _is_unavailable(exc: BaseException) -> bool:
    from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError
    from ray.serve.exceptions import DeploymentUnavailableError

    return isinstance(
        exc, RayActorError | ActorDiedError | ActorUnavailableError | DeploymentUnavailableError
    )
