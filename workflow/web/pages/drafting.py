"""Drafting in the browser: a new document for a local government, the form generated from
its template's field schema, autosave, the page-image preview and downloads.

    GET  /documents/new                      choose the template and the local government
    GET  /documents/new/organisations?q=     the live result list (htmx fragment)
    GET  /documents/new/form?template=&organisation_id=   parties, signatories, fields
    POST /documents/new                      add/remove a row, or create (-> the draft page)
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
from dataclasses import dataclass, replace
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from workflow.documents.drafting import (
    PartyInput,
    SignatoryInput,
    create_document,
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
from workflow.registry.directory import PersonView, list_organisations, list_people
from workflow.registry.search import search_organisations
from workflow.rendering.fields import FieldSchema
from workflow.runtime import Runtime
from workflow.states import Role
from workflow.template_library.store import get_template, list_templates
from workflow.views import OrganisationView
from workflow.web.deps import get_context
from workflow.web.pages.deps import FormCsrfDep, PageActor, page_caller_or_none, page_language
from workflow.web.pages.errors import page_router
from workflow.web.pages.forms import (
    RawValues,
    all_errors,
    apply_row_command,
    build_form,
    error_text,
    label_of,
    raw_from_form,
    raw_from_values,
    row_command,
    values_from_raw,
)
from workflow.web.pages.rendering import render_page

router = page_router(tags=["pages"])

TEMPLATE_ORDER: Final = ("list_intencyjny", "e_strategia")
#: Names of the non-schema inputs of the new-document form.
_OWN_FIELDS: Final = ("title", "chamber_id", "organisation_id", "template", "note")


def _rt(request: Request) -> Runtime:
    return get_context(request).runtime


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _lang(request: Request) -> str:
    return page_language(request)


def _schema(data: Mapping[str, Any], name: str) -> FieldSchema:
    return FieldSchema.parse(data, source=name)


def _worded(
    exc: InvalidInput, schema: FieldSchema | None, lang: str, where: Any = None
) -> dict[str, str]:
    """``{form path: sentence}`` for an error, the path moved back to the row it came from."""
    path = where(exc.field) if where is not None else exc.field
    label = label_of(schema, path, lang) if schema is not None else None
    return {path: error_text(exc, lang, label=label)}


# -- a new document: template and local government ---------------------------------------


@router.get("/documents/new")
def new_document(
    request: Request,
    actor: PageActor,
    template: Annotated[str, Query(max_length=80)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    organisation_id: Annotated[int | None, Query()] = None,
    missing: int = 0,
) -> Response:
    rt = _rt(request)
    templates = _templates(rt, actor)
    chosen = template if template in {t.name for t in templates} else templates[0].name
    results = search_organisations(rt, actor=actor, query=q) if q.strip() else []
    return render_page(
        request, "drafting/new.html", templates=templates, chosen_template=chosen, q=q,
        results=results, organisation_id=organisation_id, missing=missing,
    )  # fmt: skip


@router.get("/documents/new/organisations")
def organisation_results(
    request: Request,
    actor: PageActor,
    q: Annotated[str, Query(max_length=100)] = "",
    organisation_id: Annotated[int | None, Query()] = None,
) -> Response:
    results = search_organisations(_rt(request), actor=actor, query=q) if q.strip() else []
    return render_page(
        request, "drafting/_organisations.html", results=results, q=q,
        organisation_id=organisation_id,
    )  # fmt: skip


def _templates(rt: Runtime, actor: Actor) -> list[Any]:
    found = list_templates(rt, actor=actor)
    order = {name: i for i, name in enumerate(TEMPLATE_ORDER)}
    return sorted(found, key=lambda t: (order.get(t.name, len(order)), t.name))


# -- a new document: parties, signatories, fields -----------------------------------------


@dataclass(frozen=True)
class Setup:
    """Who the new document is between, and who signs it (the form's first section)."""

    template: str
    template_title: str
    schema: FieldSchema
    unit: OrganisationView
    chambers: list[OrganisationView]
    chamber_id: int
    chamber_signers: list[PersonView]
    unit_signers: list[PersonView]


def _setup(
    rt: Runtime, actor: Actor, template: str, organisation_id: int, chamber_id: int | None
) -> Setup:
    view = get_template(rt, actor=actor, name=template)
    organisations = list_organisations(rt, actor=actor)
    by_id = {o.id: o for o in organisations}
    unit = by_id.get(organisation_id)
    if unit is None or unit.kind in ("chamber", "chamber_branch"):
        raise InvalidInput("organisation_id", ErrorCode.LOCAL_GOVERNMENT_REQUIRED)
    chambers = [o for o in organisations if o.kind == "chamber"] or [
        o for o in organisations if o.kind == "chamber_branch"
    ]
    chosen = chamber_id if chamber_id in {c.id for c in chambers} else chambers[0].id
    return Setup(
        template=template,
        template_title=view.title,
        schema=_schema(view.field_schema, template),
        unit=unit,
        chambers=chambers,
        chamber_id=chosen,
        chamber_signers=_signers(rt, actor, chosen),
        unit_signers=_signers(rt, actor, unit.id, head_title=unit.head_title),
    )


def _signers(
    rt: Runtime, actor: Actor, organisation_id: int, head_title: str | None = None
) -> list[PersonView]:
    """The people who sign for an organisation; its head (by function title) first."""
    people = [
        p for p in list_people(rt, actor=actor, organisation_id=organisation_id)
        if (organisation_id, Role.SIGNATORY.value) in p.roles
    ]  # fmt: skip
    return sorted(people, key=lambda p: (p.function_title != head_title, p.full_name))


def _default_title(setup: Setup) -> str:
    return f"{setup.template_title} — {setup.unit.name}"


@router.get("/documents/new/form")
def new_document_form(
    request: Request,
    actor: PageActor,
    template: Annotated[str, Query(max_length=80)],
    organisation_id: Annotated[int | None, Query()] = None,
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    if organisation_id is None:
        back = urlencode({"template": template, "q": q, "missing": 1})
        return RedirectResponse(f"/documents/new?{back}", status_code=303)
    rt = _rt(request)
    try:
        setup = _setup(rt, actor, template, organisation_id, None)
    except InvalidInput:
        return RedirectResponse(f"/documents/new?template={template}", status_code=303)
    own = {
        "title": _default_title(setup),
        "signatory_chamber": str(setup.chamber_signers[0].id) if setup.chamber_signers else "",
        "signatory_unit": str(setup.unit_signers[0].id) if setup.unit_signers else "",
    }
    return _new_form_page(request, setup, raw_from_values(setup.schema, {}), own, {})


def _new_form_page(
    request: Request, setup: Setup, raw: RawValues, own: Mapping[str, str],
    errors: Mapping[str, str], status_code: int = 200,
) -> Response:  # fmt: skip
    lang = _lang(request)
    form = build_form(setup.schema, raw, errors=errors, lang=lang)
    return render_page(
        request, "drafting/new_form.html", status_code=status_code, setup=setup, form=form,
        own=own, errors=errors, action="/documents/new",
    )  # fmt: skip


@router.post("/documents/new")
async def create(request: Request, actor: PageActor, _: FormCsrfDep) -> Response:
    rt = _rt(request)
    posted = await request.form()
    pairs = list(posted.multi_items())
    own = {k: _text(posted, k) for k in (*_OWN_FIELDS, "signatory_chamber", "signatory_unit")}
    try:
        setup = _setup(rt, actor, own["template"], int(own["organisation_id"] or 0),
                       _int_or_none(own["chamber_id"]))  # fmt: skip
    except (InvalidInput, NotFound, ValueError):
        return RedirectResponse("/documents/new", status_code=303)
    raw = raw_from_form(setup.schema, pairs)
    add, remove = row_command(pairs)
    if add or remove:
        raw = apply_row_command(setup.schema, raw, add=add, remove=remove)
        return _new_form_page(request, setup, raw, own, {})
    values, where = values_from_raw(setup.schema, raw)
    lang = _lang(request)
    problems = _every_error(setup.schema, values, lang, where)
    if problems:
        return _new_form_page(request, setup, raw, own, problems, status_code=422)
    signatories = []
    for key in ("signatory_chamber", "signatory_unit"):
        user_id = _int_or_none(own[key])
        if user_id is None:
            errors = {key: ui_text("Choose who signs for this party.", lang)}
            return _new_form_page(request, setup, raw, own, errors, status_code=422)
        signatories.append(SignatoryInput(user_id))
    try:
        doc = create_document(
            rt, actor=actor, template_name=setup.template, title=own["title"], values=values,
            parties=[PartyInput(setup.chamber_id), PartyInput(setup.unit.id)],
            signatories=signatories,
        )  # fmt: skip
    except InvalidInput as exc:
        errors = _new_form_errors(exc, setup.schema, lang, where)
        return _new_form_page(request, setup, raw, own, errors, status_code=422)
    return RedirectResponse(f"/documents/{doc.id}/draft?created=1", status_code=303)


def _every_error(
    schema: FieldSchema, values: Mapping[str, object], lang: str, where: Any
) -> dict[str, str]:
    """Every field error of the form at once, worded, by form path."""
    errors: dict[str, str] = {}
    for problem in all_errors(schema, values):
        errors.update(_worded(problem, schema, lang, where))
    return errors


def _new_form_errors(
    exc: InvalidInput, schema: FieldSchema, lang: str, where: Any
) -> dict[str, str]:
    """Errors about the parties and signatories go next to their selects."""
    if exc.field.startswith("signatories[0]"):
        return {"signatory_chamber": exc.message(lang)}
    if exc.field.startswith("signatories[1]"):
        return {"signatory_unit": exc.message(lang)}
    if exc.field.startswith(("parties", "owner")):
        return {"_form": exc.message(lang)}
    if exc.field == "title":
        return {"title": error_text(exc, lang, label=ui_text("Title", lang))}
    return _worded(exc, schema, lang, where)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


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
    note = _text(posted, "note").strip()[:500]
    add, remove = row_command(pairs)
    lang = _lang(request)
    if add or remove:
        raw = apply_row_command(schema, raw, add=add, remove=remove)
        if view.can_edit:
            save_working_draft(rt, actor=actor, document_id=document_id, form_values=raw)
        preview = _preview_for(rt, actor, document_id, schema, raw)
        return _draft_form_page(request, view, schema, raw, {}, note=note, preview=preview)
    if _text(posted, "discard"):
        discard_working_draft(rt, actor=actor, document_id=document_id)
        return RedirectResponse(f"/documents/{document_id}/draft", status_code=303)
    values, where = values_from_raw(schema, raw)
    problems = _every_error(schema, values, lang, where)
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
            seen_lock_version=_int_or_none(_text(posted, "lock_version")), note=note or None,
        )  # fmt: skip
    except InvalidInput as exc:
        if view.can_edit:  # nothing typed is lost: it stays as the working draft
            save_working_draft(rt, actor=actor, document_id=document_id, form_values=raw)
        errors = _worded(exc, schema, lang, where)
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
        path, sentence = next(iter(_worded(exc, schema, lang, where).items()))
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
