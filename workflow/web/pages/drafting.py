"""Drafting in the browser: the form generated from the template's field schema, autosave,
the page-image preview and downloads. A new document is made in ``new_document``.

    GET  /documents/{id}/draft               the form (working draft or latest version) + preview
    POST /documents/{id}/draft               add/remove a row (autosaves), or save a version
    POST /documents/{id}/draft/autosave      htmx, after a 2 s pause in typing
    GET  /documents/{id}/draft/preview?render=   the preview panel (htmx polls it while pending)
    GET  /documents/{id}/draft/previews/{render}/{page}.png
    GET  /documents/{id}/draft/files/{version}.{docx|pdf}

The upload of a new template version (admins) is ``template_upload``.

Every form works without JavaScript: the add/remove buttons submit the form (``add=goals``,
``remove=goals-1``) and the page comes back with the row added or removed; with htmx the
same request swaps just that field (``hx-select``). Autosave and the live preview need htmx;
without it "Zapisz wersję" saves, and the preview panel has a refresh link.

The autosave model (see ``documents.preview``): an autosave replaces the person's working
draft of the document, never a version; "Zapisz wersję" makes one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from workflow.documents.drafting import (
    edit_document,
)
from workflow.documents.preview import (
    DraftingView,
    PreviewState,
    discard_working_draft,
    drafting_view,
    latest_preview,
    preview_page,
    preview_state,
    save_working_draft,
)
from workflow.documents.rendition import get_file, request_pdf
from workflow.errors import ConflictingChange, ErrorCode, InvalidInput, NotFound
from workflow.i18n import ui_text
from workflow.identity.actors import Actor
from workflow.jobs.handlers.preview import queue_preview
from workflow.rendering.fields import FieldSchema
from workflow.runtime import Runtime
from workflow.web.deps import get_context
from workflow.web.pages.deps import FormCsrfDep, PageActor, page_caller_or_none, page_language
from workflow.web.pages.errors import page_router
from workflow.web.pages.forms import (
    RawValues,
    apply_row_command,
    build_form,
    label_of,
    raw_from_form,
    raw_from_values,
    row_command,
    values_from_raw,
)
from workflow.web.pages.posted import every_error, form_text, int_or_none, worded
from workflow.web.pages.rendering import render_page

router = page_router(tags=["pages"])


def _rt(request: Request) -> Runtime:
    return get_context(request).runtime


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _lang(request: Request) -> str:
    return page_language(request)


def _schema(data: Mapping[str, Any], name: str) -> FieldSchema:
    return FieldSchema.parse(data, source=name)


# -- the draft: form, autosave, versions -------------------------------------------------


@router.get("/documents/{document_id}/draft")
def draft_page(
    request: Request,
    actor: PageActor,
    document_id: int,
    created: int = 0,
    saved: int = 0,
    unchanged: int = 0,
) -> Response:
    rt = _rt(request)
    view = drafting_view(rt, actor=actor, document_id=document_id)
    schema = _schema(view.field_schema, view.document.template)
    stored = view.document.current_version.field_values
    draft = view.draft
    if draft is not None and view.can_edit and not _same(schema, draft.form_values, stored):
        raw: RawValues = draft.form_values
    else:  # no draft, or one that says what the version says (an autosave raced "save")
        view = replace(view, draft=None)
        raw = raw_from_values(schema, stored)
    lang = _lang(request)
    flash = None
    if created:
        flash = ui_text("The document has been created as version 1.", lang)
    elif saved:
        flash = ui_text("Version {number} has been saved.", lang).format(number=saved)
    elif unchanged:
        flash = ui_text("Nothing has changed since the last version: no new version.", lang)
    preview = _preview_for(rt, actor, document_id, schema, raw)
    return _draft_form_page(request, view, schema, raw, {}, preview=preview, flash=flash)


def _same(schema: FieldSchema, raw: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    """Whether form text ``raw`` says exactly what stored ``values`` say."""
    try:
        return schema.validate(values_from_raw(schema, raw)[0]) == schema.validate(values)
    except InvalidInput:
        return False


def _draft_form_page(
    request: Request, view: DraftingView, schema: FieldSchema, raw: RawValues,
    errors: Mapping[str, str], *, preview: PreviewState | None, flash: str | None = None,
    status_code: int = 200, note: str = "",
) -> Response:  # fmt: skip
    form = build_form(schema, raw, errors=errors, lang=_lang(request))
    return render_page(
        request, "drafting/draft.html", status_code=status_code, view=view, doc=view.document,
        form=form, errors=errors, preview=preview, flash=flash,
        previous=_previous(request, view.document.id, preview),
        flash_kind="success" if flash else "info", note=note,
        action=f"/documents/{view.document.id}/draft",
    )  # fmt: skip


def _preview_for(
    rt: Runtime, actor: Actor, document_id: int, schema: FieldSchema, raw: RawValues
) -> PreviewState | None:
    """The preview of these form values (queued if new); if they do not validate, the
    newest preview there is."""
    values, _ = values_from_raw(schema, raw)
    try:
        return queue_preview(rt, actor=actor, document_id=document_id, values=values)
    except InvalidInput:
        return latest_preview(rt, actor=actor, document_id=document_id)


@router.post("/documents/{document_id}/draft")
async def save_draft(
    request: Request, actor: PageActor, document_id: int, _: FormCsrfDep
) -> Response:
    rt = _rt(request)
    view = drafting_view(rt, actor=actor, document_id=document_id)
    schema = _schema(view.field_schema, view.document.template)
    posted = await request.form()
    pairs = list(posted.multi_items())
    raw = raw_from_form(schema, pairs)
    note = form_text(posted, "note").strip()[:500]
    add, remove = row_command(pairs)
    lang = _lang(request)
    if add or remove:
        raw = apply_row_command(schema, raw, add=add, remove=remove)
        if view.can_edit:
            save_working_draft(rt, actor=actor, document_id=document_id, form_values=raw)
        preview = _preview_for(rt, actor, document_id, schema, raw)
        return _draft_form_page(request, view, schema, raw, {}, note=note, preview=preview)
    if form_text(posted, "discard"):
        discard_working_draft(rt, actor=actor, document_id=document_id)
        return RedirectResponse(f"/documents/{document_id}/draft", status_code=303)
    values, where = values_from_raw(schema, raw)
    problems = every_error(schema, values, lang, where)
    if problems:
        if view.can_edit:  # nothing typed is lost: it stays as the working draft
            save_working_draft(rt, actor=actor, document_id=document_id, form_values=raw)
        preview = latest_preview(rt, actor=actor, document_id=document_id)
        return _draft_form_page(request, view, schema, raw, problems, preview=preview,
                                status_code=422, note=note)  # fmt: skip
    if _same(schema, raw, view.document.current_version.field_values):
        # nothing changed: a version identical to the last one would only add noise
        discard_working_draft(rt, actor=actor, document_id=document_id)
        return RedirectResponse(f"/documents/{document_id}/draft?unchanged=1", status_code=303)
    try:
        doc = edit_document(
            rt, actor=actor, document_id=document_id, values=values,
            seen_lock_version=int_or_none(form_text(posted, "lock_version")), note=note or None,
        )  # fmt: skip
    except InvalidInput as exc:
        if view.can_edit:  # nothing typed is lost: it stays as the working draft
            save_working_draft(rt, actor=actor, document_id=document_id, form_values=raw)
        errors = worded(exc, schema, lang, where)
        preview = latest_preview(rt, actor=actor, document_id=document_id)
        return _draft_form_page(request, view, schema, raw, errors, preview=preview,
                                status_code=422, note=note)  # fmt: skip
    except ConflictingChange as exc:
        # someone saved a version (or moved the document) since this form was loaded: keep
        # what was typed as the working draft and show the newer state with it
        if view.can_edit:
            save_working_draft(rt, actor=actor, document_id=document_id, form_values=raw)
        fresh = drafting_view(rt, actor=actor, document_id=document_id)
        errors = {"_form": exc.message(lang)}
        preview = latest_preview(rt, actor=actor, document_id=document_id)
        return _draft_form_page(request, fresh, schema, raw, errors, preview=preview,
                                status_code=409, note=note)  # fmt: skip
    discard_working_draft(rt, actor=actor, document_id=document_id)
    number = doc.current_version.number
    return RedirectResponse(f"/documents/{document_id}/draft?saved={number}", status_code=303)


@router.post("/documents/{document_id}/draft/autosave")
async def autosave(
    request: Request, actor: PageActor, document_id: int, _: FormCsrfDep
) -> Response:
    rt = _rt(request)
    view = drafting_view(rt, actor=actor, document_id=document_id)
    schema = _schema(view.field_schema, view.document.template)
    posted = await request.form()
    raw = raw_from_form(schema, list(posted.multi_items()))
    saved = save_working_draft(rt, actor=actor, document_id=document_id, form_values=raw)
    values, where = values_from_raw(schema, raw)
    lang = _lang(request)
    problem = None
    preview = None
    try:
        preview = queue_preview(rt, actor=actor, document_id=document_id, values=values)
    except InvalidInput as exc:
        path, sentence = next(iter(worded(exc, schema, lang, where).items()))
        problem = (label_of(schema, path, lang) or path, sentence)
    return render_page(
        request, "drafting/_autosaved.html", saved=saved, problem=problem, preview=preview,
        previous=_previous(request, document_id, preview),
        doc=view.document,
    )  # fmt: skip


# -- the preview ------------------------------------------------------------------------


@router.get("/documents/{document_id}/draft/preview")
def preview_panel(
    request: Request, actor: PageActor, document_id: int, render: int | None = None
) -> Response:
    rt = _rt(request)
    if render is not None:
        state: PreviewState | None = preview_state(
            rt, actor=actor, document_id=document_id, preview_id=render
        )
    else:
        state = latest_preview(rt, actor=actor, document_id=document_id)
    view = drafting_view(rt, actor=actor, document_id=document_id)
    template = "drafting/_preview.html" if _is_htmx(request) else "drafting/preview.html"
    return render_page(
        request, template, preview=state, doc=view.document,
        previous=_previous(request, document_id, state),
    )  # fmt: skip


def _previous(
    request: Request, document_id: int, state: PreviewState | None
) -> PreviewState | None:
    """While a preview renders, the newest ready one is shown beneath it (no blank panel)."""
    if state is None or not state.pending:
        return None
    caller = page_caller_or_none(request)
    if caller is None:  # pragma: no cover - every drafting route needs a PageActor
        return None
    return latest_preview(_rt(request), actor=caller.actor, document_id=document_id)


@router.get("/documents/{document_id}/draft/previews/{render}/{page}.png")
def preview_image(
    request: Request, actor: PageActor, document_id: int, render: int, page: int
) -> Response:
    png = preview_page(
        _rt(request), actor=actor, document_id=document_id, preview_id=render, page=page
    )
    return Response(
        png, media_type="image/png",
        headers={"Cache-Control": "private, max-age=86400, immutable"},
    )  # fmt: skip


# -- downloads --------------------------------------------------------------------------


@router.get("/documents/{document_id}/draft/files/{version}.{fmt}")
def download(
    request: Request, actor: PageActor, document_id: int, version: int, fmt: str
) -> Response:
    rt = _rt(request)
    if fmt not in ("docx", "pdf"):
        raise NotFound(ErrorCode.FILE_NOT_FOUND)
    if fmt == "pdf":
        state = request_pdf(rt, actor=actor, document_id=document_id, version=version)
        if not state.rendered:
            return render_page(
                request, "drafting/pdf_pending.html", status_code=202, document_id=document_id,
                version=version, reference=state.reference,
            )  # fmt: skip
    content, filename, media_type = get_file(
        rt, actor=actor, document_id=document_id, version=version, fmt=fmt
    )
    return Response(
        content, media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )  # fmt: skip
