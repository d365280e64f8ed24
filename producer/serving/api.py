"""The HTTP API: routes, limits, the result store, and every error as JSON.

    POST /v1/produce                        prompt (+ a song) → a result: plan, script, quality,
                                            the mix critic's verdict, candidates, stems, master
                                            (multipart form; `audio` optional)
    POST /v1/plan                           prompt → plan (JSON)
    POST /v1/render                         a result id + an edited Faust script → a new result
    GET  /v1/results/{id}                   the result's JSON again
    GET  /v1/results/{id}/master.wav        its master (24-bit WAV)
    GET  /v1/results/{id}/stems/{role}.wav  one of its stems (32-bit float WAV)
    GET  /healthz                           200 while the store is writable
    GET  /docs, /openapi.json               the API described

`create_api(backend, args)` builds the FastAPI app around any `Backend`: the Serve ingress
(`producer.serving.ingress`) or the stages in-process (`producer.serving.local`). Every error is
an `ErrorBody` with a 4xx (5xx for overload, timeouts and bugs) — never a traceback; the
mapping is `producer.serving.errors`. `GET /` is left free for a web page.

Before any route: `browser_guard` refuses a foreign Host (400) and a cross-site POST (403) and
adds the security headers (CSP, X-Frame-Options, nosniff) to every answer; `body_limit` bounds
each request body in size (413), in time (408) and in how many arrive at once (503).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from producer.faust.validate import validate
from producer.pipeline import DEFAULT_DURATION
from producer.plan import MAX_DURATION, ProductionPlan
from producer.serving.backend import Backend, Produced, ProduceJob
from producer.serving.body_limit import BodyLimit
from producer.serving.browser_guard import BrowserGuard, HostPolicy
from producer.serving.config import ServeArgs
from producer.serving.errors import (
    HttpError,
    LimitError,
    OverloadedError,
    RequestTimeoutError,
    http_error,
    unwrap,
)
from producer.serving.schemas import (
    ErrorBody,
    Health,
    PlanRequest,
    ProductionBody,
    RenderRequest,
    RoleName,
)
from producer.serving.store import PendingResult, ResultStore, StoredResult, new_result_id
from producer.serving.uploads import check_upload_size
from producer.serving.web import mount_web

__all__ = ["create_api"]

log = logging.getLogger("producer.serving")

_FORM_SLACK = 1 << 20  # bytes of form fields and multipart framing allowed beside an upload

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": what}
    for code, what in {
        400: "Bad input: an unusable upload, an empty prompt, a plan without stems.",
        404: "No such result (unknown or expired), or no such stem in it.",
        413: "The upload is over the size or length limit.",
        422: "A request outside the limits, a prompt that refuses every stem or contradicts "
        "itself, or a Faust script the validator refuses.",
        503: "Overloaded or a stage is restarting: retry after `Retry-After` seconds.",
        504: "The request ran past the server's time limit.",
    }.items()
}


def create_api(
    backend: Backend,
    args: ServeArgs,
    store: ResultStore | None = None,
    hosts: HostPolicy | None = None,
) -> FastAPI:
    """The FastAPI app over `backend`, with the limits and store of `args`.

    `hosts`: the Host names it answers to (`browser_guard`); default: what `producer serve`
    put in the environment, else the loopback names.
    """
    limits = args.limits
    store = store or ResultStore(args.store.dir, args.store.ttl_s)
    api = FastAPI(
        title="producer",
        version="1",
        summary="An AI hip-hop producer: plan, generate stems, mix with Faust, master, score.",
    )
    inflight = _Inflight(limits.max_inflight)
    # An upload plus the form around it; JSON bodies (a script) are far smaller. Also bounds
    # how long a body may take and how many may be arriving at once (stalled clients).
    api.add_middleware(
        BodyLimit,
        limit=limits.max_upload_bytes + _FORM_SLACK,
        retry_after_s=limits.retry_after_s,
    )
    # Added last, so it runs first: a foreign Host or a cross-site POST is refused before any
    # body is read, and every answer (refusals included) carries the security headers.
    api.add_middleware(
        BrowserGuard,
        policy=hosts or HostPolicy.from_env(),
        docs_paths=(api.docs_url, api.redoc_url, api.swagger_ui_oauth2_redirect_url),
    )

    def error_response(err: HttpError) -> JSONResponse:
        headers = {"Retry-After": str(err.retry_after)} if err.retry_after is not None else None
        return JSONResponse(err.body(), status_code=err.status, headers=headers)

    async def guarded(work):
        """Run a route's work with the time limit; any exception becomes its JSON answer."""
        try:
            return await asyncio.wait_for(work, limits.request_timeout_s)
        except TimeoutError:
            err = RequestTimeoutError(f"the request took over {limits.request_timeout_s:g} s")
            return error_response(http_error(err))
        except Exception as exc:  # the edge: everything becomes one JSON line
            cause = unwrap(exc)
            err = http_error(cause, limits.retry_after_s)
            if err.status >= 500 and err.status != 503:
                log.error("request failed: %s", err.message, exc_info=cause)
            return error_response(err)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(HttpError(422, "RequestValidationError", _first_problem(exc)))

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, LimitError):  # a body cut off by BodyLimit while parsed
            return error_response(http_error(exc.__cause__))
        return error_response(HttpError(exc.status_code, "HTTPException", str(exc.detail)))

    @api.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)
        return error_response(http_error(unwrap(exc), limits.retry_after_s))

    # ------------------------------------------------------------------ routes

    @api.post("/v1/produce", response_model=ProductionBody, responses=_ERRORS)
    async def produce(
        prompt: Annotated[str, Form(description="What to make, in words.")],
        duration: Annotated[
            float | None,
            Form(
                ge=0.5,
                le=MAX_DURATION,
                description="Seconds to make (default: the upload's length, or 20 s within the "
                "server's limit).",
            ),
        ] = None,
        seed: Annotated[int, Form(ge=0, le=2**31 - 1)] = 0,
        candidates: Annotated[int, Form(ge=1, le=16, description="Mix scripts to try.")] = 2,
        input_role: Annotated[
            RoleName | None,
            Form(
                description="The upload is already this one stem (e.g. vocals), kept as is; "
                "without it, a full mix is separated and its vocals kept."
            ),
        ] = None,
        audio: Annotated[
            UploadFile | None, File(description="A song to build on (WAV, FLAC, OGG, AIFF…).")
        ] = None,
    ):
        async def work():
            _check_produce(limits, prompt, duration, candidates)
            data, name = None, ""
            if audio is not None:
                data, name = await _read_upload(audio, limits.max_upload_bytes), audio.filename
            elif input_role is not None:
                raise LimitError("input_role was given without an audio upload")
            length = duration  # without one, the upload's length or the default within the limit
            if duration is None and data is None:
                length = min(DEFAULT_DURATION, limits.max_duration_s)
            job = ProduceJob(
                prompt,
                length,
                seed,
                candidates,
                data,
                name or "",
                input_role,
                limits.max_upload_seconds,
            )
            with inflight:
                # The result folder opens first so the stems can be written while the mix is
                # still being written and rendered; a failure or timeout gives it up.
                pending = await asyncio.to_thread(store.begin)
                try:
                    produced = await backend.produce(
                        job, on_stems=lambda stems: _write_stems(pending, stems, backend)
                    )
                    body = await asyncio.to_thread(
                        _store_production, pending, job, produced, backend.sample_rate
                    )
                except BaseException:
                    pending.abort()  # returns at once: the folder goes after its writes
                    raise
            await asyncio.to_thread(store.maybe_sweep, args.store.sweep_interval_s)
            return body

        return await guarded(work())

    @api.post("/v1/plan", response_model=ProductionPlan, responses=_ERRORS)
    async def plan(request: PlanRequest):
        async def work():
            _check_produce(limits, request.prompt, request.duration, 1)
            return await backend.plan(request.prompt, request.duration)

        return await guarded(work())

    @api.post("/v1/render", response_model=ProductionBody, responses=_ERRORS)
    async def render(request: RenderRequest):
        async def work():
            if len(request.script) > limits.max_script_chars:
                raise LimitError(f"the script is over {limits.max_script_chars} characters")
            parent = await asyncio.to_thread(store.get, request.result_id)
            rate = int(parent.record["sample_rate"])
            # Exactly what `producer render` / `validate-faust` check, before any audio moves.
            await asyncio.to_thread(
                validate,
                request.script,
                n_stems=len(parent.roles),
                roles=parent.roles,
                sample_rate=rate,
            )
            stems = await asyncio.to_thread(store.load_stems, parent)
            plan = ProductionPlan.model_validate(parent.record["plan"])
            started = time.perf_counter()
            with inflight:
                selection = await backend.render(
                    request.script, stems, plan, parent.record["prompt"]
                )
            timings = selection.timings | {"total": time.perf_counter() - started}
            body = await asyncio.to_thread(
                _store_render, store, parent, request.script, selection, timings
            )
            await asyncio.to_thread(store.maybe_sweep, args.store.sweep_interval_s)
            return body

        return await guarded(work())

    @api.get("/v1/results/{result_id}", response_model=ProductionBody, responses=_ERRORS)
    async def result(result_id: str):
        async def work():
            return _body((await asyncio.to_thread(store.get, result_id)).record)

        return await guarded(work())

    @api.get(
        "/v1/results/{result_id}/master.wav",
        response_class=FileResponse,
        responses={200: {"content": {"audio/wav": {}}}, **_ERRORS},
    )
    async def master(result_id: str):
        async def work():
            found = await asyncio.to_thread(store.get, result_id)
            return FileResponse(found.master_path, media_type="audio/wav", filename="master.wav")

        return await guarded(work())

    @api.get(
        "/v1/results/{result_id}/stems/{role}.wav",
        response_class=FileResponse,
        responses={200: {"content": {"audio/wav": {}}}, **_ERRORS},
    )
    async def stem(result_id: str, role: str):
        async def work():
            found = await asyncio.to_thread(store.get, result_id)
            path = found.stem_path(role)  # only the result's own roles: no other path
            return FileResponse(path, media_type="audio/wav", filename=f"{role}.wav")

        return await guarded(work())

    @api.get("/healthz", response_model=Health, responses=_ERRORS)
    async def healthz():
        async def work():
            await asyncio.to_thread(store.check_writable)
            return Health(sample_rate=backend.sample_rate, limits=limits.model_dump())

        return await guarded(work())

    mount_web(api, store)  # GET /: the web page, its assets and each result's plot.png
    return api


