"""Sweeping the blob store: finish what a crash interrupted, remove what nothing records.

``collect_garbage`` walks the store (see the protocol in ``storage.blobs``) and

- renames a pending file whose row has committed to its final name (a crash came between
  the commit and the rename), whatever its age;
- removes, once older than ``older_than`` (default one hour): pending files whose
  transaction never committed, pending copies of files already in place, temporary files of
  the previous protocol, and files under a final name that no row records.

A file is removed only while its key is *claimed*: gc inserts the row itself, in a
transaction that deletes it again before committing. A transaction recording the same
bytes at that moment waits for the claim (or gc waits for it, and then keeps the file), so
a committed row never loses its file. Everything done is audited, with counts
(``storage.gc``); a dry run changes nothing and records nothing.

With the database backend (``storage.database``) a file's row and its bytes commit
together or not at all, and a foreign key ties the bytes to their row: there is nothing a
crash can leave half-done and nothing unrecorded to remove, so gc walks nothing and reports
nothing changed (``GcReport.backend`` says which store it looked at).

Run by ``estrategia blobs gc``; a scheduled job will call the same function.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from workflow import audit
from workflow.db import transaction
from workflow.models import StoredFile
from workflow.storage.blobs import (
    BlobStore,
    FileBlobStore,
    PendingBlob,
    StoreEntry,
    sha256_hex,
)

DEFAULT_MIN_AGE = timedelta(hours=1)
_CHUNK = 500
_CLAIM_MEDIA_TYPE = "application/x-estrategia-gc-claim"


class StoreRuntime(Protocol):
    """What gc needs of a ``workflow.runtime.Runtime``."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...
    @property
    def read_sessions(self) -> sessionmaker[Session]: ...
    @property
    def blobs(self) -> BlobStore: ...


@dataclass(frozen=True)
class GcReport:
    dry_run: bool
    older_than: timedelta
    backend: str = "filesystem"
    """"filesystem" or "database" (which has nothing to sweep: see the module docstring)."""
    completed: tuple[str, ...] = ()
    """sha256 of pending files renamed to their final name (their row had committed)."""
    removed_temporary: tuple[Path, ...] = ()
    """Pending files without a row, redundant or broken ones, old temporary files."""
    removed_unrecorded: tuple[Path, ...] = ()
    """Files under a final name that no row records."""
    kept_recent: int = 0
    """Candidates younger than ``older_than``, left for a later run."""
    kept_recorded_meanwhile: int = 0
    """Candidates whose row was committed while gc ran."""

    @property
    def changed(self) -> bool:
        return bool(self.completed or self.removed_temporary or self.removed_unrecorded)


@dataclass
class _Plan:
    complete: dict[str, PendingBlob] = field(default_factory=dict)
    temporary: list[Path] = field(default_factory=list)
    unrecorded: dict[str, list[StoreEntry]] = field(default_factory=dict)
    kept_recent: int = 0


def collect_garbage(
    rt: StoreRuntime,
    *,
    older_than: timedelta = DEFAULT_MIN_AGE,
    dry_run: bool = False,
    now: datetime | None = None,
) -> GcReport:
    """See the module docstring."""
    if older_than < timedelta(0):
        raise ValueError("older_than must not be negative")
    if not isinstance(rt.blobs, FileBlobStore):
        return GcReport(dry_run=dry_run, older_than=older_than, backend="database")
    files = rt.blobs
    cutoff = (now or datetime.now(UTC)) - older_than
    entries = list(files.entries())
    with transaction(rt.read_sessions) as session:
        recorded = _recorded(session, {e.sha256 for e in entries if e.sha256})
    plan = _plan(files, entries, recorded, cutoff)
    if dry_run:
        return _would_do(plan, older_than)
    return _sweep(rt, files, plan, older_than)


