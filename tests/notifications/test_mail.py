"""Notifications by mail, read from a real SMTP server (aiosmtpd on 127.0.0.1): who gets
which mail with which link, once per outbox entry and person, reminders once per period,
the log when no server is set, retries when the server is down."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select, update

from tests.jobs.outbox_helpers import audit_actions, entries, run_jobs
from tests.letters import rybnik_letter
from tests.notifications.conftest import PUBLIC_URL, SENDER, SmtpServer
from workflow import audit, outbox
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.identity.actors import Actor
from workflow.jobs import registry
from workflow.jobs.dispatch import dispatch_pending
from workflow.jobs.queue import queue_of
from workflow.models import Document, DocumentSignatory, OutboxEntry, User
from workflow.notifications.delivery import send_notification
from workflow.notifications.reminders import REMINDER_SENT, send_reminders
from workflow.notifications.smtp import MailNotSent
from workflow.review.transitions import transition
from workflow.runtime import Runtime
from workflow.states import Effect, Status
from workflow.views import DocumentView


def _text(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content()).replace("\r\n", "\n")


def _html(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def _emails(rt: Runtime, ids: list[int]) -> list[str]:
    with transaction(rt.read_sessions) as s:
        return sorted(s.scalars(select(User.email).where(User.id.in_(ids))))


def _effect(rt: Runtime, doc_id: int, effect: Effect, **payload: object) -> int:
    """An outbox entry as the signing use-case writes it (``signing.service``)."""
    with transaction(rt.sessions) as s:
        (row,) = outbox.add(s, (effect,), document_id=doc_id, payload=payload)
        return row.id


def _signatories(rt: Runtime, doc_id: int) -> list[tuple[int, int, str]]:
    with transaction(rt.read_sessions) as s:
        rows = s.execute(
            select(DocumentSignatory.position, DocumentSignatory.user_id, User.email)
            .join(User, User.id == DocumentSignatory.user_id)
            .where(DocumentSignatory.document_id == doc_id)
            .order_by(DocumentSignatory.position)
        )
        return [(p, u, e) for p, u, e in rows]


def test_submit_mails_each_reviewer_once_through_the_queue(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, smtp: SmtpServer
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    dispatch_pending(rt)
    run_jobs(rt)

    (row,) = [e for e in entries(rt) if e.effect == Effect.NOTIFY_REVIEWERS]
    assert row.completed_at is not None
    records = audit_actions(rt, "notification.sent")
    reviewers = _emails(rt, [json.loads(r.payload)["recipient"] for r in records])
    assert reviewers == ["recenzent@e-izba.demo"]
    assert smtp.inbox.addresses() == reviewers  # one mail each, nobody else
    (got,) = smtp.inbox.to("recenzent@e-izba.demo")
    msg = got.message
    title = "List intencyjny w sprawie wdrożenia e-strategii Miasta Rybnika"
    assert msg["Subject"] == f"[{doc.reference}] Do recenzji: {title}"
    head = got.raw.split(b"\r\n\r\n")[0].decode("ascii")  # RFC 2047: headers in ASCII
    raw_subject = head.split("\r\nSubject: ")[1].split("\r\nDate:")[0]
    assert "=?utf-8?" in raw_subject and "ż" not in raw_subject
    assert msg["From"].addresses[0].addr_spec == SENDER
    assert msg["To"].addresses[0].addr_spec == "recenzent@e-izba.demo"
    assert msg["Message-ID"].startswith("<estrategia.") and msg["Message-ID"].endswith(
        "@e-izba.demo>"
    )
    assert msg["Date"] and msg["Auto-Submitted"] == "auto-generated"
    link = f"{PUBLIC_URL}/documents/{doc.id}"
    text = _text(msg)
    assert f"{link}\n" in text and "czeka na Twoją opinię" in text
    assert f'href="{link}"' in _html(msg)
    assert f'"message_id":"{msg["Message-ID"]}"' in records[0].payload


def test_the_title_is_escaped_in_the_html_part(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, smtp: SmtpServer
) -> None:
    doc = rybnik_letter(rt, actors, demo, title='Porozumienie <b>"A&B"</b>')
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    (row,) = [e for e in entries(rt) if e.effect == Effect.NOTIFY_REVIEWERS]
    send_notification(rt, row.id)
    (got,) = smtp.inbox.received
    page = _html(got.message)
    assert "&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;" in page and "<b>" not in page
    assert '<b>"A&B"</b>' in _text(got.message)


def test_request_changes_mails_the_authors_with_the_reason(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, smtp: SmtpServer
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    transition(
        rt, actor=actors["recenzent"], document_id=doc.id, action="request_changes",
        reason="Uzupełnij budżet działań.",
    )  # fmt: skip
    (row,) = [e for e in entries(rt) if e.effect == Effect.NOTIFY_AUTHORS]
    send_notification(rt, row.id)
    (got,) = smtp.inbox.received
    assert got.envelope_to == ["autor@e-izba.demo"]
    assert got.message["Subject"].startswith(f"[{doc.reference}] Prośba o zmiany: ")
    assert "Uzasadnienie: Uzupełnij budżet działań." in _text(got.message)


def test_your_turn_mails_the_next_signatory_only_with_the_signing_link(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, smtp: SmtpServer
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    (first, _, _), (_, _, second_email) = _signatories(rt, doc.id)
    entry = _effect(rt, doc.id, Effect.NOTIFY_NEXT_SIGNATORY, event="sign", position=first)
    note = send_notification(rt, entry)
    assert note is not None and note.event == "your_turn"
    assert smtp.inbox.addresses() == [second_email]
    msg = smtp.inbox.received[0].message
    assert msg["Subject"].startswith(f"[{doc.reference}] Twoja kolej na podpis: ")
    assert f"{PUBLIC_URL}/documents/{doc.id}/sign\n" in _text(msg)


def test_signed_mails_everyone_concerned_once_even_when_run_again(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, smtp: SmtpServer
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    entry = _effect(rt, doc.id, Effect.NOTIFY_ALL_SIGNED, event="sign", position=2)
    signers = [e for _, _, e in _signatories(rt, doc.id)]
    expected = sorted({"autor@e-izba.demo", *signers})
    note = send_notification(rt, entry)
    assert note is not None and sorted(e for _, e in note.recipients) == expected
    assert send_notification(rt, entry) is None  # the handler run twice: nothing more
    assert smtp.inbox.addresses() == expected
    for got in smtp.inbox.received:
        assert got.message["Subject"].startswith(f"[{doc.reference}] Podpisany przez wszystkich")
    assert len(audit_actions(rt, "notification.sent")) == len(expected)


def test_a_retry_after_a_partial_run_mails_only_those_not_mailed(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, smtp: SmtpServer
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    entry = _effect(rt, doc.id, Effect.NOTIFY_ALL_SIGNED, event="sign", position=2)
    people = {actors["autor"].user_id: "autor@e-izba.demo"}
    people.update({uid: e for _, uid, e in _signatories(rt, doc.id)})
    in_order = [people[k] for k in sorted(people)]  # mailed in the order of user ids
    expected = sorted(in_order)
    smtp.inbox.refuse_next.append(in_order[1])  # the second mail gets a 451
    with pytest.raises(MailNotSent):
        send_notification(rt, entry)
    assert smtp.inbox.addresses() == sorted([in_order[0], in_order[2]])  # not held back
    assert len(audit_actions(rt, "notification.sent")) == 2
    (row,) = [e for e in entries(rt) if e.id == entry]
    assert row.completed_at is None
    note = send_notification(rt, entry)  # the retry
    assert note is not None and [e for _, e in note.recipients] == [in_order[1]]
    assert smtp.inbox.addresses() == expected  # each exactly once
    assert len(audit_actions(rt, "notification.sent")) == len(expected)


def _awaiting_signatures(rt: Runtime, doc: DocumentView, at: datetime) -> None:
    """The document as ``request_signatures`` leaves it, requested at ``at``."""
    with transaction(rt.sessions) as s:
        s.execute(
            update(Document).where(Document.id == doc.id).values(status=Status.AWAITING_SIGNATURES)
        )
        record = audit.append(
            s, action="document.request_signatures", actor_id=None, actor="test",
            document_id=doc.id, payload={"to_status": "awaiting_signatures"},
        )  # fmt: skip
        record.recorded_at = at  # not hashed again: the chain is not what this test checks


def test_a_reminder_goes_once_per_period_to_the_signatory_whose_turn_it_is(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, smtp: SmtpServer
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    (p1, _, first), (p2, _, second) = _signatories(rt, doc.id)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    _awaiting_signatures(rt, doc, start)
    day = timedelta(days=1)  # settings.mail.reminder_after_days = 1

    assert send_reminders(rt, now=start + day - timedelta(minutes=1)) == []
    (r,) = send_reminders(rt, now=start + day)
    assert (r.document_id, r.email, r.period) == (doc.id, first, 1)
    assert send_reminders(rt, now=start + 1.9 * day) == []  # the same period: not again
    assert [x.period for x in send_reminders(rt, now=start + 2 * day)] == [2]
    assert smtp.inbox.addresses() == [first, first]

    # The first signatory signs: the second one's turn starts then.
    signed_at = start + 2.5 * day
    with transaction(rt.sessions) as s:
        s.execute(
            update(DocumentSignatory)
            .where(DocumentSignatory.document_id == doc.id, DocumentSignatory.position == p1)
            .values(signed_at=signed_at)
        )
    assert send_reminders(rt, now=start + 3 * day) == []
    (r2,) = send_reminders(rt, now=signed_at + day)
    assert (r2.email, r2.position, r2.period) == (second, p2, 1)
    assert send_reminders(rt, now=signed_at + day) == []

    msg = smtp.inbox.to(second)[0].message
    assert msg["Subject"].startswith(f"[{doc.reference}] Przypomnienie: czekamy na Twój podpis")
    assert f"{PUBLIC_URL}/documents/{doc.id}/sign\n" in _text(msg)
    assert "2026-11-04 21:00 UTC" in _text(msg)  # since when the turn waits
    records = audit_actions(rt, REMINDER_SENT)
    assert len(records) == 3 and all(r.document_id == doc.id for r in records)


@pytest.mark.parametrize("rt", ["log"], indirect=True)
def test_without_an_smtp_host_the_mail_goes_to_the_log(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, caplog: pytest.LogCaptureFixture
) -> None:
    assert rt.settings.mail.host == ""
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    (row,) = [e for e in entries(rt) if e.effect == Effect.NOTIFY_REVIEWERS]
    caplog.set_level("INFO", logger="workflow.notifications.smtp")
    send_notification(rt, row.id)
    assert send_notification(rt, row.id) is None
    lines = [r.getMessage() for r in caplog.records if r.name == "workflow.notifications.smtp"]
    assert len(lines) == 1
    assert "recenzent@e-izba.demo" in lines[0] and "Do recenzji" in lines[0]
    assert f"{PUBLIC_URL}/documents/{doc.id}" in lines[0]
    assert len(audit_actions(rt, "notification.sent")) == 1


@pytest.mark.parametrize("rt", ["down"], indirect=True)
def test_smtp_down_fails_the_job_which_the_queue_retries_nothing_recorded(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    (row,) = [e for e in entries(rt) if e.effect == Effect.NOTIFY_REVIEWERS]
    with transaction(rt.sessions) as s:  # only the notification: no render needed here
        s.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id != row.id)
            .values(dispatched_at=datetime.now(UTC))
        )
    dispatch_pending(rt)
    run_jobs(rt)
    (row,) = [e for e in entries(rt) if e.id == row.id]
    assert row.job_id is not None and row.completed_at is None
    view = queue_of(rt).get(row.job_id)
    assert view is not None
    assert (view.state, view.attempts) == ("todo", 1)  # failed once, a retry is scheduled
    assert audit_actions(rt, "notification.sent") == []


def test_a_temporary_refusal_is_retried_by_the_queue_and_sent_once(
    rt: Runtime,
    actors: dict[str, Actor],
    demo: DemoIds,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = registry.spec_of("notifications.notify")
    monkeypatch.setitem(registry._REGISTRY, spec.name, dataclasses.replace(spec, backoff_s=0))
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    (row,) = [e for e in entries(rt) if e.effect == Effect.NOTIFY_REVIEWERS]
    with transaction(rt.sessions) as s:
        s.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id != row.id)
            .values(dispatched_at=datetime.now(UTC))
        )
    smtp.inbox.refuse_next.append("recenzent@e-izba.demo")
    dispatch_pending(rt)
    run_jobs(rt)
    (row,) = [e for e in entries(rt) if e.id == row.id]
    assert row.job_id is not None and row.completed_at is not None
    view = queue_of(rt).get(row.job_id)
    assert view is not None and (view.state, view.attempts) == (
        "succeeded",
        2,
    )  # two attempts: refused, then sent
    assert smtp.inbox.addresses() == ["recenzent@e-izba.demo"]
    assert len(audit_actions(rt, "notification.sent")) == 1
