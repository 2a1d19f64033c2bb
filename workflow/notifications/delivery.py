"""Mail the people an outbox entry of the lifecycle concerns, one mail per person,
idempotently per (outbox entry, person).

**What is recorded.** After the SMTP server accepted a person's mail, one audit record
``notification.sent`` {outbox_id, event, recipient (user id), link, message_id} is
written in its own transaction. A run first reads which recipients of the entry already
have one and mails only the others; when everyone has one, it claims the entry
(``outbox.claim``). A retried or repeated job therefore sends nothing it already sent, and
an entry found completed sends nothing at all.

**The gap.** Between the server's acceptance and the commit of the record, a crash, a
lost database connection or a killed worker leaves the mail sent but not recorded: the
retry sends that one mail again (delivery is at least once, never lost). The duplicate
carries the same ``Message-ID`` (derived from the entry and the person), so mail systems
that deduplicate show it once. An SMTP failure *before* acceptance (server down, refused
login, a 4xx/5xx to the mail) records nothing and fails the job, which the queue retries
with its backoff; the recipients already recorded are not mailed again. A mail refused on
its own (a 4xx/5xx to its recipient) does not hold back the others: they are sent, and the
job fails at the end to retry the refused one.

No SMTP host configured: the "transport" is the log (``workflow.notifications.smtp``),
and the records are written just the same.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit, outbox
from workflow.db import transaction
from workflow.models import (
    AuditHead,
    AuditRecord,
    Document,
    DocumentVersion,
    Membership,
    OutboxEntry,
    User,
)
from workflow.notifications.mail import Recipient, Subject, compose, language_of, link_for
from workflow.notifications.smtp import MailNotSent, Transport, open_transport
from workflow.runtime import Runtime
from workflow.states import Effect, Role

log = logging.getLogger(__name__)

SENT = "notification.sent"


class NotANotification(ValueError):
    """The outbox entry names no document, a deleted one, or an effect that is no mail."""


@dataclass(frozen=True)
class Notification:
    event: str
    """``submit``, ``request_changes``, ``approve``, ``your_turn``, ``signed``."""
    document_id: int
    reference: str
    recipients: tuple[tuple[int, str], ...]
    """(user id, e-mail) mailed by this run, in a stable order."""
    link: str


@dataclass(frozen=True)
class Outgoing:
    """One mail to send and the audit record that says it was sent."""

    recipient: Recipient
    message: EmailMessage
    document_id: int
    action: str
    payload: dict[str, Any]
    key: Callable[[dict[str, Any]], bool]
    """True for a payload of an existing record of this same mail (already sent)."""


def recorded(session: Session, document_id: int, action: str) -> list[dict[str, Any]]:
    """The payloads of the document's audit records ``action``."""
    texts = session.scalars(
        select(AuditRecord.payload).where(
            AuditRecord.document_id == document_id, AuditRecord.action == action
        )
    )
    return [json.loads(t) for t in texts]


def deliver(rt: Runtime, outgoing: Iterable[Outgoing], on_sent: Callable[[Outgoing], None]) -> int:
    """Send each mail, then record it in its own transaction; returns how many were sent.

    A mail the server refuses (its recipient, its content) is skipped and the others are
    still sent; ``MailNotSent`` is raised at the end, so the job is retried for the refused
    ones only. A server that cannot be reached raises at once. Nothing is recorded for a
    mail that was not accepted."""
    sent = 0
    refused: list[MailNotSent] = []
    with open_transport(rt.settings.mail) as transport:
        for out in outgoing:
            try:
                _send_and_record(rt, transport, out)
            except MailNotSent as exc:
                if not exc.only_this_mail:
                    raise
                log.warning("%s", exc)
                refused.append(exc)
                continue
            on_sent(out)
            sent += 1
    if refused:
        raise MailNotSent(
            f"{len(refused)} mail(s) refused, {sent} sent; first: {refused[0]}",
            only_this_mail=True,
        ) from refused[0]
    return sent


def _send_and_record(rt: Runtime, transport: Transport, out: Outgoing) -> None:
    transport.send(out.message)
    with transaction(rt.sessions) as session:
        # Under the audit chain's lock (appends take it anyway): a concurrent run of the
        # same job cannot add the same record twice.
        session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
        if any(out.key(p) for p in recorded(session, out.document_id, out.action)):
            return
        audit.append(
            session,
            action=out.action,
            actor_id=None,
            actor="system",
            document_id=out.document_id,
            payload=out.payload,
        )


def send_notification(rt: Runtime, entry_id: int) -> Notification | None:
    """Mail everyone outbox entry ``entry_id`` concerns who has not been mailed for it yet,
    then mark the entry done; None if a previous run had done it all."""
    with transaction(rt.sessions) as session:
        entry = session.get(OutboxEntry, entry_id)
        if entry is None or entry.document_id is None:
            raise NotANotification(f"outbox entry {entry_id} names no document")
        if entry.completed_at is not None:
            return None
        doc = session.get(Document, entry.document_id)
        if doc is None:
            raise NotANotification(f"outbox entry {entry_id}: document {entry.document_id} is gone")
        event, users = audience(session, entry, doc)
        done = {p.get("recipient") for p in recorded(session, doc.id, SENT)
                if p.get("outbox_id") == entry_id}  # fmt: skip
        about = Subject(doc.id, doc.reference or str(doc.id), doc.title)
        link = link_for(rt.settings, event, doc.id)
        reason = (entry.payload or {}).get("reason")
        pending = [
            _outgoing(rt, entry_id, event, about, link, u, reason)
            for u in users
            if u.id not in done
        ]

    mailed: list[tuple[int, str]] = []

    def on_sent(out: Outgoing) -> None:
        r = out.recipient
        mailed.append((r.user_id, r.email))
        log.info(
            "notification %s to %s (user %s), document %s: %s",
            event, r.email, r.user_id, about.reference, str(out.message["Subject"]),
        )  # fmt: skip

    deliver(rt, pending, on_sent)
    with transaction(rt.sessions) as session:
        outbox.claim(session, entry_id)
    return Notification(event, about.document_id, about.reference, tuple(mailed), link)


def _outgoing(
    rt: Runtime, entry_id: int, event: str, about: Subject, link: str, user: User, reason: Any
) -> Outgoing:
    recipient = Recipient(user.id, user.email, user.full_name, language_of(user))
    key = f"outbox:{entry_id}:user:{user.id}"
    message = compose(
        rt.settings,
        event=event,
        recipient=recipient,
        about=about,
        key=key,
        reason=reason if isinstance(reason, str) else None,
    )
    payload = {
        "outbox_id": entry_id,
        "event": event,
        "recipient": user.id,
        "link": link,
        "message_id": str(message["Message-ID"]),
    }
    return Outgoing(
        recipient,
        message,
        about.document_id,
        SENT,
        payload,
        lambda p: p.get("outbox_id") == entry_id and p.get("recipient") == user.id,
    )


def audience(session: Session, entry: OutboxEntry, doc: Document) -> tuple[str, list[User]]:
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
        return "your_turn", [u for u in nxt if u.is_active]
    if entry.effect == Effect.NOTIFY_ALL_SIGNED:
        # Everyone concerned: the authors, the signatories, the parties' representatives.
        people = {u.id: u for u in _authors(session, doc)}
        people.update({s.user.id: s.user for s in signatories if s.user.is_active})
        people.update({
            p.representative.id: p.representative for p in doc.parties
            if p.representative is not None and p.representative.is_active
        })  # fmt: skip
        return "signed", [people[k] for k in sorted(people)]
    raise NotANotification(f"outbox entry {entry.id}: {entry.effect} is not a notification")


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
