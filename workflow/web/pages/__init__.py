"""The browser pages: server-rendered HTML (Jinja2), progressively enhanced with htmx.

One module per area (``home``, ``auth``, ``dashboard``, ``admin``...), each exposing
``router = page_router()`` (``pages.errors``: errors become HTML pages); its templates
under ``templates/<area>/`` extend ``base.html`` (blocks ``title``, ``content``, ``aside``)
and are rendered with ``rendering.render_page``; its words live in
``workflow/i18n/locales/<lang>/LC_MESSAGES/ui_<area>.po``. Static files (our CSS, the
vendored htmx) are served from ``workflow/web/static/`` at ``/static/``.

To add an area, add its module name to ``PAGE_MODULES``. ``include_pages(app)`` includes
them all, mounts ``/static``, adds the security headers of pages (``headers.py``) and
answers a browser's unknown address with a 404 page (``errors.browser_http_error``).
No inline script or style anywhere: the Content-Security-Policy forbids them.
"""

from __future__ import annotations

import importlib
from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from workflow.web.pages.errors import PageRoute, browser_http_error
from workflow.web.pages.headers import SecurityHeaders

PAGE_MODULES: list[str] = [
    "home",
    "auth",
    "dashboard",
    "admin",
    "new_document",  # before documents: /documents/new is not a /documents/{id}
    "drafting",
    "template_upload",
    "signing",
    "archive_forms",  # before documents and archive_records: /archive/import is no record
    "documents",
    "archive_search",
    "archive_records",
    "verify",
]


def include_pages(app: FastAPI) -> None:
    """Every page module's router, ``/static`` and the pages' security headers."""
    for name in PAGE_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        router = module.router
        for route in router.routes:
            if not isinstance(route, PageRoute):  # errors would come back as JSON
                raise TypeError(f"{name}: make the router with pages.errors.page_router()")
        app.include_router(router)
    static = resources.files("workflow.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_middleware(SecurityHeaders)
    # An unknown address typed in a browser gets a page (the API keeps its JSON 404).
    app.add_exception_handler(HTTPException, browser_http_error)
