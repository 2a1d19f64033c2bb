"""The FastAPI application, built by ``create_app(settings)``; nothing is built at import.

uvicorn starts it through the factory ``workflow.web.app:app_from_env`` (``factory=True``),
which reads the settings from the environment. The lifespan builds the ``Runtime`` (engine,
blob store, converter) unless one is given, and closes what it built at shutdown; on SQLite
(or when configured) it also runs the embedded job worker (``workflow.jobs.embedded``). Its
signing environment opens on first use: the production one, or in demo mode the demo PKI
wiring of ``workflow.demo.pki`` (the only import of ``workflow.demo`` outside the CLI).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from anyio import to_thread
from fastapi import APIRouter, FastAPI

from workflow.config import Settings
from workflow.jobs.dispatch import start_dispatcher
from workflow.jobs.embedded import EmbeddedWorker
from workflow.jobs.embedded import wanted as embedded_worker_wanted
from workflow.logs import ensure_logging
from workflow.runtime import Runtime, SigningFactory, build_runtime
from workflow.web.api import (
    actions,
    admin,
    archive,
    archive_import,
    auth,
    checks,
    comments,
    directory,
    documents,
    evidence,
    health,
    search,
    signing,
    templates,
    verify,
)
from workflow.web.body_limit import BodyLimit
from workflow.web.deps import WebContext
from workflow.web.errors import install_error_handlers
from workflow.web.middleware import RequestContext
from workflow.web.pages import include_pages
from workflow.web.readiness import Readiness, ReadinessCheck, default_checks
from workflow.web.schemas import ErrorOut
from workflow.web.security import CsrfTokens
from workflow.web.uploads import body_cap

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

API_PREFIX = "/api/v1"
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in [
        (401, "Not logged in, or the API token is unknown or revoked"),
        (403, "Missing CSRF token, or the caller's role does not allow this"),
        (404, "No such thing, or the caller may not know it exists"),
        (409, "Not allowed in this status, refused by a guard, or changed by someone else"),
        (422, "A named field or upload is wrong; nothing was stored"),
    ]
}


def default_signing_factory(settings: Settings) -> SigningFactory:
    """Demo mode signs with the demo PKI and its loopback services; production with the
    trust service provider's TSA and the configured roots."""
    if settings.signing.demo:
        from workflow.demo.pki import open_demo_signing_environment

        return open_demo_signing_environment
    from workflow.signing.trust import open_signing_environment

    return open_signing_environment


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    signing_factory: SigningFactory | None = None,
    readiness: Sequence[ReadinessCheck] | None = None,
    metrics_collectors: Sequence[Callable[[Runtime], Collector]] = (),
) -> FastAPI:
    """The application. ``runtime``: one already built (tests, the CLI); it is then left
    open at shutdown, as its owner closes it. ``signing_factory``: opens the signing
    environment of the runtime built here (default: :func:`default_signing_factory`).
    ``readiness``: the checks of ``/ready`` (default: ``readiness.default_checks``).
    ``metrics_collectors``: more series for ``/metrics`` (``ESTRATEGIA_METRICS=true``),
    each made from the runtime at every scrape (the queue's jobs by state)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        rt = runtime
        if rt is None:
            rt = build_runtime(
                settings, signing_factory=signing_factory or default_signing_factory(settings)
            )
            start_dispatcher(rt)  # effects after commit go to the queue (closed with rt)
            # A served process: what start-up made lives as long as it does. Out of the
            # collector's way, a full collection no longer walks it (the list's p95 under
            # load 234 -> 166 ms). Not for an app a test makes with its own runtime.
            gc.collect()
            gc.freeze()
        worker = EmbeddedWorker(rt) if embedded_worker_wanted(settings) else None
        # The sync routes and dependencies run in anyio's thread pool (40 by default): 20
        # clients at once then meant 20 threads taking turns at the GIL (SQLite hands it
        # over at every step), each request several times slower. Per process, so each
        # uvicorn worker sets its own.
        to_thread.current_default_thread_limiter().total_tokens = settings.ops.web_threads
        try:
            csrf = CsrfTokens(settings.effective_secret_key())
            if worker is not None:
                worker.start()
            yield {"web": WebContext(settings=settings, runtime=rt, csrf=csrf)}
        finally:
            if worker is not None:
                await worker.stop()
            if runtime is None:
                rt.close()

    app = FastAPI(
        title="estrategia",
        summary="Document workflow for e-strategy agreements of e-Izba and local governments",
        version="1",
        openapi_url="/openapi.json",
        # Swagger UI and ReDoc load their scripts from a CDN; the start page links the spec.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # No JSON without a JSON Content-Type: a cross-site form cannot post JSON.
        strict_content_type=True,
    )
    install_error_handlers(app)
    # A ceiling for every body, answered in the API's error shape (not FastAPI's
    # max_body_size, whose plain-text 413 bypasses the handlers); the template upload has
    # its own, lower, 422 cap.
    app.add_middleware(BodyLimit, max_body_size=body_cap(settings) + 64 * 1024)
    # Outermost: every answer, the body limit's 413 included, has a request id, an
    # access-log line and its metrics.
    app.add_middleware(RequestContext)
    app.state.readiness = Readiness(
        list(default_checks(settings) if readiness is None else readiness),
        timeout_s=settings.ops.ready_timeout_s,
    )
    app.state.metrics_collectors = list(metrics_collectors)
    app.include_router(health.router)
    if settings.ops.metrics:  # opt-in: off, /metrics is an unknown route (404)
        app.include_router(health.metrics_router)
    include_pages(app)  # the browser pages, /static and their security headers
    api = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)
    for module in (
        auth, directory, templates, documents, actions, comments, signing, verify, checks,
        evidence, search,
    ):  # fmt: skip
        api.include_router(module.router)
    api.include_router(admin.router)
    api.include_router(archive.router)
    api.include_router(archive_import.router)
    app.include_router(api)
    return app


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory workflow.web.app:app_from_env``."""
    settings = Settings()
    # `serve` configured logging already; a `--workers` child process starts afresh.
    ensure_logging(log_format=settings.ops.log_format)
    return create_app(settings)
