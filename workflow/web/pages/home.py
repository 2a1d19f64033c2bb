"""``/``: the dashboard for a signed-in person (``dashboard.show``), a short public start
page for anyone else: what this is, the sign-in link, signature verification. A browser
whose session has ended is sent to the login page with a message (and its stale cookie
cleared, so that the next visit shows the start page)."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from workflow.web.deps import get_context
from workflow.web.pages import dashboard
from workflow.web.pages.deps import OptionalPageCaller
from workflow.web.pages.errors import login_url, page_router
from workflow.web.pages.rendering import render_page
from workflow.web.security import SESSION_COOKIE, clear_session_cookie

router = page_router(tags=["pages"])


@router.get("/")
def home(request: Request, caller: OptionalPageCaller) -> Response:
    if caller is not None:
        return dashboard.show(request, caller)
    if request.cookies.get(SESSION_COOKIE):
        response = RedirectResponse(login_url("/", expired=True), status_code=303)
        secure = get_context(request).settings.identity.secure_cookies
        clear_session_cookie(request, response, secure=secure)
        return response
    return render_page(request, "home/start.html")
