"""What a browser may do with the server: the Host it names, where a state-changing request
comes from, and the headers every answer carries.

The server listens on 127.0.0.1, but any page the user opens in a browser can send it requests.
Three ASGI-level checks, before any route runs (`BrowserGuard`):

- **Host allowlist** (DNS rebinding): a page on `evil.example` that re-points its name at
  127.0.0.1 reaches the server as the same origin and could read every answer; the browser
  still sends `Host: evil.example:8000`, so a Host outside the allowlist is refused (400 JSON).
  Allowed: `localhost`, the host the server is bound to, any IP literal (127.0.0.1, [::1], the
  machine's address: a rebinding attack needs a name it controls, and a page whose origin is the
  server's own IP is the server's page), the machine's names when bound to every interface, and
  the names given with `producer serve --allow-host NAME` (`*`: any). The port is not checked:
  a port forward (`ssh -L 9000:localhost:8000`) changes it, and rebinding is about the name.
- **Origin check** (CSRF): a request that can change state (anything but GET, HEAD, OPTIONS)
  that carries an `Origin` other than the server's own (scheme-less host:port equal to its
  `Host`), or `Origin: null`, or `Sec-Fetch-Site: cross-site`, is refused (403 JSON). Browsers
  send `Origin` on every cross-site POST (a plain HTML form included); curl, scripts and the
  CLI send none and are let through, so no custom header is needed.
- **Headers on every answer**: a Content-Security-Policy that allows only the server's own
  files (the page has no inline script or style), `X-Frame-Options: DENY` and
  `frame-ancestors 'none'` (no clickjacking), `X-Content-Type-Options: nosniff`,
  `Referrer-Policy: no-referrer` and `Cross-Origin-Resource-Policy: same-origin` (another site
  cannot embed a result's audio or picture). FastAPI's `/docs` and `/redoc` load Swagger UI and
  ReDoc from a CDN with an inline script: those two pages get a policy that allows exactly that.

`producer serve` tells the ingress replicas its bound host and extra names through two
environment variables in the application's `runtime_env` (`producer.serving.launch`); without
them (Ray's own `serve run FILE`) only the loopback names and IP literals are allowed.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders

from producer.serving.errors import HttpError

__all__ = [
    "ALLOWED_HOSTS_ENV",
    "BIND_HOST_ENV",
    "PAGE_CSP",
    "BrowserGuard",
    "HostPolicy",
    "same_origin",
    "split_host",
]

#: The host the HTTP proxy is bound to, as `producer serve` was told (`--host`).
BIND_HOST_ENV = "PRODUCER_HTTP_HOST"
#: More names clients may use, comma-separated (`producer serve --allow-host`); `*`: any.
ALLOWED_HOSTS_ENV = "PRODUCER_ALLOWED_HOSTS"

_WILDCARDS = frozenset({"0.0.0.0", "::", ""})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

#: The page (`producer/serving/web/`) and every API answer: only this server's own files.
#: `data:` images: the page's empty favicon. No 'unsafe-inline' anywhere (tests/serving/test_web.py
#: drives the page under this policy in Chromium and checks the console for violations).
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's Swagger UI and ReDoc pages: their bundles from jsDelivr, an inline start-up script,
# FastAPI's favicon, and ReDoc's web worker from a blob.
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def split_host(value: str) -> tuple[str, int | None]:
    """`Host` header → (lower-case name or IP without brackets, port or None); ("", None) if bad."""
    value = value.strip().lower()
    if value.startswith("["):  # [v6]:port
        end = value.find("]")
        if end < 0:
            return "", None
        name, rest = value[1:end], value[end + 1 :]
        port = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        name, port = value.split(":")
    else:
        name, port = value, ""
    if port and not port.isdigit():
        return "", None
    return name.rstrip("."), int(port) if port else None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HostPolicy:
    """Which `Host` names the server answers to (ports are not checked; see the module doc)."""

    names: frozenset[str]  # lower-case names, no port; IP literals are always allowed
    any_host: bool = False  # `*` was given: no Host check at all

    @classmethod
    def build(cls, bind_host: str | None = None, extra: Iterable[str] = ()) -> HostPolicy:
        """`localhost`, the bound host, `extra`, and the machine's names when bound to all."""
        names = {"localhost"}
        extra = [e.strip().lower() for e in extra if e.strip()]
        if "*" in extra:
            return cls(frozenset(names), any_host=True)
        names.update(split_host(e)[0] or e for e in extra)
        bind = (bind_host or "").strip().lower().strip("[]")
        if bind in _WILDCARDS and bind_host is not None:
            # Every interface: clients may use the machine's own names.
            names.update(n.lower() for n in (socket.gethostname(), socket.getfqdn()) if n)
        elif bind and not _is_ip(bind):
            names.add(bind)
        return cls(frozenset(names))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> HostPolicy:
        """The policy `producer serve` passed to the replica (loopback names if none)."""
        extra = (environ.get(ALLOWED_HOSTS_ENV) or "").split(",")
        return cls.build(environ.get(BIND_HOST_ENV), extra)

    def allows(self, host_header: str | None) -> bool:
        if self.any_host:
            return True
        name, _ = split_host(host_header or "")
        return bool(name) and (name in self.names or _is_ip(name))


def same_origin(origin: str, host_header: str) -> bool:
    """True when `origin` (`scheme://host[:port]`) names the same host and port as `Host`."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return False
    try:
        origin_port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:  # a port that is not a number
        return False
    name, port = split_host(host_header)
    return parts.hostname.lower().strip("[]") == name and origin_port == (
        port or _DEFAULT_PORTS[parts.scheme]
    )


class BrowserGuard:
    """ASGI middleware: Host allowlist, Origin check on state-changing requests, and the
    security headers on every HTTP answer (refusals included)."""

    def __init__(self, app, policy: HostPolicy, docs_paths: Iterable[str] = ()):
        self.app = app
        self.policy = policy
        self.docs_paths = frozenset(p for p in docs_paths if p)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        csp = _DOCS_CSP if scope.get("path") in self.docs_paths else PAGE_CSP

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _HEADERS.items():
                    headers[name] = value
                headers["Content-Security-Policy"] = csp
            await send(message)

        refusal = self.refusal(scope)
        if refusal is not None:
            response = JSONResponse(refusal.body(), status_code=refusal.status)
            return await response(scope, receive, with_headers)
        return await self.app(scope, receive, with_headers)

    def refusal(self, scope) -> HttpError | None:
        """Why this request is refused before any route sees it, or None."""
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if not self.policy.allows(host):
            shown = host[:100] or "(none)"
            return HttpError(
                400,
                "HostNotAllowed",
                f"this server does not answer to the Host '{shown}': use 127.0.0.1 or localhost, "
                "or have it started with `producer serve --allow-host NAME`",
            )
        if scope.get("method", "GET").upper() in _SAFE_METHODS:
            return None
        origin = headers.get("origin")
        cross = headers.get("sec-fetch-site", "").lower() == "cross-site"
        if cross or (origin is not None and not same_origin(origin, host)):
            shown = (origin or "another site")[:100]
            return HttpError(
                403,
                "CrossOriginRequest",
                f"a {scope.get('method', 'POST')} from {shown} is refused: only this server's "
                "own page (or a client that sends no Origin, such as curl) may change things",
            )
        return None
