"""``notifications.notify``: tell the people an outbox entry concerns what happened.

Mail is its own issue; until then a notification is a line in the log per recipient (who,
which document, which event, a link) and one ``notification.sent`` audit record per
outbox entry. Idempotent per entry: the record is written in the transaction that claims
the entry, and the log lines are written only once that transaction has committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit, outbox
from workflow.db import on_commit, transaction
from workflow.i18n import DEFAULT_LANGUAGE, render_message
from workflow.jobs.registry import JobContext, PermanentJobError, job
from workflow.models import Document, DocumentVersion, Membership, OutboxEntry, User
from workflow.runtime import Runtime
from workflow.states import Effect, Role

log = logging.getLogger(__name__)


@job("notifications.notify", retries=5, backoff_s=5.0, time_limit_s=60)
def notify(ctx: JobContext, *, entry_id: int) -> None:
    send_notification(ctx.rt, entry_id)


@dataclass(frozen=True)
class Notification:
    event: str
    """``submit``, ``request_changes``, ``approve``, ``your_turn``, ``signed``."""
    document_id: int
    reference: str
    recipients: tuple[tuple[int, str], ...]
    """(user id, e-mail), in a stable order."""
    link: str


def document_link(document_id: int) -> str:
    """Where the recipient finds the document (relative to the installation's address)."""
    return f"/api/v1/documents/{document_id}"


def send_notification(rt: Runtime, entry_id: int) -> Notification | None:
    """Record and log the notification of outbox entry ``entry_id``; None if a previous
    run did (see the module docstring)."""
    with transaction(rt.sessions) as session:
        entry = session.get(OutboxEntry, entry_id)
        if entry is None or entry.document_id is None:
            raise PermanentJobError(f"outbox entry {entry_id} names no document")
        doc = session.get(Document, entry.document_id)
        if doc is None:
            raise PermanentJobError(
                f"outbox entry {entry_id}: document {entry.document_id} is gone"
            )
        if not outbox.claim(session, entry_id):
            return None
        event, users = _audience(session, entry, doc)
        note = Notification(
            event=event,
            document_id=doc.id,
            reference=doc.reference or str(doc.id),
            recipients=tuple((u.id, u.email) for u in users),
            link=document_link(doc.id),
        )
        audit.append(
            session,
            action="notification.sent",
            actor_id=None,
            actor="system",
            document_id=doc.id,
            payload={
                "outbox_id": entry_id,
                "event": event,
                "recipients": [uid for uid, _ in note.recipients],
                "link": note.link,
            },
        )
        text = render_message(
            event,
            {"reference": note.reference, "title": doc.title, "link": note.link},
            DEFAULT_LANGUAGE,
            context="notification",
        )
        on_commit(session, lambda: _log(note, text))
        return note


def _log(note: Notification, text: str) -> None:
    for user_id, email in note.recipients:
        log.info(
            "notification %s to %s (user %s), document %s: %s",
            note.event, email, user_id, note.reference, text,
        )  # fmt: skip


def _audience(session: Session, entry: OutboxEntry, doc: Document) -> tuple[str, list[User]]:
    """The event and whom it concerns, from what the entry fixed at the time of the change."""
    payload = entry.payload or {}
    if entry.effect == Effect.NOTIFY_REVIEWERS:
        return "submit", _reviewers(session, doc)
    if entry.effect == Effect.NOTIFY_AUTHORS:
        return str(payload.get("event", "approve")), _authors(session, doc)
    signatories = sorted(doc.signatories, key=lambda s: s.position)
    if entry.effect == Effect.NOTIFY_NEXT_SIGNATORY:
        after = int(payload.get("position", 0))  # request_signatures: before the first
        nxt = [s.user for s in signatories if s.position > after][:1]
        return "your_turn", nxt
    if entry.effect == Effect.NOTIFY_ALL_SIGNED:
        people = {u.id: u for u in _authors(session, doc)}
        people.update({s.user.id: s.user for s in signatories})
        return "signed", [people[k] for k in sorted(people)]
    raise PermanentJobError(f"outbox entry {entry.id}: {entry.effect} is not a notification")


def _authors(session: Session, doc: Document) -> list[User]:
    ids = {doc.created_by_id} | set(
        session.scalars(
            select(DocumentVersion.created_by_id).where(DocumentVersion.document_id == doc.id)
        )
    )
    return _active(session, ids)


def _reviewers(session: Session, doc: Document) -> list[User]:
    """Reviewers of the owning office and of the office that oversees it."""
    offices = {doc.owner_organisation_id}
    owner = doc.owner_organisation
    if owner is not None and owner.parent_id is not None:
        offices.add(owner.parent_id)
    ids = set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.organisation_id.in_(offices), Membership.role == Role.REVIEWER
            )
        )
    )
    return _active(session, ids)


def _active(session: Session, ids: set[int]) -> list[User]:
    wanted = sorted(ids)
    if not wanted:
        return []
    users = session.scalars(select(User).where(User.id.in_(wanted), User.is_active.is_(True)))
    return sorted(users, key=lambda u: u.id)
