"""``/``: the dashboard for a signed-in person (``dashboard.show``), a short public start
page for anyone else: what this is, the sign-in link, signature verification."""

from __future__ import annotations

from fastapi import Request, Response

from workflow.web.pages import dashboard
from workflow.web.pages.deps import OptionalPageCaller
from workflow.web.pages.errors import page_router
from workflow.web.pages.rendering import render_page

router = page_router(tags=["pages"])


@router.get("/")
def home(request: Request, caller: OptionalPageCaller) -> Response:
    if caller is not None:
        return dashboard.show(request, caller)
    return render_page(request, "home/start.html")
