"""A new document in the browser: the template and the local government it is for (searched
by name or TERYT code), then its parties, signatories and the form of its template's fields.

    GET  /documents/new                      choose the template and the local government
    GET  /documents/new/organisations?q=     the live result list (htmx fragment)
    GET  /documents/new/form?template=&organisation_id=   parties, signatories, fields
    POST /documents/new                      add/remove a row, or create (-> the draft page)

Once created, the document is drafted on its draft page (``drafting``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from fastapi.responses import RedirectResponse

from workflow.documents.drafting import PartyInput, SignatoryInput, create_document
from workflow.errors import ErrorCode, InvalidInput, NotFound
from workflow.i18n import ui_text
from workflow.identity.actors import Actor
from workflow.registry.directory import PersonView, list_organisations, list_people
from workflow.registry.search import search_organisations
from workflow.rendering.fields import FieldSchema
from workflow.runtime import Runtime
from workflow.states import Role
from workflow.template_library.store import get_template, list_templates
from workflow.views import OrganisationView
from workflow.web.deps import get_context
from workflow.web.pages.deps import FormCsrfDep, PageActor, page_language
from workflow.web.pages.errors import page_router
from workflow.web.pages.forms import (
    RawValues,
    apply_row_command,
    build_form,
    error_text,
    raw_from_form,
    raw_from_values,
    row_command,
    values_from_raw,
)
from workflow.web.pages.posted import every_error, form_text, int_or_none, worded
from workflow.web.pages.rendering import render_page

router = page_router(tags=["pages"])

TEMPLATE_ORDER: Final = ("list_intencyjny", "e_strategia")
#: Names of the non-schema inputs of the new-document form.
_OWN_FIELDS: Final = ("title", "chamber_id", "organisation_id", "template", "note")


def _rt(request: Request) -> Runtime:
    return get_context(request).runtime


def _lang(request: Request) -> str:
    return page_language(request)


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
        schema=FieldSchema.parse(view.field_schema, source=template),
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
    own = {k: form_text(posted, k) for k in (*_OWN_FIELDS, "signatory_chamber", "signatory_unit")}
    try:
        setup = _setup(rt, actor, own["template"], int(own["organisation_id"] or 0),
                       int_or_none(own["chamber_id"]))  # fmt: skip
    except (InvalidInput, NotFound, ValueError):
        return RedirectResponse("/documents/new", status_code=303)
    raw = raw_from_form(setup.schema, pairs)
    add, remove = row_command(pairs)
    if add or remove:
        raw = apply_row_command(setup.schema, raw, add=add, remove=remove)
        return _new_form_page(request, setup, raw, own, {})
    values, where = values_from_raw(setup.schema, raw)
    lang = _lang(request)
    problems = every_error(setup.schema, values, lang, where)
    if problems:
        return _new_form_page(request, setup, raw, own, problems, status_code=422)
    signatories = []
    for key in ("signatory_chamber", "signatory_unit"):
        user_id = int_or_none(own[key])
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
    return worded(exc, schema, lang, where)
