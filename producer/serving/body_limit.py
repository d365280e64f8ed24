"""Request bodies over a size limit are refused before anything reads them (413, JSON).

A multipart upload is spooled whole by the form parser before a route runs, so the route's own
size check would come after the disk filled up. This ASGI middleware refuses a declared
`Content-Length` over the limit at once, and stops a body sent without one (chunked) as soon as
it passes the limit.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse

from producer.serving.errors import LimitError, http_error

__all__ = ["BodyLimit", "body_too_large"]


def body_too_large(limit: int) -> LimitError:
    return LimitError(
        f"the request body is over the {limit / 2**20:g} MiB limit: send a shorter or "
        "compressed file (FLAC, OGG)",
        status=413,
    )


class BodyLimit:
    """ASGI middleware: at most `limit` bytes of request body."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            err = http_error(body_too_large(self.limit))
            response = JSONResponse(err.body(), status_code=err.status)
            return await response(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise body_too_large(self.limit)
            return message

        return await self.app(scope, limited, send)
