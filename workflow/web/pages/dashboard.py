"""The dashboard (``/`` for a signed-in person, see ``home``) and the list of documents."""

from __future__ import annotations

from fastapi import Request, Response

from workflow.web.deps import Caller
from workflow.web.pages.errors import page_router
from workflow.web.pages.rendering import render_page

router = page_router(tags=["pages"])


def show(request: Request, caller: Caller) -> Response:
    return render_page(request, "dashboard/dashboard.html")
