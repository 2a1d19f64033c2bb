"""The dashboard (``/`` for a signed-in person, see ``home``) and the list of documents
(``/documents?status=&page=``). Both read through ``workflow.documents.dashboard``: the
columns shown, a few queries, never a document's collections."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Query, Request, Response

from workflow.documents import dashboard as use_case
from workflow.states import Status
from workflow.web.deps import Caller, get_context
from workflow.web.pages.deps import PageActor
from workflow.web.pages.errors import page_router
from workflow.web.pages.rendering import render_page

router = page_router(tags=["pages"])

PAGE_SIZE: Final = 20

#: How the activity list says what an audit record records (past tense: the labels of the
#: transition table are imperatives); the English msgids are translated in ``ui_common.po``.
ACTIVITY: Final[dict[str, str]] = {
    "document.created": "created the document",
    "document.edit": "edited",
    "document.submit": "submitted for review",
    "document.approve": "approved",
    "document.request_changes": "requested changes",
    "document.request_signatures": "sent for signatures",
    "document.sign": "signed",
    "document.archive": "archived",
    "document.withdraw": "withdrew",
    "document.edited": "saved a new version",
    "document.rendered": "rendered the PDF",
    "document.commented": "commented",
    "document.signing_started": "started signing",
    "document.timestamp_renewed": "renewed the archive timestamp",
}


def activity_text(action: str) -> str:
    """The msgid that says an audit action (the action's code when it has none)."""
    return ACTIVITY.get(action, action)


def show(request: Request, caller: Caller) -> Response:
    board = use_case.dashboard(get_context(request).runtime, actor=caller.actor)
    tasks = {
        kind: [t.document for t in board.tasks if t.kind == kind]
        for kind in ("review", "sign", "changes")
    }
    return render_page(
        request, "dashboard/dashboard.html", board=board, tasks=tasks,
        activity_text=activity_text,
    )  # fmt: skip


@router.get("/documents")
def documents(
    request: Request,
    actor: PageActor,
    status: Annotated[str, Query(max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    chosen = Status(status) if status in set(Status) else None
    listing = use_case.document_list(
        get_context(request).runtime, actor=actor, status=chosen,
        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    pages = max(1, -(-listing.total // PAGE_SIZE))
    return render_page(
        request, "dashboard/documents.html", listing=listing, status=chosen,
        statuses=list(Status), page=page, pages=pages,
    )  # fmt: skip
