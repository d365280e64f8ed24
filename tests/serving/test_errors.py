"""Every exception becomes one status and one line: domain errors from any depth, Ray's own."""

from __future__ import annotations

import pytest
from ray.exceptions import ActorDiedError, RayTaskError
from ray.serve.exceptions import BackPressureError

from producer.audio.separation import SeparatorNotFoundError
from producer.errors import (
    AudioInputError,
    FaustCompileError,
    FaustValidationError,
    ProducerError,
    RenderError,
)
from producer.serving.errors import (
    LimitError,
    NotFoundError,
    OverloadedError,
    RequestTimeoutError,
    http_error,
    unwrap,
)


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (ProducerError("the prompt is empty"), 400),
        (AudioInputError("upload 'a.wav': corrupt"), 400),
        (NotFoundError("no result"), 404),
        (LimitError("too big", status=413), 413),
        (LimitError("too many candidates"), 422),
        (FaustValidationError("'ffunction': foreign", 1, 35), 422),
        (FaustCompileError("libfaust: boom"), 422),
        (RenderError("non-finite output"), 422),
        (SeparatorNotFoundError("htdemucs is not on disk"), 422),
        (OverloadedError("busy"), 503),
        (RequestTimeoutError("over 300 s"), 504),
        (BackPressureError(num_queued_requests=8, max_queued_requests=8), 503),
        (TimeoutError(), 504),
        (RuntimeError("secret internals /home/x"), 500),
    ],
)
def test_status_of_each_kind_of_error(exc, status):
    err = http_error(exc, retry_after_s=7)
    assert err.status == status
    body = err.body()["error"]
    assert body["status"] == status and body["message"] and "\n" not in body["message"]
    if status == 503:
        assert err.retry_after == 7
    if status == 500:
        assert "secret" not in body["message"]  # the log has it, the client does not


def test_a_script_error_carries_its_position():
    err = http_error(FaustValidationError("'soundfile' is not allowed", 3, 7))
    assert err.body() == {
        "error": {
            "status": 422,
            "type": "FaustValidationError",
            "message": "line 3, column 7: 'soundfile' is not allowed",
        },
        "detail": {"line": 3, "column": 7},
    }


def test_errors_come_out_of_rays_wrappers_whole():
    original = AudioInputError("upload 'x.wav': contains no audio (zero length)")
    inner = RayTaskError("prepare", "Traceback (most recent call last):\n  ...", original)
    outer = RayTaskError("plan", "Traceback:\n ...", inner.as_instanceof_cause())
    wrapped = outer.as_instanceof_cause()
    assert "Traceback" in str(wrapped)  # what a naive handler would send
    cause = unwrap(wrapped)
    assert cause is original
    assert http_error(cause).message == str(original)


def test_a_dead_replica_is_a_503_to_retry():
    err = http_error(ActorDiedError(), retry_after_s=5)
    assert (err.status, err.retry_after) == (503, 5)
