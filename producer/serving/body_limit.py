"""Request bodies are bounded in size, in time, and in how many may be arriving at once.

Size: a multipart upload is spooled whole by the form parser before a route runs, so the
route's own size check would come after the disk filled up. This ASGI middleware refuses a
declared `Content-Length` over the limit at once (413, JSON), and stops a body sent without
one (chunked) as soon as it passes the limit.

Time and count (stalled clients): Serve's HTTP proxy hands a request to the ingress replica as
soon as its headers arrive, and the replica pulls the body from the proxy while the route
parses it; a request stays one of the replica's `max_ongoing_requests` until it is answered.
Measured before this bound: 60 connections that sent headers and 5 body bytes, then nothing,
held every slot of the ingress and its queue, and every other request, `/healthz` included,
got the proxy's plain-text 503 for as long as they stayed open (Serve's proxy exposes no body
read timeout, and uvicorn has none). So:

- at most `max_unfinished` requests per replica may be receiving a body at once; one more is
  answered 503 (JSON, `Retry-After`) at once, without reading its body. A request counts from
  its headers until its last body byte (or its answer, or the client leaving), so requests
  without a body (`/healthz`, downloads) never wait behind slow uploads;
- a body that sends nothing for `idle_timeout_s`, or is not complete after `body_timeout_s`,
  is answered 408 (JSON), which frees the slot and, through the proxy, the connection.
"""

from __future__ import annotations

import asyncio
import time

from fastapi.responses import JSONResponse

from producer.serving.errors import LimitError, OverloadedError, http_error

__all__ = [
    "BODY_TIMEOUT_S",
    "IDLE_TIMEOUT_S",
    "MAX_UNFINISHED",
    "BodyLimit",
    "body_too_large",
]

#: Seconds a request body may send nothing before it is refused (408).
IDLE_TIMEOUT_S = 10.0
#: Seconds a whole request body may take (408 after): 32 MiB needs about 2.2 Mbit/s.
BODY_TIMEOUT_S = 120.0
#: Requests per ingress replica whose bodies may be arriving at once (503 above). Well under
#: the ingress's `max_ongoing_requests` (32 in serve_configs/local.yaml, 64 by default), so
#: slow or stalled uploads never take the slots that `/healthz` and downloads need.
MAX_UNFINISHED = 8


def body_too_large(limit: int) -> LimitError:
    return LimitError(
        f"the request body is over the {limit / 2**20:g} MiB limit: send a shorter or "
        "compressed file (FLAC, OGG)",
        status=413,
    )


def body_too_slow(seconds: float, why: str) -> LimitError:
    return LimitError(
        f"the request body {why} ({seconds:g} s): send it in one go, or retry on a faster link",
        status=408,
    )


class BodyLimit:
    """ASGI middleware: at most `limit` bytes of request body, arriving without stalls, and at
    most `max_unfinished` bodies arriving at once."""

    def __init__(
        self,
        app,
        limit: int,
        *,
        max_unfinished: int = MAX_UNFINISHED,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        body_timeout_s: float = BODY_TIMEOUT_S,
        retry_after_s: int = 5,
    ):
        self.app = app
        self.limit = limit
        self.max_unfinished = max_unfinished
        self.idle_timeout_s = idle_timeout_s
        self.body_timeout_s = body_timeout_s
        self.retry_after_s = retry_after_s
        self.unfinished = 0  # requests of this replica whose body is still arriving

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or ())
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._answer(body_too_large(self.limit), scope, receive, send)
        has_body = b"transfer-encoding" in headers or (
            declared is not None and declared.strip() not in (b"", b"0")
        )
        if not has_body:
            return await self.app(scope, receive, send)
        if self.unfinished >= self.max_unfinished:
            busy = OverloadedError(
                f"the server is receiving {self.unfinished} request bodies already; retry later"
            )
            return await self._answer(busy, scope, receive, send)

        self.unfinished += 1
        counted = True
        started = time.monotonic()
        seen = 0
        responded = False

        def finished() -> None:
            nonlocal counted
            if counted:
                counted = False
                self.unfinished -= 1

        async def limited():
            nonlocal seen
            if not counted:  # the body is complete: whatever comes now is a disconnect
                return await receive()
            left = self.body_timeout_s - (time.monotonic() - started)
            wait = min(self.idle_timeout_s, left)
            try:
                message = await asyncio.wait_for(receive(), max(wait, 0.0))
            except TimeoutError:
                finished()
                if left <= self.idle_timeout_s:
                    raise body_too_slow(self.body_timeout_s, "took too long") from None
                raise body_too_slow(self.idle_timeout_s, "stalled") from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    finished()
                    raise body_too_large(self.limit)
                if not message.get("more_body", False):
                    finished()
            else:  # http.disconnect: the client left
                finished()
            return message

        async def watched(message):
            nonlocal responded
            if message["type"] == "http.response.start":
                responded = True
            await send(message)

        try:
            return await self.app(scope, limited, watched)
        except LimitError as err:  # raised outside a body parser that turns it into an answer
            if responded:
                raise
            return await self._answer(err, scope, receive, send)
        finally:
            finished()

    async def _answer(self, exc: Exception, scope, receive, send) -> None:
        err = http_error(exc, self.retry_after_s)
        headers = {"Retry-After": str(err.retry_after)} if err.retry_after is not None else None
        response = JSONResponse(err.body(), status_code=err.status, headers=headers)
        await response(scope, receive, send)
