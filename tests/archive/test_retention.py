"""Retention ends, the list of records due, and the disposal steps with their refusals."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from tests.archive.helpers import add_archivist, archive_pdf, plain_pdf
from workflow import audit
from workflow.archive import retention
from workflow.archive.metadata import retention_end
from workflow.archive.records import list_records, record_file, set_legal_hold
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.errors import (
    ErrorCode,
    GuardRefused,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from workflow.identity.actors import Actor
from workflow.models import ArchiveRecord, Disposal
from workflow.runtime import Runtime


def test_retention_ends_on_the_first_of_january_after_closing_plus_the_years() -> None:
    closed = date(2026, 5, 1)
    assert retention_end("A", None, closed) is None
    assert retention_end("B", 10, closed) == date(2037, 1, 1)
    assert retention_end("BE", 5, closed) == date(2032, 1, 1)
    assert retention_end("BC", None, closed) == date(2027, 1, 1)
    assert retention_end("BC", 2, date(2026, 12, 31)) == date(2029, 1, 1)
    with pytest.raises(InvalidInput) as caught:
        retention_end("B", None, closed)
    assert caught.value.field == "retention_years"


@pytest.fixture
def second_archivist(rt: Runtime, demo: DemoIds) -> Actor:
    return add_archivist(rt, demo)


def _past(**overrides: Any) -> dict[str, Any]:
    return {"case_closed_on": date(2015, 3, 1), "retention_years": 5, **overrides}


def test_a_due_record_is_disposed_of_by_two_people_and_its_file_removed(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor], second_archivist: Actor
) -> None:
    archivist = actors["archiwista"]
    due = archive_pdf(rt, demo, archivist, plain_pdf("stara"), **_past())
    archive_pdf(rt, demo, archivist, plain_pdf("nowa"))  # B10 from 2026: not due
    archive_pdf(rt, demo, archivist, plain_pdf("a"), **_past(category="A", retention_years=None))
    today = retention.today()
    assert [r["id"] for r in list_records(rt, actor=archivist, due_on=today)] == [due]

    proposal = retention.propose(rt, actor=archivist, record_id=due, reason="upływ okresu")
    with pytest.raises(NotPermitted) as same:
        retention.approve(rt, actor=archivist, disposal_id=proposal["id"])
    assert same.value.code == ErrorCode.DISPOSAL_SAME_PERSON
    with pytest.raises(GuardRefused):  # not approved yet
        retention.execute(rt, actor=archivist, disposal_id=proposal["id"])
    retention.approve(rt, actor=second_archivist, disposal_id=proposal["id"])
    done = retention.execute(rt, actor=archivist, disposal_id=proposal["id"])

    assert done["state"] == "executed" and done["approved_by_id"] == second_archivist.user_id
    with transaction(rt.read_sessions) as s:
        record = s.get(ArchiveRecord, due)
        assert record is not None and record.disposed_at is not None
        sha = record.pdf_sha256
        actions = [r["action"] for r in audit.export(s) if r["payload"].get("record_id") == due]
        assert audit.verify(s).ok
    assert actions[-3:] == [
        "archive.disposal_proposed", "archive.disposal_approved", "archive.disposed"
    ]  # fmt: skip
    with pytest.raises(FileNotFoundError):
        rt.blobs.get(sha)
    with pytest.raises(NotFound) as gone:
        record_file(rt, actor=archivist, record_id=due)
    assert gone.value.code == ErrorCode.ARCHIVE_RECORD_DISPOSED
    assert list_records(rt, actor=archivist, due_on=today) == []


def test_held_category_a_and_not_yet_due_records_are_refused_at_every_step(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor], second_archivist: Actor
) -> None:
    archivist = actors["archiwista"]
    forever = archive_pdf(
        rt, demo, archivist, plain_pdf("a"), **_past(category="A", retention_years=None)
    )
    young = archive_pdf(rt, demo, archivist, plain_pdf("young"))
    held = archive_pdf(rt, demo, archivist, plain_pdf("held"), **_past())
    expected = {
        forever: ErrorCode.DISPOSAL_CATEGORY_A,
        young: ErrorCode.DISPOSAL_NOT_DUE,
    }
    proposal = retention.propose(rt, actor=archivist, record_id=held, reason="upływ")
    set_legal_hold(rt, actor=second_archivist, record_id=held, reason="postępowanie sądowe")
    for record_id, code in expected.items():
        with pytest.raises(GuardRefused) as caught:
            retention.propose(rt, actor=archivist, record_id=record_id, reason="upływ")
        assert caught.value.code == code
    with pytest.raises(GuardRefused) as on_hold:
        retention.approve(rt, actor=second_archivist, disposal_id=proposal["id"])
    assert on_hold.value.code == ErrorCode.DISPOSAL_UNDER_HOLD
    with transaction(rt.read_sessions) as s:
        states = s.scalars(select(Disposal.state)).all()
        assert states == ["proposed"]
        assert s.scalars(select(ArchiveRecord.disposed_at)).all() == [None, None, None]
    for record_id in (forever, young, held):
        assert record_file(rt, actor=archivist, record_id=record_id)[0]


def test_be_needs_the_state_archives_consent(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    archivist = actors["archiwista"]
    record_id = archive_pdf(rt, demo, archivist, plain_pdf("be"), **_past(category="BE"))
    with pytest.raises(InvalidInput) as caught:
        retention.propose(rt, actor=archivist, record_id=record_id, reason="upływ")
    assert caught.value.field == "state_archive_consent"
    made = retention.propose(
        rt, actor=archivist, record_id=record_id, reason="upływ", consent="AP-Katowice/12/2026"
    )
    assert made["state_archive_consent"] == "AP-Katowice/12/2026"


def test_the_archive_of_another_office_is_not_found(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    rybniks = archive_pdf(rt, demo, actors["archiwista"], plain_pdf("x"), owner="rybnik")
    eizbas = archive_pdf(rt, demo, actors["archiwista"], plain_pdf("y"))
    for who, record_id in (("archiwista", rybniks), ("wojt", eizbas), ("prezydent", eizbas)):
        with pytest.raises(NotFound):
            record_file(rt, actor=actors[who], record_id=record_id)
    with pytest.raises(NotPermitted):  # of the office, but not its archivist
        record_file(rt, actor=actors["recenzent"], record_id=eizbas)
    assert [r["id"] for r in list_records(rt, actor=actors["archiwista"])] == [eizbas]
    assert list_records(rt, actor=actors["wojt"]) == []
