"""A write-once file store keyed by SHA-256, and its filesystem backend.

The interface (``BlobStore``) is two calls: ``store_file(session, blobs, data, media_type)``
records a file in the caller's transaction and returns its sha256; ``blobs.get(sha256)``
returns the bytes, checked against the hash (``BlobCorrupted`` if they differ: a changed
file is reported, never served). Two backends, chosen by ``ESTRATEGIA_BLOB_BACKEND``:

- ``filesystem`` (the default, ``FileBlobStore``): a folder under ``var_dir``; described
  below.
- ``database`` (``storage.database.DatabaseBlobStore``): the bytes in ``blob_contents``,
  committed together with their ``stored_files`` row; several app servers need no shared
  disk.

The filesystem backend: a file lives at ``<root>/<sha[:2]>/<sha[2:]>``, and a file under
that final name always has its row in ``stored_files``: it becomes visible only after the
transaction that records it has committed. The protocol, in the caller's transaction
(``store_file``):

1. insert the row (ON CONFLICT DO NOTHING);
2. write the bytes to a *pending* name in the same folder,
   ``.pending.<sha[2:]>.<random>``, fsync the file and the folder;
3. on commit, link the pending file to its final name (never overwriting: a file already
   there is the same bytes) and unlink the pending name; on rollback, unlink it.

A crash before the commit leaves a pending file without a row: ``gc`` removes it once it
is older than its age threshold. A crash between the commit and the rename leaves a row
whose file is still pending: ``get`` finds the pending file (checked against its hash), and
``gc`` finishes the rename, so a committed row never loses its file. ``get`` itself does
not rename: it cannot tell a committed row from one still in the caller's transaction.

The store and every folder in it are mode 0700, its files 0400, whatever the umask.
Reads check the hash.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workflow.config import private_dir
from workflow.db import on_commit, on_rollback
from workflow.models import StoredFile

BLOB_FILE_MODE = 0o400
PENDING_PREFIX = ".pending."
LEGACY_TEMPORARY_PREFIX = ".incoming-"
"""Temporary names of versions before the pending protocol; only ``gc`` still meets them."""

_FINAL = re.compile(r"[0-9a-f]{62}")
_PENDING = re.compile(re.escape(PENDING_PREFIX) + r"([0-9a-f]{62})\.")


class BlobCorrupted(Exception):
    """A stored file no longer matches its name: the store was tampered with or damaged."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore(Protocol):
    """The write-once interface every backend offers (see the module docstring)."""

    def store(self, session: Session, data: bytes, media_type: str) -> str:
        """Record ``data`` in the caller's transaction; visible once it commits."""
        ...

    def get(self, sha256: str) -> bytes:
        """The committed bytes of ``sha256``, checked; ``BlobCorrupted`` if they changed,
        ``FileNotFoundError`` if there are none."""
        ...


def record_file(session: Session, sha256: str, size: int, media_type: str) -> None:
    """The ``stored_files`` row, inserted with ON CONFLICT DO NOTHING (SQLite and
    PostgreSQL alike): two transactions storing the same bytes at once both succeed."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    session.execute(
        insert(StoredFile)
        .values(sha256=sha256, size=size, media_type=media_type, created_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=["sha256"])
    )


@dataclass(frozen=True)
class PendingBlob:
    """Bytes written and flushed under a pending name, not yet visible under their own."""

    sha256: str
    path: Path


@dataclass(frozen=True)
class StoreEntry:
    """One file met while walking the store (see ``BlobStore.entries``)."""

    path: Path
    kind: str
    """"final", "pending" or "temporary" (a leftover of the previous protocol)."""
    sha256: str | None
    """For final and pending files: the hash their name claims."""
    modified_at: datetime


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileBlobStore:
    """The filesystem backend (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def stage(self, data: bytes) -> PendingBlob:
        """Write ``data`` under a pending name, durably; see the module docstring."""
        digest = sha256_hex(data)
        folder = self._path(digest).parent
        private_dir(self.root)
        private_dir(folder)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{PENDING_PREFIX}{digest[2:]}.")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fchmod(out.fileno(), BLOB_FILE_MODE)
                os.fsync(out.fileno())
            _fsync_dir(folder)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return PendingBlob(digest, Path(tmp))

    def promote(self, pending: PendingBlob) -> None:
        """Make a pending file visible under its final name (its row has committed)."""
        final = self._path(pending.sha256)
        try:
            os.link(pending.path, final)
        except FileExistsError:
            pass  # write-once: the same bytes are already there
        except FileNotFoundError:
            if not final.exists():  # gc promoted it meanwhile, or it is lost
                raise
            return
        pending.path.unlink(missing_ok=True)
        _fsync_dir(final.parent)

    def discard(self, pending: PendingBlob) -> None:
        """Remove a pending file whose transaction did not commit."""
        pending.path.unlink(missing_ok=True)

    def pending_files(self, sha256: str) -> list[Path]:
        """The pending files claiming to hold ``sha256`` (complete or not)."""
        folder = self._path(sha256).parent
        try:
            return sorted(folder.glob(f"{PENDING_PREFIX}{sha256[2:]}.*"))
        except FileNotFoundError:
            return []

    def complete_pending(self, sha256: str) -> PendingBlob | None:
        """A pending file that holds exactly the bytes of ``sha256``, if there is one."""
        for path in self.pending_files(sha256):
            try:
                if sha256_hex(path.read_bytes()) == sha256:
                    return PendingBlob(sha256, path)
            except FileNotFoundError:  # promoted or discarded meanwhile
                continue
        return None

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            pending = self.complete_pending(sha256)
            # None: promoted between the two looks, or missing (FileNotFoundError)
            data = (pending.path if pending else path).read_bytes()
        if sha256_hex(data) != sha256:
            raise BlobCorrupted(f"stored file {sha256} does not match its hash")
        return data

    def exists(self, sha256: str) -> bool:
        return self.has_final(sha256) or self.complete_pending(sha256) is not None

    def has_final(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def entries(self) -> Iterator[StoreEntry]:
        """Every file in the store's folders, final, pending or temporary. Names the store
        did not make are not listed."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if not (folder.is_dir() and re.fullmatch(r"[0-9a-f]{2}", folder.name)):
                continue
            for path in sorted(folder.iterdir()):
                try:
                    modified = datetime.fromtimestamp(path.lstat().st_mtime, UTC)
                except FileNotFoundError:
                    continue
                name = path.name
                if _FINAL.fullmatch(name):
                    yield StoreEntry(path, "final", folder.name + name, modified)
                elif match := _PENDING.match(name):
                    yield StoreEntry(path, "pending", folder.name + match[1], modified)
                elif name.startswith(LEGACY_TEMPORARY_PREFIX):
                    yield StoreEntry(path, "temporary", None, modified)

    def store(self, session: Session, data: bytes, media_type: str) -> str:
        """The row comes first: until the caller's transaction ends it holds the key
        against ``gc`` (which claims a key by inserting it), so a file already under its
        final name can be kept as it is."""
        digest = sha256_hex(data)
        record_file(session, digest, len(data), media_type)
        if self.has_final(digest):
            return digest
        pending = self.stage(data)
        try:
            on_rollback(session, lambda: self.discard(pending))
            on_commit(session, lambda: self.promote(pending))
        except BaseException:
            self.discard(pending)
            raise
        return digest


def store_file(session: Session, blobs: BlobStore, data: bytes, media_type: str) -> str:
    """Put a file in the store, recorded in the caller's transaction: it can be read once
    that transaction commits, and leaves nothing if it rolls back. Returns its sha256."""
    return blobs.store(session, data, media_type)
