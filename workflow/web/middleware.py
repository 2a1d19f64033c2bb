"""Per request: its id, one access-log line and the request metrics.

The request id is the client's ``X-Request-ID`` when it is sane (1-128 of letters, digits
and ``._:-``: a proxy's or a load balancer's id joins their logs to ours), else a new one;
it is echoed in the response's ``X-Request-ID`` and set in ``workflow.logs.request_id`` for
every record logged while the request is served.

The access line (logger ``workflow.access``) carries ``method``, ``route``, ``status``,
``duration_ms`` and, for a matched route, its ``path_params``; never headers (cookies,
``Authorization``, ``X-CSRF-Token``), the query string or the body. ``route`` is the
route's template (``/api/v1/documents/{document_id}``), not the raw path: the same key as
the metrics, so a slow route is found in both; a request that matches no route is logged as
``route: "<unmatched>"`` rather than with the path a scanner typed. The probes (``/health``,
``/ready``, ``/metrics``), polled every few seconds, log at DEBUG.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workflow import metrics
from workflow.logs import request_id

log = logging.getLogger("workflow.access")

HEADER = "X-Request-ID"
UNMATCHED = "<unmatched>"
PROBES = frozenset({"/health", "/healthz", "/ready", "/metrics"})
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def sane_request_id(value: str | None) -> str | None:
    return value if value is not None and _SANE.fullmatch(value) else None


def route_template(scope: Scope) -> str:
    """The template of the route that answered, with the prefixes of the routers that
    include it (``/api/v1`` + ``/documents/{document_id}``).

    FastAPI puts the route in the scope as its router declared it, without those prefixes;
    as each ``{parameter}`` matches one segment, the prefix is the raw path's segments
    before as many segments as the template has, and they are literal text of our routers.
    """
    path = getattr(scope.get("route"), "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    if ":path}" in path:  # a parameter that spans segments: no prefix to recover
        return path
    parts = str(scope.get("path", "")).split("/")
    depth = path.count("/")
    prefix = "/".join(parts[: len(parts) - depth]) if len(parts) > depth else ""
    return prefix + path


class RequestContext:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer streamed downloads)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(HEADER.lower().encode(), b"").decode("latin-1")
        rid = sane_request_id(given) or uuid.uuid4().hex
        # Not reset on the way out: the handler of an unexpected error (Starlette's
        # ServerErrorMiddleware, outside this one) still logs with the id. Each request
        # runs in a context of its own, so the value does not leak into the next one.
        request_id.set(rid)
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - start
            route = route_template(scope)
            method = str(scope.get("method", ""))
            metrics.observe_request(method=method, route=route, status=status, seconds=seconds)
            fields: dict[str, Any] = {
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
            }
            if route != UNMATCHED and scope.get("path_params"):
                fields["path_params"] = dict(scope["path_params"])
            level = logging.DEBUG if route in PROBES else logging.INFO
            log.log(level, "%s %s %d", method, route, status, extra=fields)
