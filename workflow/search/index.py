"""Writing the index: one entry per document or archive record, upserted whole.

- :func:`index_entry` is the low-level upsert: an :class:`IndexEntry` (title, text, filter
  values, ``document_id`` and/or ``archive_record_id``) becomes the one ``search_entries``
  row of that document or record, its terms and its filter values. The archive calls it
  for archived and imported records.
- :func:`index_document` builds the entry of a workflow document (title, parties with
  TERYT and voivodeship, signatories, status, kind, year, the text of every version, JRWA
  and category if it was archived) and upserts it.
- :func:`reindex` rebuilds everything: every document, then whatever the functions in
  :data:`REINDEXERS` index (the archive registers one for its imported records, so that
  search never imports the archive).

Every write is idempotent: indexing the same thing twice leaves the same row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow.db import transaction
from workflow.documents.compare import docx_text
from workflow.models import Document, DocumentParty, DocumentSignatory, utcnow
from workflow.models.archive import ArchiveRecord
from workflow.models.search import SearchEntry, SearchValue
from workflow.polish.lemmas import index_text
from workflow.polish.teryt import voivodeship_of
from workflow.runtime import Runtime
from workflow.storage.blobs import BlobStore

#: The filters an entry can be found by (``search_values.facet``).
FACETS: tuple[str, ...] = (
    "kind",
    "status",
    "organisation",
    "teryt",
    "voivodeship",
    "signatory",
    "year",
    "jrwa",
    "category",
)


@dataclass(frozen=True)
class IndexParty:
    """A party of an indexed agreement; the voivodeship defaults to the TERYT code's."""

    name: str
    teryt: str | None = None
    voivodeship: str | None = None


@dataclass(frozen=True)
class IndexEntry:
    """What the index keeps of one document or archive record.

    At least one of ``document_id`` / ``archive_record_id`` is set; a workflow document
    that was archived has both (one entry). ``text`` is the full text (every version, or
    the PDF's text layer / OCR of an imported record); the title, parties and signatories
    are searchable too. ``owner_organisation_id`` decides who sees an entry that has no
    workflow document (those with one follow the document's visibility).
    """

    title: str
    text: str
    kind: str
    document_id: int | None = None
    archive_record_id: int | None = None
    owner_organisation_id: int | None = None
    status: str | None = None
    file_name: str | None = None
    year: int | None = None
    jrwa_symbol: str | None = None
    category: str | None = None
    parties: Sequence[IndexParty] = field(default_factory=tuple)
    signatories: Sequence[str] = field(default_factory=tuple)


def index_entry(session: Session, entry: IndexEntry) -> int:
    """Insert or replace the index entry of ``entry.document_id`` / ``entry.archive_record_id``
    in the caller's transaction; its id. Stable API (the archive calls it):

    - found by ``document_id`` if given, else by ``archive_record_id``; an entry found by
      one and given the other keeps both (archiving a workflow document adds the record id);
    - everything else is replaced by what ``entry`` holds (idempotent);
    - the full-text index follows ``search_entries.terms`` in the database itself.

    Raises ValueError if neither id is given.
    """
    row = _find(session, entry.document_id, entry.archive_record_id)
    if row is None:
        row = SearchEntry()
        session.add(row)
    row.document_id = entry.document_id if entry.document_id is not None else row.document_id
    if entry.archive_record_id is not None:
        row.archive_record_id = entry.archive_record_id
    row.owner_organisation_id = entry.owner_organisation_id
    row.kind = entry.kind
    row.status = entry.status
    row.title = entry.title[:300]
    row.file_name = entry.file_name
    row.year = entry.year
    row.jrwa_symbol = entry.jrwa_symbol
    row.category = entry.category
    row.body = entry_body(entry)
    row.terms = index_text(row.body)
    row.updated_at = utcnow()
    wanted = sorted(set(facet_values(entry)))
    row.facet_terms = " ".join(facet_token(f, v) for f, v in wanted)
    have = sorted((v.facet, v.value) for v in row.values)
    if wanted != have:
        row.values.clear()
        session.flush()
        row.values.extend(SearchValue(facet=f, value=v) for f, v in wanted)
    session.flush()
    return row.id


