"""Archiving a signed workflow document: the ARCHIVE transition and its archive record in
one transaction.

The slow part comes first, with no lock held: the final signed PDF is read from the store
and validated (``signing.verification``: signatories, signing times, PAdES level), and the
default metadata is built from the document (parties with TERYT, kind, title), the
installation's retention scheme (``settings.archive.scheme``: e-Izba's own, per kind) and
the signing date (the case closes on the day the last official signed, Warsaw time). The
archivist's overrides replace any field and are checked like ``--meta`` files.

Then ``review.transitions.transition`` moves the document to ``archived`` (role, guards,
audit record, outbox effects as for any action) and, in the same transaction,
``store.add_record`` writes the record; if the signed PDF changed meanwhile it is a
conflict and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from workflow.archive.metadata import ArchiveMetadata, PartyMeta, voivodeship_of
from workflow.archive.store import add_record
from workflow.db import transaction
from workflow.documents.access import check_transition, load_visible
from workflow.errors import ConflictingChange, ErrorCode, NotFound
from workflow.identity.actors import Actor
from workflow.models import Document
from workflow.review.transitions import transition
from workflow.runtime import Runtime
from workflow.signing.verification import verify_pdf
from workflow.states import Action, transition_for
from workflow.views import DocumentView

WARSAW = ZoneInfo("Europe/Warsaw")


@dataclass(frozen=True)
class Archived:
    record_id: int
    document: DocumentView
    """The document as it is now (archived)."""


def archive_document(
    rt: Runtime,
    *,
    actor: Actor,
    document_id: int,
    meta_overrides: Mapping[str, Any] | None = None,
    seen_lock_version: int | None = None,
) -> int:
    """Archive the signed document ``document_id``; the new record's id."""
    return archive_with_view(
        rt, actor=actor, document_id=document_id, meta_overrides=meta_overrides,
        seen_lock_version=seen_lock_version,
    ).record_id  # fmt: skip


def archive_with_view(
    rt: Runtime,
    *,
    actor: Actor,
    document_id: int,
    meta_overrides: Mapping[str, Any] | None = None,
    seen_lock_version: int | None = None,
) -> Archived:
    """``archive_document``, returning the document as it is now too (for the API)."""
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        check_transition(session, actor, doc, transition_for(Action.ARCHIVE))
        pdf_sha256 = doc.current_pdf_sha256
        if pdf_sha256 is None:  # a signed document always has its PDF
            raise NotFound(ErrorCode.SIGNED_PDF_NOT_FOUND, reference=doc.reference)
        defaults = default_metadata(rt, doc)
        owner = doc.owner_organisation_id
        file_name = f"{(doc.reference or str(doc.id)).replace('/', '-')}.pdf"
    meta = defaults.with_overrides(dict(meta_overrides)) if meta_overrides else defaults
    pdf = rt.blobs.get(pdf_sha256)
    report = verify_pdf(rt, pdf)
    created: list[int] = []

    def within(session: Session, doc: Document) -> dict[str, Any]:
        if doc.current_pdf_sha256 != pdf_sha256:
            raise ConflictingChange(ErrorCode.DOCUMENT_CHANGED, reference=doc.reference)
        record = add_record(
            session, rt, pdf=pdf, file_name=file_name, meta=meta, source="workflow",
            document_id=doc.id, actor=actor, validation=report, owner_organisation_id=owner,
        )  # fmt: skip
        created.append(record.id)
        return {"archive_record_id": record.id, "pdf_sha256": pdf_sha256}

    view = transition(
        rt, actor=actor, document_id=document_id, action=Action.ARCHIVE,
        seen_lock_version=seen_lock_version, within=within,
    )  # fmt: skip
    return Archived(record_id=created[0], document=view)


def default_metadata(rt: Runtime, doc: Document) -> ArchiveMetadata:
    """The record's metadata unless the archivist overrides it (see the module docstring)."""
    scheme = rt.settings.archive.scheme.get(doc.kind.value)
    if scheme is None:
        scheme = next(iter(rt.settings.archive.scheme.values()))
    parties = tuple(
        PartyMeta(
            name=p.organisation.name,
            teryt=p.organisation.teryt,
            voivodeship=voivodeship_of(p.organisation.teryt),
            organisation_id=p.organisation_id,
        )
        for p in doc.parties
    )
    return ArchiveMetadata(
        kind=doc.kind.value,
        title=doc.title,
        jrwa_symbol=scheme.jrwa_symbol,
        category=scheme.category,
        retention_years=scheme.retention_years,
        case_closed_on=_closed_on(doc),
        parties=parties,
    )


def _closed_on(doc: Document) -> date:
    times = [s.signed_at for s in doc.signatories if s.signed_at is not None]
    last: datetime = max(times) if times else doc.updated_at
    return last.astimezone(WARSAW).date()
