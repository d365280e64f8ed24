"""Fuzz of the OpenAPI spec (schemathesis): no request the spec allows — or breaks — gets a 5xx,
and every answer matches the schema and status codes the spec declares.

The API runs over ASGI on the stages in this process (no Serve), on the tiny model, with limits
that keep every production short (1 s at most, one candidate) and admission wide open (the
calls are sequential: a 503 here would be a bug). Both generation modes run: schema-valid
requests (answered 200 or a 4xx for a tighter limit) and schema-breaking ones (answered 4xx).
"""

from __future__ import annotations

import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from producer.serving.browser_guard import HostPolicy

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
LIMITS = {
    "max_duration_s": 1.0,
    "max_candidates": 2,  # the default
    "max_prompt_chars": 200,
    "max_upload_bytes": 64 * 1024,
    "max_upload_seconds": 1.0,
    "max_inflight": 1000,
    "request_timeout_s": 120,
}
# schemathesis and TestClient send `Host: testserver`; browser_guard refuses names it was not told.
_FUZZ_HOSTS = HostPolicy.build(extra=["testserver"])


@pytest.fixture(scope="module")
def fuzz_api(local_backend, tmp_path_factory):
    """The API, and one real result (so /v1/render and /v1/results/{id} get past 404)."""
    from fastapi.testclient import TestClient

    from producer.serving.api import create_api
    from producer.serving.config import ServeArgs

    args = ServeArgs(
        checkpoint=local_backend.args.checkpoint,
        limits=LIMITS,
        store={"dir": str(tmp_path_factory.mktemp("fuzz-results"))},
    )
    app = create_api(local_backend, args, hosts=_FUZZ_HOSTS)
    with TestClient(app) as client:
        made = client.post("/v1/produce", data={"prompt": "trap", "duration": 0.5, "candidates": 1})
    assert made.status_code == 200, made.text
    return app, made.json()


def _spec_only_api():
    """The API's routes and spec, with nothing behind them (the spec needs neither)."""
    from producer.serving.api import create_api
    from producer.serving.config import ServeArgs

    return create_api(backend=None, args=ServeArgs(), store=object(), hosts=_FUZZ_HOSTS)


# Loaded at import (schemathesis' lazy `from_fixture` does not run on pytest 9); every call goes
# to the fixture's API through `app=`.
schema = schemathesis.openapi.from_asgi("/openapi.json", _spec_only_api())


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same examples every run: a failure here is reproducible
)
def test_no_request_gets_a_5xx_and_every_answer_matches_the_spec(case, fuzz_api):
    app, made = fuzz_api
    # Half the ids point at the real result, so the script validator and renderer are reached.
    if isinstance(case.path_parameters, dict) and "result_id" in case.path_parameters:
        if _pick(case.path_parameters) % 2:
            case.path_parameters["result_id"] = made["id"]
        if "role" in case.path_parameters and _pick(case.path_parameters) % 4 == 1:
            case.path_parameters["role"] = made["stems"][0]["role"]
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("result_id"), str) and _pick(body) % 2:
        body["result_id"] = made["id"]
    # Most schema-valid productions are over a limit (a quick 422), and schemathesis sends
    # `audio` as a text part, not a file (422 too); bring half of them inside, so the whole
    # pipeline runs on fuzzed prompts and seeds.
    if isinstance(case.body, dict) and case.path == "/v1/produce" and _pick(case.body) % 2:
        duration = case.body.get("duration")
        if isinstance(duration, float | int) and duration > 1:
            case.body["duration"] = 0.5 + duration % 0.5
        if isinstance(case.body.get("candidates"), int):
            case.body["candidates"] = 1
        if case.body.get("prompt") == "":  # an empty form field reads as a missing one
            case.body["prompt"] = "beat"
        if not isinstance(case.body.get("audio"), bytes):
            case.body.pop("audio", None)
            case.body.pop("input_role", None)
    case.call_and_validate(app=app, checks=CHECKS)


def _pick(value) -> int:
    """A stable hash (Python's own is salted per process) to choose some examples."""
    return zlib.crc32(repr(value).encode())


def test_a_production_without_a_duration_stays_within_the_duration_limit(fuzz_api):
    """Found by the fuzz: the default length (20 s) ignored `max_duration_s`."""
    from fastapi.testclient import TestClient

    app, _ = fuzz_api
    with TestClient(app) as client:
        made = client.post("/v1/produce", data={"prompt": "lo-fi", "candidates": 1})
    assert made.status_code == 200, made.text
    assert made.json()["duration_s"] == LIMITS["max_duration_s"]
