"""The document page, its versions, the comparison of two versions, review actions and
comments.

    GET  /documents/{id}                   the document: status, parties, signatories, the
                                           current version's values, its PDF, the actions
                                           the reader may take now, comments, history
    POST /documents/{id}/actions           one action of the transition table (``action``,
                                           ``seen_lock_version``, ``reason``)
    POST /documents/{id}/comments          a comment, or a reply (``parent_id``)
    GET  /documents/{id}/versions          every saved version
    GET  /documents/{id}/compare?old=&new= two versions side by side

The buttons come from the transition table for the reader (``review.overview``, the same
``allowed_actions`` as ``available_actions``), so the page offers nothing the server would
refuse; what the server refuses anyway (a stale page, a missing reason) is shown on the page
again with the reason, nothing changed. Every form works without JavaScript (POST, then a
303 back to the page); with htmx a comment or a reply is posted in place (the comments
section comes back as a fragment). Signing has its own pages (``/documents/{id}/sign``),
editing too (``/documents/{id}/draft``, with the files' downloads): the page links them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse

from workflow.archive.archiving import archive_document
from workflow.documents.comments import add_comment
from workflow.documents.compare import compare_versions, split_path
from workflow.errors import (
    ConflictingChange,
    EstrategiaError,
    GuardRefused,
    InvalidInput,
    NotPermitted,
    TransitionNotAllowed,
)
from workflow.i18n import ui_text
from workflow.identity.actors import Actor
from workflow.polish.formatting import format_money
from workflow.review.overview import document_overview, document_versions
from workflow.review.transitions import transition
from workflow.runtime import Runtime
from workflow.states import Action, Refusal, Status
from workflow.web.deps import RuntimeDep
from workflow.web.pages.deps import FormCsrfDep, PageActor, page_language
from workflow.web.pages.errors import field_errors, page_router
from workflow.web.pages.rendering import render_page

router = page_router(tags=["pages"])

DOCUMENT: Final = "/documents/{document_id:int}"

#: Actions whose button leads to a page of their own instead of posting here.
LINKED_ACTIONS: Final = {Action.EDIT: "draft", Action.SIGN: "sign", Action.ARCHIVE: "archive"}

#: What the history says for each audit action (msgids of ui_review.po).
HISTORY: Final = {
    "document.created": "Document created",
    "document.edited": "New version saved",
    "document.rendered": "PDF rendered",
    "document.commented": "Comment added",
    "document.submit": "Submitted for review",
    "document.approve": "Approved",
    "document.request_changes": "Changes requested",
    "document.request_signatures": "Sent for signatures",
    "document.signing_started": "Signing started",
    "document.sign": "Signed",
    "document.archive": "Archived",
    "document.withdraw": "Withdrawn",
    "document.timestamp_renewed": "Archive timestamp renewed",
    "notification.sent": "Notification sent",
}

#: The notice after an action succeeded (``?done=<action>``).
DONE: Final = {
    Action.SUBMIT: "The document has been submitted for review.",
    Action.APPROVE: "The document has been approved.",
    Action.REQUEST_CHANGES: "Changes have been requested; the authors have been told why.",
    Action.REQUEST_SIGNATURES: "The document has been sent for signatures.",
    Action.ARCHIVE: "The document has been archived.",
    Action.WITHDRAW: "The document has been withdrawn.",
}


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _history(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The audit records as the history table shows them, newest first."""
    rows = []
    for r in records:
        payload = r.get("payload") or {}
        rows.append(
            {
                "seq": r["seq"],
                "when": datetime.fromisoformat(r["recorded_at"]),
                "who": r["actor"],
                "function": r.get("actor_function"),
                "what": HISTORY.get(r["action"], r["action"]),
                "version": payload.get("version"),
                "reason": payload.get("reason"),
                "to_status": payload.get("to_status"),
            }
        )
    rows.reverse()
    return rows


def _document_page(
    request: Request,
    rt: Runtime,
    actor: Actor,
    document_id: int,
    *,
    status_code: int = 200,
    notice: str | None = None,
    notice_kind: str = "info",
    action_errors: dict[str, str] | None = None,
    action_form: dict[str, str] | None = None,
    comment_errors: dict[str, str] | None = None,
    comment_form: dict[str, str] | None = None,
) -> Response:
    overview = document_overview(rt, actor=actor, document_id=document_id)
    return render_page(
        request,
        "documents/document.html",
        status_code=status_code,
        o=overview,
        doc=overview.document,
        v=overview.document.current_version,
        show_date=show_date,
        show_cell=show_cell,
        history=_history(overview.history),
        linked_actions=LINKED_ACTIONS,
        flash=notice,
        flash_kind=notice_kind,
        action_errors=action_errors or {},
        action_form=action_form or {},
        comment_errors=comment_errors or {},
        comment_form=comment_form or {},
        Status=Status,
        Action=Action,
    )


