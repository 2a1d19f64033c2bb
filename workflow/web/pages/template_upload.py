"""Upload of a new template version by an e-Izba admin (``/templates/upload``): the .docx
and its field schema go through ``template_library.store.register_version`` (safety checks,
schema, lint); lint problems are listed under the file field, each with its paragraph and
an excerpt to find it in Word. Its words are in ``ui_drafting.po``; its page is
``templates/drafting/template_upload.html``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi import Request, Response
from starlette.datastructures import FormData, UploadFile

from workflow.errors import ErrorCode, InvalidInput, NotPermitted
from workflow.i18n import ui_text
from workflow.identity.actors import Actor
from workflow.models import DocumentKind
from workflow.states import Role
from workflow.template_library.store import list_templates, register_version
from workflow.web.deps import get_context
from workflow.web.pages.deps import FormCsrfDep, PageActor, page_language
from workflow.web.pages.errors import page_router
from workflow.web.pages.rendering import render_page

router = page_router(tags=["pages"])


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _upload_page(
    request: Request, actor: Actor, *, form: Mapping[str, str], errors: Mapping[str, str],
    problems: Sequence[str] = (), status_code: int = 200, flash: str | None = None,
) -> Response:  # fmt: skip
    rt = get_context(request).runtime
    if not actor.has_chamber_role(Role.ADMIN):
        raise NotPermitted(ErrorCode.TEMPLATE_UPLOAD_NEEDS_ADMIN)
    return render_page(
        request, "drafting/template_upload.html", status_code=status_code,
        templates=list_templates(rt, actor=actor), kinds=[k.value for k in DocumentKind], form=form,
        errors=errors, problems=problems, flash=flash, flash_kind="success",
    )  # fmt: skip


@router.get("/templates/upload")
def template_upload_page(request: Request, actor: PageActor, name: str = "") -> Response:
    return _upload_page(request, actor, form={"name": name}, errors={})


@router.post("/templates/upload")
async def template_upload(request: Request, actor: PageActor, _: FormCsrfDep) -> Response:
    posted = await request.form()
    form = {
        k: _text(posted, k).strip() for k in ("name", "new_name", "kind", "title", "schema_text")
    }
    name = form["new_name"] or form["name"]
    lang = page_language(request)
    docx_file = posted.get("docx")
    schema_file = posted.get("schema")
    errors: dict[str, str] = {}
    docx = await docx_file.read() if isinstance(docx_file, UploadFile) else b""
    schema = await schema_file.read() if isinstance(schema_file, UploadFile) else b""
    if not schema.strip():
        schema = form["schema_text"].encode("utf-8")
    if not docx:
        errors["docx"] = ui_text("Choose the .docx file of the template.", lang)
    if not schema.strip():
        errors["schema"] = ui_text("Choose the field schema (.json) or paste it below.", lang)
    if errors:
        return _upload_page(request, actor, form=form, errors=errors, status_code=422)
    filename = (
        docx_file.filename
        if isinstance(docx_file, UploadFile) and docx_file.filename
        else "template.docx"
    )
    try:
        view = register_version(
            get_context(request).runtime, actor=actor, name=name, kind=form["kind"],
            title=form["title"], docx=docx, filename=filename, schema=schema,
        )  # fmt: skip
    except InvalidInput as exc:
        problems = exc.params.get("problems")
        if isinstance(problems, list) and problems:
            listed = [p.localized(lang) if hasattr(p, "localized") else str(p) for p in problems]
            errors = {"docx": ui_text("The template has problems; nothing was stored:", lang)}
            return _upload_page(request, actor, form=form, errors=errors, problems=listed,
                                status_code=422)  # fmt: skip
        field = {"template": "docx", "file": "docx", "schema": "schema", "name": "new_name"}.get(
            exc.field.split(".")[0].split("[")[0], exc.field.split(".")[0]
        )
        if exc.field.startswith("schema"):
            field = "schema"
        return _upload_page(request, actor, form=form, errors={field: exc.message(lang)},
                            status_code=422)  # fmt: skip
    flash = ui_text("Version {number} of template {name} has been stored.", lang).format(
        number=view.version, name=view.name
    )
    return _upload_page(request, actor, form={"name": view.name}, errors={}, flash=flash)
