"""Remind a signatory whose turn has waited ``settings.mail.reminder_after_days``, once per
that many days, for as long as the document awaits their signature.

A signatory's turn starts when the signatures were requested (the newest
``document.request_signatures`` record) or when the signatory before them signed,
whichever is later. With ``d`` the delay, reminder ``k`` (1, 2, ...) is due once the turn
has waited ``k * d``: a run mails the current period's reminder if it is not recorded yet,
so a reminder job that did not run for several periods sends one mail, not a backlog.

Each reminder sent is recorded in the audit trail as ``notification.reminder_sent``
{recipient, position, turn_started, period, link, message_id}, keyed by (document,
position, turn_started, period): a second run in the same period sends nothing. The same
send-then-record order and the same gap as the outbox notifications
(``workflow.notifications.delivery``): a crash between the server's acceptance and the
record sends that reminder again on the next run, with the same ``Message-ID``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.db import transaction
from workflow.models import AuditRecord, Document, DocumentSignatory
from workflow.notifications.delivery import Outgoing, deliver, recorded
from workflow.notifications.mail import Recipient, Subject, compose, language_of, link_for
from workflow.runtime import Runtime
from workflow.states import Status

REMINDER_SENT = "notification.reminder_sent"


@dataclass(frozen=True)
class Reminder:
    document_id: int
    user_id: int
    email: str
    position: int
    period: int
    turn_started: datetime


def turn_started(session: Session, doc: Document, signatory: DocumentSignatory) -> datetime | None:
    """When ``signatory``'s turn began (None if the signatures were never requested)."""
    requested = session.scalar(
        select(AuditRecord.recorded_at)
        .where(
            AuditRecord.document_id == doc.id,
            AuditRecord.action == "document.request_signatures",
        )
        .order_by(AuditRecord.seq.desc())
        .limit(1)
    )
    if requested is None:
        return None
    earlier = [
        s.signed_at
        for s in doc.signatories
        if s.position < signatory.position and s.signed_at is not None
    ]
    return max([requested, *earlier])


def due_reminders(rt: Runtime, now: datetime) -> list[tuple[Reminder, Outgoing]]:
    """The reminders due at ``now`` and not sent yet, with their mails."""
    days = rt.settings.mail.reminder_after_days
    if days <= 0:
        return []
    delay = timedelta(days=days)
    due: list[tuple[Reminder, Outgoing]] = []
    with transaction(rt.sessions) as session:
        docs = session.scalars(
            select(Document)
            .where(Document.status == Status.AWAITING_SIGNATURES)
            .order_by(Document.id)
        )
        for doc in docs:
            waiting = [s for s in sorted(doc.signatories, key=lambda s: s.position)
                       if s.signed_at is None]  # fmt: skip
            if not waiting or not waiting[0].user.is_active:
                continue
            nxt = waiting[0]
            started = turn_started(session, doc, nxt)
            if started is None:
                continue
            period = int((now - started) / delay)
            if period < 1:
                continue
            reminder = Reminder(doc.id, nxt.user_id, nxt.user.email, nxt.position, period, started)
            stamp = started.astimezone(UTC).isoformat()

            def same(p: dict[str, object], r: Reminder = reminder, stamp: str = stamp) -> bool:
                return (p.get("position"), p.get("turn_started"), p.get("period")) == (
                    r.position, stamp, r.period,
                )  # fmt: skip

            if any(same(p) for p in recorded(session, doc.id, REMINDER_SENT)):
                continue
            user = nxt.user
            recipient = Recipient(user.id, user.email, user.full_name, language_of(user))
            about = Subject(doc.id, doc.reference or str(doc.id), doc.title)
            message = compose(
                rt.settings,
                event="reminder",
                recipient=recipient,
                about=about,
                key=f"reminder:{doc.id}:{nxt.position}:{stamp}:{period}",
                since=started,
            )
            payload = {
                "recipient": user.id,
                "position": nxt.position,
                "turn_started": stamp,
                "period": period,
                "link": link_for(rt.settings, "reminder", doc.id),
                "message_id": str(message["Message-ID"]),
            }
            out = Outgoing(recipient, message, doc.id, REMINDER_SENT, payload, same)
            due.append((reminder, out))
    return due


def send_reminders(rt: Runtime, *, now: datetime | None = None) -> list[Reminder]:
    """Mail every reminder due at ``now`` (default: the current time) and record each;
    returns those sent by this run."""
    due = due_reminders(rt, now or datetime.now(UTC))
    by_out = {id(out): reminder for reminder, out in due}
    sent: list[Reminder] = []
    deliver(rt, [out for _, out in due], lambda out: sent.append(by_out[id(out)]))
    return sent