@router.get(DOCUMENT)
def document_page(
    request: Request, document_id: int, actor: PageActor, rt: RuntimeDep, done: str = ""
) -> Response:
    notice = None
    if done in DONE:
        notice = ui_text(DONE[Action(done)], page_language(request))
    return _document_page(request, rt, actor, document_id, notice=notice, notice_kind="success")


@router.post(f"{DOCUMENT}/actions")
def take_action(
    request: Request,
    document_id: int,
    actor: PageActor,
    rt: RuntimeDep,
    _: FormCsrfDep,
    action: Annotated[str, Form(max_length=40)],
    seen_lock_version: Annotated[int, Form()],
    reason: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """One action of the table through ``transition()``, with the lock version the page
    was drawn with: if the document changed since, the page comes back with the conflict
    and nothing changes."""
    lang = page_language(request)
    form = {"action": action, "reason": reason}
    try:
        if action == Action.ARCHIVE:  # the transition with its archive record
            archive_document(
                rt, actor=actor, document_id=document_id, seen_lock_version=seen_lock_version
            )
        else:
            transition(
                rt,
                actor=actor,
                document_id=document_id,
                action=action,
                reason=reason.strip() or None,
                seen_lock_version=seen_lock_version,
            )
    except GuardRefused as exc:
        if exc.code == Refusal.REASON_REQUIRED:
            errors = {"reason": ui_text("Give the reason for the changes you ask for.", lang)}
            return _document_page(
                request, rt, actor, document_id, status_code=422,
                action_errors=errors, action_form=form,
            )  # fmt: skip
        return _refused(request, rt, actor, document_id, exc, 409, form)
    except (ConflictingChange, TransitionNotAllowed) as exc:
        return _refused(request, rt, actor, document_id, exc, 409, form)
    except NotPermitted as exc:
        return _refused(request, rt, actor, document_id, exc, 403, form)
    except InvalidInput as exc:
        return _refused(request, rt, actor, document_id, exc, 422, form)
    return RedirectResponse(f"/documents/{document_id}?done={action}", status_code=303)


def _refused(
    request: Request,
    rt: Runtime,
    actor: Actor,
    document_id: int,
    exc: EstrategiaError,
    status: int,
    form: dict[str, str],
) -> Response:
    """The document as it is now, with why the action was not taken (nothing changed)."""
    lang = page_language(request)
    notice = exc.message(lang) + " " + ui_text("Nothing was changed.", lang)
    return _document_page(
        request, rt, actor, document_id, status_code=status, notice=notice,
        notice_kind="error", action_form=form,
    )  # fmt: skip


@router.post(f"{DOCUMENT}/comments")
def post_comment(
    request: Request,
    document_id: int,
    actor: PageActor,
    rt: RuntimeDep,
    _: FormCsrfDep,
    body: Annotated[str, Form(max_length=20_000)] = "",
    parent_id: Annotated[int | None, Form()] = None,
    version: Annotated[int | None, Form()] = None,
) -> Response:
    """A comment on a version, or a reply to ``parent_id``. Without JavaScript: 303 back to
    the comment on the page; with htmx: the comments section again, the new one in it."""
    form_key = str(parent_id) if parent_id else "new"
    try:
        view = add_comment(
            rt, actor=actor, document_id=document_id, body=body, version=version,
            parent_id=parent_id,
        )  # fmt: skip
    except InvalidInput as exc:
        errors = {**field_errors(request, exc), "form": form_key}
        if exc.field == "body":
            errors["body"] = ui_text("Write the comment (at most 10,000 characters).",
                                     page_language(request))  # fmt: skip
        form = {"body": body, "form": form_key}
        if _is_htmx(request):
            return _comments_fragment(request, rt, actor, document_id, errors, form)
        return _document_page(
            request, rt, actor, document_id, status_code=422,
            comment_errors=errors, comment_form=form,
        )  # fmt: skip
    if _is_htmx(request):
        return _comments_fragment(request, rt, actor, document_id, {}, {"added": str(view.id)})
    return RedirectResponse(f"/documents/{document_id}#comment-{view.id}", status_code=303)


def _comments_fragment(
    request: Request,
    rt: Runtime,
    actor: Actor,
    document_id: int,
    errors: dict[str, str],
    form: dict[str, str],
) -> Response:
    overview = document_overview(rt, actor=actor, document_id=document_id)
    return render_page(
        request,
        "documents/_comments.html",
        o=overview,
        doc=overview.document,
        comment_errors=errors,
        comment_form=form,
    )


@router.get(f"{DOCUMENT}/versions")
def versions_page(request: Request, document_id: int, actor: PageActor, rt: RuntimeDep) -> Response:
    shown = document_versions(rt, actor=actor, document_id=document_id)
    return render_page(
        request, "documents/versions.html", doc=shown.document, versions=shown.versions
    )


@router.get(f"{DOCUMENT}/compare")
def compare_page(
    request: Request,
    document_id: int,
    actor: PageActor,
    rt: RuntimeDep,
    old: int | None = None,
    new: int | None = None,
) -> Response:
    """Version ``old`` beside version ``new`` (default: the newest and the one before)."""
    shown = document_versions(rt, actor=actor, document_id=document_id)
    numbers = [v.number for v in shown.versions]
    if new is None:
        new = numbers[-1]
    if old is None:
        earlier = [n for n in numbers if n < new]
        old = earlier[-1] if earlier else new
    comparison = None
    if len(numbers) > 1:
        comparison = compare_versions(rt, actor=actor, document_id=document_id, old=old, new=new)
    lang = page_language(request)

    def where(path: str) -> str:
        assert comparison is not None  # noqa: S101  # only called while one is shown
        field, index, column = split_path(path)
        pl_en = comparison.labels.get(field, (field, field))
        text = pl_en[1] if lang == "en" else pl_en[0]
        if index is not None:
            text += f", {ui_text('item', lang)} {index + 1}"
        if column is not None:
            col = comparison.labels.get(f"{field}.{column}", (column, column))
            text += f": {col[1] if lang == 'en' else col[0]}"
        return text

    def value_text(path: str, value: Any) -> str:
        """A changed value; a table row's cells named by their column labels."""
        if comparison is None:
            return show_value(value)
        if isinstance(value, dict):
            field = split_path(path)[0]
            cells = []
            for key, cell in value.items():
                col = comparison.labels.get(f"{field}.{key}", (str(key), str(key)))
                kind = comparison.types.get(f"{field}.{key}", "")
                labels = comparison.options.get(f"{field}.{key}")
                text = show_cell(kind, cell, labels, lang)
                cells.append(f"{col[1] if lang == 'en' else col[0]}: {text}")
            return "; ".join(cells)
        if isinstance(value, list):
            item = f"{path}[0]"  # a whole list: its items' type and options
            labels = comparison.options_of(item)
            if labels and all(isinstance(v, str) for v in value):
                kind = comparison.type_of(item)
                return "; ".join(show_cell(kind, v, labels, lang) for v in value) or "—"
            return show_value(value)
        return show_cell(comparison.type_of(path), value, comparison.options_of(path), lang)

    return render_page(
        request,
        "documents/compare.html",
        doc=shown.document,
        versions=shown.versions,
        c=comparison,
        old=old,
        new=new,
        where=where,
        value_text=value_text,
    )


def show_cell(
    kind: str,
    value: Any,
    options: Mapping[str, tuple[str, str]] | None = None,
    lang: str = "pl",
) -> str:
    """A value of a field or table cell of type ``kind`` the Polish way: dates
    ``31.12.2027``, amounts ``1 250 000,00 zł``, a choice by its option's label in ``lang``
    (``options``: value -> (Polish, English) label; a value no option has, as it is);
    anything else as it is."""
    if value is None or value == "":
        return "—"
    if kind == "choice" and options and isinstance(value, str) and value in options:
        polish, english = options[value]
        return english if lang == "en" else polish
    if kind == "date":
        return show_date(value)
    if kind == "decimal":
        try:
            return format_money(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            return str(value)
    return show_value(value)


def show_date(value: Any) -> str:
    """An ISO date of the values (``2027-12-31``) the Polish way, ``31.12.2027``."""
    try:
        return date.fromisoformat(str(value)).strftime("%d.%m.%Y")
    except ValueError:
        return str(value)


def show_value(value: Any) -> str:
    """A stored value as plain text: lists joined by "; ", table rows as "a: b, c: d"."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {show_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(show_value(v) for v in value) or "—"
    return str(value)
