"""Comments on a document's versions."""

from __future__ import annotations

from sqlalchemy import select

from workflow import audit
from workflow.db import transaction
from workflow.documents.access import (
    load_visible,
)
from workflow.documents.reading import version_of
from workflow.errors import ErrorCode, InvalidInput, NotPermitted
from workflow.identity.actors import Actor, document_roles
from workflow.models import (
    Comment,
)
from workflow.runtime import Runtime
from workflow.views import CommentView


def add_comment(
    rt: Runtime, *, actor: Actor, document_id: int, body: str, version: int | None = None
) -> CommentView:
    body = body.strip()
    if not body or len(body) > 10_000:
        raise InvalidInput("body", ErrorCode.TEXT_REQUIRED, max_length=10000)
    with transaction(rt.sessions) as session:
        doc = load_visible(session, actor, document_id)
        if not document_roles(actor, doc) and not any(
            p.organisation_id in actor.member_of for p in doc.parties
        ):
            raise NotPermitted(ErrorCode.COMMENT_NEEDS_ROLE)
        v = version_of(doc, version)
        comment = Comment(document_id=doc.id, version_id=v.id, author_id=actor.user_id, body=body)
        session.add(comment)
        session.flush()
        audit.append(
            session,
            action="document.commented",
            actor_id=actor.user_id,
            actor=actor.email,
            document_id=doc.id,
            payload={"comment_id": comment.id, "version": v.number, "body": body},
        )
        session.refresh(comment)
        return CommentView.of(comment, v.number)


def list_comments(rt: Runtime, *, actor: Actor, document_id: int) -> list[CommentView]:
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        numbers = {v.id: v.number for v in doc.versions}
        rows = session.scalars(
            select(Comment).where(Comment.document_id == doc.id).order_by(Comment.id)
        )
        return [CommentView.of(c, numbers.get(c.version_id or -1)) for c in rows]