# ---------------------------------------------------------------------- helpers


class _Inflight:
    """Admission control: at most `limit` productions at once in this process (503 above)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.count = 0

    def __enter__(self) -> None:
        if self.count >= self.limit:
            raise OverloadedError(
                f"the server is busy ({self.count} requests in progress); retry later"
            )
        self.count += 1

    def __exit__(self, *exc) -> None:
        self.count -= 1


def _check_produce(limits, prompt: str, duration: float | None, candidates: int) -> None:
    if not prompt.strip():
        raise LimitError("the prompt is empty: say what to make")
    if len(prompt) > limits.max_prompt_chars:
        raise LimitError(
            f"the prompt is {len(prompt)} characters; the limit is {limits.max_prompt_chars}"
        )
    if duration is not None and duration > limits.max_duration_s:
        raise LimitError(
            f"duration {duration:g} s is over the limit of {limits.max_duration_s:g} s"
        )
    if candidates > limits.max_candidates:
        raise LimitError(f"candidates {candidates} is over the limit of {limits.max_candidates}")


async def _read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """The upload's bytes, refused (413) as soon as it passes `max_bytes`."""
    chunks, size = [], 0
    while chunk := await upload.read(1 << 20):
        size += len(chunk)
        check_upload_size(size, max_bytes)
        chunks.append(chunk)
    check_upload_size(size, max_bytes)
    return b"".join(chunks)


