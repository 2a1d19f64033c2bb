"""Comments on a document's versions, threaded: a comment may answer another one.

A reply belongs to the version of the comment it answers. Authors are shown as the
directory shows them to the reader (``registry.directory.people_by_id``), looked up once
for the whole list. ``threads()`` turns the flat list, oldest first, into trees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

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
from workflow.registry.directory import people_by_id
from workflow.runtime import Runtime
from workflow.views import CommentView

MAX_LENGTH = 10_000


def add_comment(
    rt: Runtime,
    *,
    actor: Actor,
    document_id: int,
    body: str,
    version: int | None = None,
    parent_id: int | None = None,
) -> CommentView:
    """A comment on ``version`` (default: the newest), or a reply to comment ``parent_id``
    of the same document (then on that comment's version)."""
    body = body.strip()
    if not body or len(body) > MAX_LENGTH:
        raise InvalidInput("body", ErrorCode.TEXT_REQUIRED, max_length=MAX_LENGTH)
    with transaction(rt.sessions) as session:
        doc = load_visible(session, actor, document_id)
        if not document_roles(actor, doc) and not any(
            p.organisation_id in actor.member_of for p in doc.parties
        ):
            raise NotPermitted(ErrorCode.COMMENT_NEEDS_ROLE)
        numbers = {v.id: v.number for v in doc.versions}
        if parent_id is not None:
            parent = session.get(Comment, parent_id)
            if parent is None or parent.document_id != doc.id:
                raise InvalidInput("parent_id", ErrorCode.INVALID_VALUE)
            version_id = parent.version_id
        else:
            version_id = version_of(doc, version).id
        comment = Comment(
            document_id=doc.id,
            version_id=version_id,
            author_id=actor.user_id,
            parent_id=parent_id,
            body=body,
        )
        session.add(comment)
        session.flush()
        number = numbers.get(version_id) if version_id is not None else None
        payload: dict[str, object] = {"comment_id": comment.id, "version": number, "body": body}
        if parent_id is not None:
            payload["parent_id"] = parent_id
        audit.append(
            session,
            action="document.commented",
            actor_id=actor.user_id,
            actor=actor.email,
            document_id=doc.id,
            payload=payload,
        )
        session.refresh(comment)
        me = people_by_id(session, viewer=actor, user_ids=[actor.user_id]).get(actor.user_id)
        return CommentView.of(
            comment,
            number,
            author_name=me.full_name if me else actor.full_name,
            author_function=me.function_title if me else None,
        )


def list_comments(rt: Runtime, *, actor: Actor, document_id: int) -> list[CommentView]:
    """Every comment of the document, oldest first, replies included (``parent_id``)."""
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        return comments_of(session, actor, doc.id, {v.id: v.number for v in doc.versions})


def comments_of(
    session: Session, actor: Actor, document_id: int, numbers: dict[int, int]
) -> list[CommentView]:
    """The comments of a document the caller has loaded (for use-cases that show them
    with other things in one read): two queries, whatever their number."""
    rows = list(
        session.scalars(
            select(Comment).where(Comment.document_id == document_id).order_by(Comment.id)
        )
    )
    people = people_by_id(session, viewer=actor, user_ids=(c.author_id for c in rows))
    result = []
    for c in rows:
        person = people.get(c.author_id)
        result.append(
            CommentView.of(
                c,
                numbers.get(c.version_id) if c.version_id is not None else None,
                author_name=person.full_name if person else f"#{c.author_id}",
                author_function=person.function_title if person else None,
            )
        )
    return result


@dataclass(frozen=True)
class CommentThread:
    """A comment and the replies to it, each a thread in turn, oldest first."""

    comment: CommentView
    replies: list[CommentThread] = field(default_factory=list)


def threads(comments: Sequence[CommentView]) -> list[CommentThread]:
    """The comments as trees under the comments they answer, oldest first; a reply whose
    parent is not in the list starts a thread of its own."""
    nodes = {c.id: CommentThread(c) for c in comments}
    roots: list[CommentThread] = []
    for c in comments:
        parent = nodes.get(c.parent_id) if c.parent_id is not None else None
        if parent is not None and c.parent_id != c.id:
            parent.replies.append(nodes[c.id])
        else:
            roots.append(nodes[c.id])
    return roots
