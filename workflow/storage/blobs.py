"""A write-once file store keyed by SHA-256 (the embedded default of the archive).

A file is written to a temporary name in the same folder, flushed to disk and renamed, so a
reader never sees half a file; an existing file is never overwritten. Reads check the hash.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workflow.models import StoredFile


class BlobCorrupted(Exception):
    """A stored file no longer matches its name: the store was tampered with or damaged."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o444)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes:
        data = self._path(sha256).read_bytes()
        if sha256_hex(data) != sha256:
            raise BlobCorrupted(f"stored file {sha256} does not match its hash")
        return data

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()


def store_file(session: Session, blobs: BlobStore, data: bytes, media_type: str) -> str:
    """Put a file in the store and record it in the caller's transaction.

    Two transactions storing the same bytes at once both succeed: the row is inserted with
    ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike), not looked up first.
    """
    digest = blobs.put(data)
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    session.execute(
        insert(StoredFile)
        .values(sha256=digest, size=len(data), media_type=media_type, created_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    return digest
