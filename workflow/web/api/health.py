"""Probes and metrics, outside ``/api/v1``, without authentication (``/metrics``: opt-in).

- ``GET /health``: live, the process answers; touches nothing (``/healthz``: the same).
- ``GET /ready``: 200 ``{"status": "ready", "checks": {"database": "ok", ...}}`` when every
  check of ``web/readiness.py`` passes; else 503 in the API's error shape, code
  ``not_ready``, ``params.failed`` naming the checks and ``checks`` each result (``ok``,
  ``failed``, ``timeout``). Why a check failed goes to the log, not to the caller.
- ``GET /metrics``: Prometheus text, only with ``ESTRATEGIA_METRICS=true`` (otherwise the
  route does not exist: 404). It must not be public: block it at the reverse proxy, or set
  ``ESTRATEGIA_METRICS_TOKEN`` and scrape with ``Authorization: Bearer <token>``.

None of them tells versions, paths or host names. None of them waits for a thread of the
pages and the API (``ESTRATEGIA_WEB_THREADS``, a few): ``/health`` runs on the event loop,
``/ready`` and ``/metrics`` in threads of their own, so that a probe still answers while
every request thread is busy with slow work.
"""

from __future__ import annotations

import hmac
from typing import Literal

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from workflow import metrics
from workflow.errors import ErrorCode
from workflow.web.deps import ContextDep
from workflow.web.errors import AuthenticationRequired, error_response
from workflow.web.readiness import Readiness, not_ready
from workflow.web.schemas import Health

router = APIRouter(tags=["health"])

_PROBE_THREADS = RunVar[CapacityLimiter]("estrategia_probe_threads")


def _probe_threads() -> CapacityLimiter:
    """The probes' own threads (two), one set per event loop."""
    try:
        return _PROBE_THREADS.get()
    except LookupError:
        limiter = CapacityLimiter(2)
        _PROBE_THREADS.set(limiter)
        return limiter


class Ready(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, str]
    """Each check's name -> ``ok``."""


@router.get("/health", response_model=Health)
async def health() -> Health:
    return Health()


@router.get("/healthz", response_model=Health, include_in_schema=False)
async def healthz() -> Health:
    """The first name of ``/health``; kept for the probes that use it."""
    return Health()


@router.get(
    "/ready",
    response_model=Ready,
    responses={503: {"description": "Not ready: the error shape, code not_ready"}},
)
async def ready(request: Request, context: ContextDep) -> Response:
    readiness: Readiness = request.app.state.readiness
    results = await to_thread.run_sync(readiness.run, context.runtime, limiter=_probe_threads())
    failed = not_ready(results)
    if failed:
        return error_response(
            request,
            status=503,
            code=ErrorCode.NOT_READY,
            params={"failed": failed},
            extra={"checks": results},
            headers={"Retry-After": "5", "Cache-Control": "no-store"},
        )
    body = Ready(checks=results).model_dump()
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


metrics_router = APIRouter(tags=["health"])


@metrics_router.get("/metrics", include_in_schema=False)
async def metrics_endpoint(request: Request, context: ContextDep) -> Response:
    expected = context.settings.ops.metrics_token
    if expected:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), expected.encode()
        ):
            raise AuthenticationRequired
    collectors = [make(context.runtime) for make in request.app.state.metrics_collectors]
    body, content_type = await to_thread.run_sync(
        metrics.exposition, collectors, limiter=_probe_threads()
    )
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