def _would_do(plan: _Plan, older_than: timedelta) -> GcReport:
    """What a real run would do, doing nothing."""
    return GcReport(
        dry_run=True,
        older_than=older_than,
        completed=tuple(plan.complete),
        removed_temporary=tuple(plan.temporary)
        + tuple(e.path for es in plan.unrecorded.values() for e in es if e.kind == "pending"),
        removed_unrecorded=tuple(
            e.path for es in plan.unrecorded.values() for e in es if e.kind == "final"
        ),
        kept_recent=plan.kept_recent,
    )


def _sweep(rt: StoreRuntime, files: FileBlobStore, plan: _Plan, older_than: timedelta) -> GcReport:
    """Carry the plan out, claiming each unrecorded key first, and audit what changed."""
    temporary: list[Path] = []
    unrecorded: list[Path] = []
    with transaction(rt.sessions) as session:
        claimed = _claim(session, list(plan.unrecorded))
        for sha in claimed:
            for e in plan.unrecorded[sha]:
                if _unlink(e.path):
                    (unrecorded if e.kind == "final" else temporary).append(e.path)
        _release(session, claimed)
        for path in plan.temporary:
            if _unlink(path):
                temporary.append(path)
        completed = [p.sha256 for p in plan.complete.values() if _promote(files, p)]
        report = GcReport(
            dry_run=False,
            older_than=older_than,
            completed=tuple(completed),
            removed_temporary=tuple(temporary),
            removed_unrecorded=tuple(unrecorded),
            kept_recent=plan.kept_recent,
            kept_recorded_meanwhile=len(plan.unrecorded) - len(claimed),
        )
        if report.changed:
            audit.append(
                session,
                action="storage.gc",
                actor_id=None,
                actor="system",
                payload={
                    "completed": len(report.completed),
                    "removed_temporary": len(report.removed_temporary),
                    "removed_unrecorded": len(report.removed_unrecorded),
                    "older_than_s": int(older_than.total_seconds()),
                },
            )
    return report


def _plan(
    blobs: FileBlobStore, entries: list[StoreEntry], recorded: set[str], cutoff: datetime
) -> _Plan:
    plan = _Plan()
    finals = {e.sha256 for e in entries if e.kind == "final"}
    for e in entries:
        old = e.modified_at <= cutoff
        if e.kind == "temporary" or e.sha256 is None:
            if old:
                plan.temporary.append(e.path)
            else:
                plan.kept_recent += 1
        elif e.sha256 not in recorded:
            if old:
                plan.unrecorded.setdefault(e.sha256, []).append(e)
            else:
                plan.kept_recent += 1
        elif e.kind == "pending":
            if e.sha256 not in finals and e.sha256 not in plan.complete and _complete(e):
                plan.complete[e.sha256] = PendingBlob(e.sha256, e.path)
            elif old:  # a copy of a file in place, or a broken one
                plan.temporary.append(e.path)
            else:
                plan.kept_recent += 1
    return plan


def _complete(entry: StoreEntry) -> bool:
    try:
        return sha256_hex(entry.path.read_bytes()) == entry.sha256
    except FileNotFoundError:
        return False


def _promote(blobs: FileBlobStore, pending: PendingBlob) -> bool:
    try:
        blobs.promote(pending)
    except FileNotFoundError:  # a copy its own transaction discarded meanwhile
        return False
    return True


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _recorded(session: Session, shas: set[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(sorted(shas)):
        found.update(session.scalars(select(StoredFile.sha256).where(StoredFile.sha256.in_(chunk))))
    return found


def _claim(session: Session, shas: list[str]) -> list[str]:
    """Insert rows for the keys no transaction holds; the inserted keys are gc's to remove."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    now = datetime.now(UTC)
    claimed: list[str] = []
    for chunk in _chunks(sorted(shas)):
        rows = [
            {"sha256": s, "size": -1, "media_type": _CLAIM_MEDIA_TYPE, "created_at": now}
            for s in chunk
        ]
        statement = (
            insert(StoredFile)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["sha256"])
            .returning(StoredFile.sha256)
        )
        claimed.extend(session.scalars(statement))
    return claimed


def _release(session: Session, claimed: list[str]) -> None:
    for chunk in _chunks(claimed):
        session.execute(delete(StoredFile).where(StoredFile.sha256.in_(chunk)))