def _first_problem(exc: RequestValidationError) -> str:
    problems = exc.errors()
    if not problems:
        return "invalid request"
    first = problems[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where or 'request'}: {first.get('msg', 'invalid')}{more}"


def _candidates(selection) -> list[dict[str, Any]]:
    return [{"script": c.script, **c.summary()} for c in selection.candidates]


def _critic(selection) -> dict[str, Any]:
    """The mix critic's verdict on the chosen master and the prompt's mix words."""
    mix = selection.mix
    return {
        "mix": mix.to_dict() if mix is not None else None,
        "descriptors": [d.to_dict() for d in selection.descriptors],
    }


def _stem_infos(result_id: str, plan: ProductionPlan, stems: dict) -> list[dict[str, Any]]:
    sources = {s.role: s.source for s in plan.stems}
    return [
        {
            "role": role,
            "source": sources.get(role, "generate"),
            "generator": getattr(stem, "generator", "") or "input",
            "events": len(getattr(stem, "events", ())),
            "url": f"/v1/results/{result_id}/stems/{role}.wav",
        }
        for role, stem in stems.items()
    ]


def _write_stems(pending: PendingResult, stems: dict, backend) -> None:
    pending.write_stems({role: stem.audio for role, stem in stems.items()}, backend.sample_rate)


def _store_production(
    pending: PendingResult, job: ProduceJob, produced: Produced, rate: int
) -> dict:
    result_id = pending.id
    sel = produced.selection
    record = {
        "parent_id": None,
        "prompt": job.prompt,
        "seed": job.seed,
        "duration_s": round(sel.master.shape[1] / rate, 3),
        "plan": produced.plan.model_dump(mode="json"),
        "script": sel.script,
        "quality": sel.quality.model_dump(mode="json"),
        **_critic(sel),
        "candidates": _candidates(sel),
        "stems": _stem_infos(result_id, produced.plan, produced.stems),
        "master_url": f"/v1/results/{result_id}/master.wav",
        "timings_s": {k: round(v, 3) for k, v in produced.timings.items()},
    }
    if not pending.roles:  # a backend that did not hand the stems over early
        pending.write_stems({role: stem.audio for role, stem in produced.stems.items()}, rate)
    stored = pending.commit(record, sel.master, rate)
    return _body(stored.record)


def _store_render(
    store: ResultStore, parent: StoredResult, script: str, selection, timings: dict
) -> dict:
    result_id = new_result_id()
    rate = int(parent.record["sample_rate"])
    stems = [
        {**info, "url": f"/v1/results/{result_id}/stems/{info['role']}.wav"}
        for info in parent.record["stems"]
    ]
    record = {
        **{k: parent.record[k] for k in ("prompt", "seed", "plan")},
        "parent_id": parent.id,
        "duration_s": round(selection.master.shape[1] / rate, 3),
        "script": script,
        "quality": selection.quality.model_dump(mode="json"),
        **_critic(selection),
        "candidates": _candidates(selection),
        "stems": stems,
        "master_url": f"/v1/results/{result_id}/master.wav",
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
    stored = store.put(record, selection.master, rate, stems_from=parent, result_id=result_id)
    return _body(stored.record)


def _body(record: dict) -> dict:
    """The API's view of a stored record (`ProductionBody`'s fields only)."""
    return {k: record[k] for k in ProductionBody.model_fields if k in record}
