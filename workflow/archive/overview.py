"""What a record's archive page shows, read in one place so that the page makes no queries
of its own: the record, who archived it and who proposed and decided its disposals, and the
validation of its file *now* — re-hashed from the store and re-validated, so that a file
changed or removed is shown as such and never as valid."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from signatures import ValidationReport
from workflow.archive.archiving import default_metadata
from workflow.archive.metadata import ArchiveMetadata
from workflow.archive.records import load_record, read_checked, record_data
from workflow.archive.retention import disposal_data
from workflow.db import transaction
from workflow.documents.access import check_transition, load_visible
from workflow.errors import EstrategiaError, GuardRefused, NotFound
from workflow.identity.actors import Actor
from workflow.models import Disposal, User
from workflow.runtime import Runtime
from workflow.signing.verification import verify_pdf
from workflow.states import Action, transition_for

OPEN_STATES = frozenset({"proposed", "approved"})
"""A disposal in these states is still to be decided or executed."""


@dataclass(frozen=True)
class RecordOverview:
    record: dict[str, Any]
    """``records.record_data``."""
    archived_by: str | None
    disposals: list[dict[str, Any]]
    """``retention.disposal_data`` of each, oldest first, with the names of ``proposed_by``,
    ``approved_by`` and ``executed_by`` added."""
    open_disposal: dict[str, Any] | None
    """The disposal proposed or approved and not yet executed, if any."""
    report: ValidationReport | None
    """The validation of the stored file now; None when it is disposed of or unusable."""
    file_problem: EstrategiaError | None
    """Why the stored file cannot be validated: damaged (hash mismatch) or missing."""


def record_overview(rt: Runtime, *, actor: Actor, record_id: int) -> RecordOverview:
    """The archive page of ``record_id`` for ``actor`` (an archivist of its office)."""
    with transaction(rt.read_sessions) as session:
        record = load_record(session, actor, record_id)
        data = record_data(record)
        disposals = [
            disposal_data(d)
            for d in session.scalars(
                select(Disposal).where(Disposal.record_id == record.id).order_by(Disposal.id)
            )
        ]
        people = _names(session, [record.archived_by_id, *_deciders(disposals)])
    for d in disposals:
        for role in ("proposed_by", "approved_by", "executed_by"):
            d[role] = people.get(d[f"{role}_id"])
    open_one = next((d for d in disposals if d["state"] in OPEN_STATES), None)
    report, problem = _validate(rt, data)
    return RecordOverview(
        record=data,
        archived_by=people.get(data["archived_by_id"]),
        disposals=disposals,
        open_disposal=open_one,
        report=report,
        file_problem=problem,
    )


def _deciders(disposals: Iterable[dict[str, Any]]) -> list[int | None]:
    return [d[k] for d in disposals for k in ("proposed_by_id", "approved_by_id", "executed_by_id")]


def _names(session: Any, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.full_name).where(User.id.in_(wanted)))
    return {row.id: row.full_name for row in rows}


def _validate(
    rt: Runtime, data: dict[str, Any]
) -> tuple[ValidationReport | None, EstrategiaError | None]:
    if data["disposed_at"] is not None:
        return None, None
    try:
        pdf = read_checked(rt, data["id"], data["pdf_sha256"])
    except (GuardRefused, NotFound) as exc:
        return None, exc
    return verify_pdf(rt, pdf), None


@dataclass(frozen=True)
class ArchivingForm:
    """What the archiving form of a signed document starts from."""

    document_id: int
    reference: str | None
    lock_version: int
    defaults: ArchiveMetadata


def archiving_form(rt: Runtime, *, actor: Actor, document_id: int) -> ArchivingForm:
    """The default metadata of the signed ``document_id``, if ``actor`` may archive it now
    (the same checks as ``archiving.archive_document``, which the form then calls)."""
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        check_transition(session, actor, doc, transition_for(Action.ARCHIVE))
        return ArchivingForm(doc.id, doc.reference, doc.lock_version, default_metadata(rt, doc))
