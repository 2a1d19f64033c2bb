"""Use-cases for .docx templates: register a new version, list them, read one.

An upload is checked before anything is stored: a real, safe .docx (rendering.docx_safety),
a valid field schema (rendering.fields) and a clean lint (rendering.lint). Only then are the
file and the row written, in one transaction with its audit record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow import audit
from workflow.db import transaction
from workflow.errors import ConflictingChange, ErrorCode, InvalidInput, NotFound, NotPermitted
from workflow.identity.actors import Actor
from workflow.models import DocumentKind, Template, TemplateVersion
from workflow.rendering.docx_safety import check_docx_upload
from workflow.rendering.fields import FieldSchema
from workflow.rendering.lint import check_template
from workflow.runtime import Runtime
from workflow.states import Role
from workflow.storage.blobs import store_file
from workflow.views import TemplateView

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _view(version: TemplateVersion) -> TemplateView:
    t = version.template
    return TemplateView(
        name=t.name,
        kind=t.kind.value,
        title=t.title,
        version=version.number,
        docx_sha256=version.docx_sha256,
        field_schema=dict(version.field_schema),
        created_at=version.created_at,
    )


def latest_version(session: Session, name: str) -> TemplateVersion:
    version = session.scalars(
        select(TemplateVersion)
        .join(Template)
        .where(Template.name == name)
        .order_by(TemplateVersion.number.desc())
        .limit(1)
    ).first()
    if version is None:
        raise NotFound(ErrorCode.TEMPLATE_NOT_FOUND, name=name)
    return version


def parse_schema_upload(raw: bytes | str | Mapping[str, Any], *, source: str) -> FieldSchema:
    if isinstance(raw, bytes | str):
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            where = (exc.lineno, exc.colno) if isinstance(exc, json.JSONDecodeError) else (1, 1)
            raise InvalidInput(
                "schema", ErrorCode.SCHEMA_NOT_JSON, line=where[0], column=where[1]
            ) from exc
        except RecursionError as exc:
            raise InvalidInput("schema", ErrorCode.NESTED_TOO_DEEPLY) from exc
    else:
        data = raw
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput("schema", ErrorCode.CONTROL_CHARACTERS) from exc
    if not isinstance(data, Mapping):
        raise InvalidInput("schema", ErrorCode.SCHEMA_NOT_OBJECT)
    return FieldSchema.parse(data, source=source)


def register_version(
    rt: Runtime,
    *,
    actor: Actor | None,
    name: str,
    kind: DocumentKind | str,
    title: str,
    docx: bytes,
    filename: str,
    schema: bytes | str | Mapping[str, Any],
) -> TemplateView:
    """Check and store a new version of a template (creating the template if new).

    ``actor`` None means the system itself (seeding from the templates folder).
    """
    if actor is not None and not actor.has_chamber_role(Role.ADMIN):
        # Templates are shared by every document in the country: only e-Izba admins.
        raise NotPermitted(ErrorCode.TEMPLATE_UPLOAD_NEEDS_ADMIN)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", name):
        raise InvalidInput("name", ErrorCode.TEMPLATE_NAME_INVALID, max_length=80)
    try:
        kind = DocumentKind(kind)
    except ValueError as exc:
        allowed = ", ".join(k.value for k in DocumentKind)
        raise InvalidInput("kind", ErrorCode.NOT_ONE_OF, expected=allowed) from exc
    check_docx_upload(docx, filename=filename, max_bytes=rt.settings.max_upload_bytes)
    field_schema = parse_schema_upload(schema, source=name)
    check_template(docx, field_schema, name=name)

    try:
        return _store_version(rt, actor=actor, name=name, kind=kind, title=title, docx=docx,
                              field_schema=field_schema)  # fmt: skip
    except IntegrityError as exc:
        # Two uploads of the same template at once: both computed the same version number.
        raise ConflictingChange(ErrorCode.TEMPLATE_CHANGED, name=name) from exc


def _store_version(
    rt: Runtime,
    *,
    actor: Actor | None,
    name: str,
    kind: DocumentKind,
    title: str,
    docx: bytes,
    field_schema: FieldSchema,
) -> TemplateView:
    with transaction(rt.sessions) as session:
        template = session.scalars(select(Template).where(Template.name == name)).first()
        if template is None:
            template = Template(name=name, kind=kind, title=title)
            session.add(template)
            session.flush()
        elif template.kind != kind:
            raise InvalidInput(
                "kind", ErrorCode.TEMPLATE_KIND_DIFFERS, name=name, kind=template.kind.value
            )
        number = (
            session.scalar(
                select(func.max(TemplateVersion.number)).where(
                    TemplateVersion.template_id == template.id
                )
            )
            or 0
        ) + 1
        sha = store_file(session, rt.blobs, docx, DOCX_MEDIA_TYPE)
        version = TemplateVersion(
            template=template,
            number=number,
            docx_sha256=sha,
            field_schema=field_schema.to_json(),
            uploaded_by_id=actor.user_id if actor else None,
        )
        if title and title != template.title:
            template.title = title
        session.add(version)
        session.flush()
        audit.append(
            session,
            action="template.version_registered",
            actor_id=actor.user_id if actor else None,
            actor=actor.email if actor else "system",
            payload={"template": name, "version": number, "docx_sha256": sha},
        )
        return _view(version)


def list_templates(rt: Runtime, *, actor: Actor) -> list[TemplateView]:
    with transaction(rt.read_sessions) as session:
        names = session.scalars(select(Template.name).order_by(Template.name)).all()
        return [_view(latest_version(session, n)) for n in names]


def get_template(rt: Runtime, *, actor: Actor, name: str) -> TemplateView:
    with transaction(rt.read_sessions) as session:
        return _view(latest_version(session, name))
