"""The handlers: idempotent per outbox entry, and the scheduled checks' audit records."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.jobs.outbox_helpers import audit_actions, entries, run_jobs
from tests.letters import rybnik_letter
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.errors import NotPermitted
from workflow.identity.actors import Actor
from workflow.jobs.dispatch import dispatch_pending
from workflow.jobs.handlers.checks import latest_checks, renew_timestamps, verify_audit_chain
from workflow.jobs.handlers.notify import send_notification
from workflow.jobs.handlers.render import render_entry
from workflow.models import OutboxEntry, Rendition
from workflow.review.transitions import transition
from workflow.runtime import Runtime
from workflow.states import Effect


def test_rendering_twice_leaves_one_rendition_and_one_record(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    rybnik_letter(rt, actors, demo)
    (row,) = [e for e in entries(rt) if e.effect == Effect.RENDER_PDF]
    first = render_entry(rt, row.id)
    assert first is not None
    assert render_entry(rt, row.id) is None  # the entry is done: nothing again
    with transaction(rt.read_sessions) as s:
        assert len(list(s.scalars(select(Rendition)))) == 1
    assert len(audit_actions(rt, "document.rendered")) == 1


def test_notifying_twice_records_one_notification_per_event(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, caplog: pytest.LogCaptureFixture
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    (row,) = [e for e in entries(rt) if e.effect == Effect.NOTIFY_REVIEWERS]
    caplog.set_level("INFO", logger="workflow.notifications.delivery")
    note = send_notification(rt, row.id)
    assert note is not None and note.event == "submit"
    assert [email for _, email in note.recipients] == ["recenzent@e-izba.demo"]
    assert send_notification(rt, row.id) is None
    (record,) = audit_actions(rt, "notification.sent")
    assert record.document_id == doc.id and f'"outbox_id":{row.id}' in record.payload
    lines = [r.getMessage() for r in caplog.records if "notification submit" in r.getMessage()]
    assert len(lines) == 1 and "recenzent@e-izba.demo" in lines[0] and doc.reference in lines[0]


def test_the_queue_runs_each_entry_once_even_when_handed_over_twice(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    assert dispatch_pending(rt) == 4  # render and index (creation), notify and index (submit)
    run_jobs(rt)
    # A crash after the defer and before the mark: the same entries are handed over again.
    with transaction(rt.sessions) as s:
        for e in entries(rt):
            s.execute(update(OutboxEntry).where(OutboxEntry.id == e.id).values(dispatched_at=None))
    assert dispatch_pending(rt) == 4
    run_jobs(rt)
    assert all(e.completed_at is not None for e in entries(rt))
    assert len(audit_actions(rt, "notification.sent")) == 1
    assert len(audit_actions(rt, "document.rendered")) == 1


def test_scheduled_checks_record_their_results_for_chamber_admins(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    report = verify_audit_chain(rt)
    assert report.ok
    result = renew_timestamps(rt)
    assert result["renewed"] == 0 and result["blocked"] == 0
    (verified,) = audit_actions(rt, "audit.verified")
    assert '"ok":true' in verified.payload and '"first_bad_seq":null' in verified.payload
    (renewed,) = audit_actions(rt, "timestamps.renewed")
    assert '"renewed":0' in renewed.payload
    with pytest.raises(NotPermitted):
        latest_checks(rt, actor=actors["autor"])
    checks = latest_checks(rt, actor=actors["prezes"])  # an admin of the e-Izba head office
    assert [c.check for c in checks] == ["audit.verified", "timestamps.renewed"]
    assert checks[0].result["ok"] is True and checks[1].result["renewed"] == 0
