"""Status changes: the actions the caller may take now, and taking one."""

from __future__ import annotations

from fastapi import APIRouter

from workflow.archive.archiving import archive_with_view
from workflow.review.transitions import available_actions, transition
from workflow.states import Action
from workflow.web.deps import CurrentActor, RuntimeDep
from workflow.web.schemas import ActionIn, ActionOut, DocumentOut
from workflow.web.types import DbId

router = APIRouter(prefix="/documents/{document_id}/actions", tags=["actions"])


@router.get("", response_model=list[ActionOut])
def actions(document_id: DbId, actor: CurrentActor, rt: RuntimeDep) -> list[ActionOut]:
    return [ActionOut.of(a) for a in available_actions(rt, actor=actor, document_id=document_id)]


@router.post("/{action}", response_model=DocumentOut)
def take_action(
    document_id: DbId,
    action: Action,
    actor: CurrentActor,
    rt: RuntimeDep,
    body: ActionIn | None = None,
) -> DocumentOut:
    """``edit`` is ``PATCH /documents/{id}``; ``sign`` has its own signing steps;
    ``archive`` writes the archive record with the default metadata (``POST
    /documents/{id}/archive`` takes the archivist's)."""
    body = body or ActionIn()
    if action == Action.ARCHIVE:
        done = archive_with_view(
            rt, actor=actor, document_id=document_id, seen_lock_version=body.seen_lock_version
        )
        return DocumentOut.of(done.document)
    view = transition(
        rt,
        actor=actor,
        document_id=document_id,
        action=action,
        reason=body.reason,
        seen_lock_version=body.seen_lock_version,
    )
    return DocumentOut.of(view)
