"""The web page at `GET /`: make a beat, listen, read the report, edit the mix, re-render.

    GET /                                   the page (producer/serving/web/index.html)
    GET /web/app.js, /web/style.css         its script and style sheet (nothing else is served)
    GET /v1/results/{id}/plot.png           the result's picture: stems, master, spectrogram,
                                            loudness over time and the plan (`report_plot`,
                                            the same PNG `producer demo` writes)

`mount_web(api, store)` adds these routes to the FastAPI app of `producer.serving.api`; the page
itself only calls the public API (`/healthz`, `/v1/produce`, `/v1/render`, the WAV downloads and
the picture). Plain HTML, CSS and JavaScript shipped inside the package: no build step, no CDN,
so the page works offline. The picture is drawn on first request (about a second; matplotlib is
not thread-safe, so one at a time per process) and kept in the result's folder until the result
expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from pathlib import Path
from types import SimpleNamespace

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse

from producer.audio.io import load_audio
from producer.pipeline.report_plot import plot_result
from producer.pipeline.result_files import plan_text
from producer.plan import ProductionPlan
from producer.schemas import QualityReport
from producer.serving.errors import HttpError, NotFoundError, http_error, unwrap
from producer.serving.schemas import ErrorBody
from producer.serving.store import ResultStore, StoredResult

log = logging.getLogger("producer.serving")

__all__ = ["WEB_DIR", "mount_web"]

WEB_DIR = Path(__file__).with_name("web")
_ASSETS = {"app.js": "text/javascript", "style.css": "text/css"}
_PLOT = "plot.png"
# The page and its assets change with the package: always revalidate (cheap: ETag, 304).
_NO_CACHE = {"Cache-Control": "no-cache"}
_PLOT_LOCK = threading.Lock()


def mount_web(api: FastAPI, store: ResultStore) -> None:
    """Serve the page, its assets and each result's picture from `api`."""

    def error_response(err: HttpError) -> JSONResponse:
        return JSONResponse(err.body(), status_code=err.status)

    @api.get("/", include_in_schema=False)
    async def page():
        return FileResponse(WEB_DIR / "index.html", media_type="text/html", headers=_NO_CACHE)

    @api.get("/web/{name}", include_in_schema=False)
    async def asset(name: str):
        if name not in _ASSETS:  # a fixed list: no request names any other file
            return error_response(HttpError(404, "NotFoundError", f"no web asset '{name}'"))
        return FileResponse(WEB_DIR / name, media_type=_ASSETS[name], headers=_NO_CACHE)

    @api.get(
        "/v1/results/{result_id}/plot.png",
        response_class=FileResponse,
        responses={
            200: {"content": {"image/png": {}}, "description": "The result's picture."},
            404: {"model": ErrorBody, "description": "No such result (unknown or expired)."},
        },
    )
    async def plot(result_id: str):
        """The result's picture (1400 x 1000 px PNG): every stem's waveform, the master's
        waveform, spectrogram and loudness against the target, and the plan as text."""
        try:
            found = await asyncio.to_thread(store.get, result_id)
            path = await asyncio.to_thread(_plot_file, store, found)
        except Exception as exc:  # the edge: one JSON line, as every other route
            return error_response(http_error(unwrap(exc)))
        return FileResponse(path, media_type="image/png", filename=f"{result_id}.png")


def _plot_file(store: ResultStore, found: StoredResult) -> Path:
    """The result's picture, drawn now if this is its first request."""
    path = found.folder / _PLOT
    with _PLOT_LOCK:
        if path.is_file():
            return path
        rate = int(found.record["sample_rate"])
        try:
            stems = store.load_stems(found)
            master = load_audio(found.master_path, rate)
            plot_result(
                stems, master, rate, _plan_text(found.record), path, title=found.record["prompt"]
            )
        except FileNotFoundError:  # expired and swept while we drew
            raise NotFoundError(f"result {found.id} expired") from None
        except Exception:
            log.exception("result %s: plot.png could not be drawn", found.id)
            raise
        with contextlib.suppress(OSError):  # the store is private: 0600 whatever the umask
            os.chmod(path, 0o600)
    return path


def _plan_text(record: dict) -> str:
    """The picture's side panel, in the words `producer demo` uses (`result_files.plan_text`)."""
    result = SimpleNamespace(
        prompt=record["prompt"],
        seed=record["seed"],
        duration=record["duration_s"],
        plan=ProductionPlan.model_validate(record["plan"]),
        quality=QualityReport.model_validate(record["quality"]),
        stems={
            s["role"]: SimpleNamespace(
                generator="" if s["generator"] == "input" else s["generator"]
            )
            for s in record["stems"]
        },
        candidates=[SimpleNamespace(**c) for c in record["candidates"]],
        mix=record.get("mix"),
    )
    return plan_text(result)
