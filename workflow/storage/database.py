"""The blob store in the database (``ESTRATEGIA_BLOB_BACKEND=database``): no shared disk.

Several app servers and workers on different machines share one PostgreSQL; with this
backend they share the stored files too. Each file's bytes are one ``bytea`` row of
``blob_contents`` (``BLOB`` on SQLite), keyed by its sha256 and tied by a foreign key to
its ``stored_files`` row:

- ``store`` inserts the row and the bytes in the caller's transaction (both ON CONFLICT DO
  NOTHING, so two transactions storing the same bytes both succeed, and bytes once stored
  are never overwritten). They commit together or not at all: there is nothing to stage,
  promote or discard, and a crash at any moment leaves no half-written file.
- ``get`` reads the committed bytes and checks them against their hash: a changed row is
  reported (``BlobCorrupted``), never served.

Why ``bytea`` rather than large objects: the stored files are bounded (uploads and
renditions of about 10 MB at most, far under bytea's 1 GB), and the interface returns whole
bytes anyway, so large objects' streaming buys nothing; a large object is a separate thing
that outlives a deleted row unless it is unlinked (``vacuumlo``), needs its own
permissions, and is left out by ``pg_dump`` of a single table, whereas a bytea row is an
ordinary row: transactional, deleted with its row, dumped and replicated with the rest.
The column is stored out of line without compression (``SET STORAGE EXTERNAL``, migration
0002): PDFs and .docx files are compressed already.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from workflow.db import transaction
from workflow.models import BlobContent
from workflow.storage.blobs import BlobCorrupted, record_file, sha256_hex


class DatabaseBlobStore:
    """Stored files as rows of ``blob_contents`` (see the module docstring)."""

    def __init__(self, read_sessions: sessionmaker[Session]) -> None:
        self._read_sessions = read_sessions

    def store(self, session: Session, data: bytes, media_type: str) -> str:
        digest = sha256_hex(data)
        record_file(session, digest, len(data), media_type)
        insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
        session.execute(
            insert(BlobContent)
            .values(sha256=digest, content=data, created_at=datetime.now(UTC))
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
        return digest

    def get(self, sha256: str) -> bytes:
        with transaction(self._read_sessions) as session:
            data = session.scalar(select(BlobContent.content).where(BlobContent.sha256 == sha256))
        if data is None:
            raise FileNotFoundError(f"stored file {sha256} is not in the database")
        data = bytes(data)  # psycopg may hand back a memoryview
        if sha256_hex(data) != sha256:
            raise BlobCorrupted(f"stored file {sha256} does not match its hash")
        return data