def delete_entry(
    session: Session, *, document_id: int | None = None, archive_record_id: int | None = None
) -> bool:
    """Remove the entry of a document or archive record; whether there was one."""
    row = _find(session, document_id, archive_record_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def _find(
    session: Session, document_id: int | None, archive_record_id: int | None
) -> SearchEntry | None:
    if document_id is None and archive_record_id is None:
        raise ValueError("an index entry needs a document_id or an archive_record_id")
    query = select(SearchEntry).options(selectinload(SearchEntry.values))
    if document_id is not None:
        found = session.scalars(query.where(SearchEntry.document_id == document_id)).first()
        if found is not None or archive_record_id is None:
            return found
    return session.scalars(query.where(SearchEntry.archive_record_id == archive_record_id)).first()


def entry_body(entry: IndexEntry) -> str:
    """The text indexed and shown in snippets: title, parties, signatories, then the text."""
    head = [entry.title, *(p.name for p in entry.parties), *entry.signatories]
    return "\n".join(line for line in [*head, entry.text] if line and line.strip())


def facet_token(facet: str, value: str) -> str:
    """The full-text token of a filter value: ``zz`` + the facet + 20 hex digits of the
    value's sha256 (letters and digits only, so any engine keeps it whole; no word of a
    text is ever one of these)."""
    return f"zz{facet}{hashlib.sha256(value.encode()).hexdigest()[:20]}"


def facet_values(entry: IndexEntry) -> Iterator[tuple[str, str]]:
    """(facet, value) pairs of an entry's filters."""
    single = {
        "kind": entry.kind,
        "status": entry.status,
        "year": str(entry.year) if entry.year is not None else None,
        "jrwa": entry.jrwa_symbol,
        "category": entry.category,
    }
    for facet, value in single.items():
        if value:
            yield facet, value
    for party in entry.parties:
        yield "organisation", party.name[:300]
        if party.teryt:
            yield "teryt", party.teryt
        voivodeship = party.voivodeship or voivodeship_of(party.teryt)
        if voivodeship:
            yield "voivodeship", voivodeship
    for name in entry.signatories:
        yield "signatory", name[:300]


def document_entry(session: Session, blobs: BlobStore, document_id: int) -> IndexEntry | None:
    """The index entry of a workflow document (None: there is no such document)."""
    doc = session.get(
        Document,
        document_id,
        options=(
            selectinload(Document.parties).joinedload(DocumentParty.organisation),
            selectinload(Document.signatories).joinedload(DocumentSignatory.user),
            selectinload(Document.versions),
        ),
    )
    if doc is None:
        return None
    record = session.scalars(
        select(ArchiveRecord).where(ArchiveRecord.document_id == document_id)
    ).first()
    parties = [
        IndexParty(p.organisation.name, p.organisation.teryt, voivodeship_of(p.organisation.teryt))
        for p in doc.parties
    ]
    signatories = [s.user.full_name for s in doc.signatories]
    functions = [s.function for s in doc.signatories]
    return IndexEntry(
        title=doc.title,
        text="\n".join([*functions, versions_text(blobs, [v.docx_sha256 for v in doc.versions])]),
        kind=doc.kind.value,
        document_id=doc.id,
        archive_record_id=record.id if record is not None else None,
        owner_organisation_id=doc.owner_organisation_id,
        status=doc.status.value,
        file_name=record.file_name if record is not None else _pdf_name(doc),
        year=doc.created_at.year,
        jrwa_symbol=record.jrwa_symbol if record is not None else None,
        category=record.category if record is not None else None,
        parties=parties,
        signatories=signatories,
    )


def _pdf_name(doc: Document) -> str:
    """As the document's PDF is downloaded (``documents.rendition.get_file``)."""
    return (doc.reference or str(doc.id)).replace("/", "-") + ".pdf"


def versions_text(blobs: BlobStore, docx_sha256s: Sequence[str]) -> str:
    """The text of every version, each line once (later versions repeat most of the text)."""
    seen: set[str] = set()
    lines: list[str] = []
    for sha in dict.fromkeys(docx_sha256s):
        for line in docx_text(blobs.get(sha)).splitlines():
            if line.strip() and line not in seen:
                seen.add(line)
                lines.append(line)
    return "\n".join(lines)


def index_document(session: Session, blobs: BlobStore, document_id: int) -> int | None:
    """(Re)index a workflow document in the caller's transaction; the entry id, or None if
    the document does not exist (its entry, if any, is removed). Idempotent."""
    entry = document_entry(session, blobs, document_id)
    if entry is None:
        delete_entry(session, document_id=document_id)
        return None
    return index_entry(session, entry)


Reindexer = Callable[[Session, BlobStore], Iterator[int]]
"""Indexes a kind of record (calling :func:`index_entry`), yielding once per record done."""

#: Extension point for :func:`reindex`: the archive appends the reindexer of its records.
REINDEXERS: list[Reindexer] = []


def document_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Document.id).order_by(Document.id)))


def reindex(rt: Runtime, on_progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the entries of every document, then run :data:`REINDEXERS`; the number of
    entries written. ``on_progress(done, total)`` after each batch (total: documents plus
    what the reindexers yield, counted as they go)."""
    with transaction(rt.read_sessions) as session:
        ids = document_ids(session)
    done = 0
    for start in range(0, len(ids), _BATCH):
        with transaction(rt.sessions) as session:
            for document_id in ids[start : start + _BATCH]:
                index_document(session, rt.blobs, document_id)
        done += len(ids[start : start + _BATCH])
        if on_progress is not None:
            on_progress(done, len(ids))
    for reindexer in REINDEXERS:
        with transaction(rt.sessions) as session:
            for _ in reindexer(session, rt.blobs):
                done += 1
                if on_progress is not None and done % _BATCH == 0:
                    on_progress(done, max(done, len(ids)))
    if on_progress is not None:
        on_progress(done, done)
    return done


_BATCH = 50
