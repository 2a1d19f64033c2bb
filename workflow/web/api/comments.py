"""Comments on a document and its audit trail."""

from __future__ import annotations

from fastapi import APIRouter

from workflow.documents.comments import add_comment, list_comments
from workflow.documents.reading import document_audit
from workflow.web.deps import CurrentActor, RuntimeDep
from workflow.web.schemas import AuditRecordOut, CommentIn, CommentOut
from workflow.web.types import DbId

router = APIRouter(prefix="/documents/{document_id}", tags=["comments", "audit"])


@router.get("/comments", response_model=list[CommentOut])
def comments(document_id: DbId, actor: CurrentActor, rt: RuntimeDep) -> list[CommentOut]:
    return [CommentOut.of(c) for c in list_comments(rt, actor=actor, document_id=document_id)]


@router.post("/comments", response_model=CommentOut, status_code=201)
def comment(document_id: DbId, body: CommentIn, actor: CurrentActor, rt: RuntimeDep) -> CommentOut:
    view = add_comment(
        rt,
        actor=actor,
        document_id=document_id,
        body=body.body,
        version=body.version,
        parent_id=body.parent_id,
    )
    return CommentOut.of(view)


@router.get("/audit", response_model=list[AuditRecordOut])
def audit_trail(document_id: DbId, actor: CurrentActor, rt: RuntimeDep) -> list[AuditRecordOut]:
    """The document's records in the hash-chained audit trail, oldest first."""
    records = document_audit(rt, actor=actor, document_id=document_id)
    return [AuditRecordOut.model_validate(r) for r in records]
