"""The business's .docx templates: list, read, upload a new version (admins)."""

from __future__ import annotations

from fastapi import APIRouter

from workflow.template_library.store import get_template, list_templates, register_version
from workflow.web.deps import CurrentActor, RuntimeDep
from workflow.web.schemas import TemplateOut
from workflow.web.uploads import UPLOAD_OPENAPI, TemplateUploadDep

router = APIRouter(prefix="/templates", tags=["templates"])


@router.get("", response_model=list[TemplateOut])
def templates(actor: CurrentActor, rt: RuntimeDep) -> list[TemplateOut]:
    return [TemplateOut.of(t) for t in list_templates(rt, actor=actor)]


@router.get("/{name}", response_model=TemplateOut)
def template(name: str, actor: CurrentActor, rt: RuntimeDep) -> TemplateOut:
    return TemplateOut.of(get_template(rt, actor=actor, name=name))


@router.post(
    "/{name}/versions",
    response_model=TemplateOut,
    status_code=201,
    openapi_extra=UPLOAD_OPENAPI,
)
def upload_version(
    name: str,
    actor: CurrentActor,  # before the upload: a stranger's body is never read
    upload: TemplateUploadDep,
    rt: RuntimeDep,
) -> TemplateOut:
    view = register_version(
        rt,
        actor=actor,
        name=name,
        kind=upload.kind,
        title=upload.title,
        docx=upload.docx,
        filename=upload.filename,
        schema=upload.schema,
    )
    return TemplateOut.of(view)
