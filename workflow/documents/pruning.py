"""Pruning what drafting in the browser leaves behind, which is neither evidence nor needed
forever (``documents.preview``):

- **previews** older than ``storage.preview_keep_days``: a cache keyed by what it was
  rendered from, so a preview asked for again is simply rendered again. Their page images
  lose their ``stored_files`` row unless a kept preview shows the same page; the daily
  ``blobs.gc`` then removes the unrecorded files (after its grace period), so a render
  finishing at the same moment never loses a file it just recorded.
- **working drafts** of documents that can no longer be edited (submitted, approved,
  signed, archived, withdrawn): autosave only keeps them while the person may edit, and a
  document sent back for changes starts from its newest version. A working draft of an
  editable document is the person's unsaved work and is kept, however old.
- **converter profiles** of processes that have ended: each process keeps its warm
  LibreOffice profile in ``<converter_dir>/warm/<pid>``; a folder whose process is gone is
  removed (a live process, even one that reused the number, keeps its folder).

Runs daily as the job ``documents.prune`` (``jobs.handlers.preview``); idempotent.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflow.db import transaction
from workflow.models import BlobContent, Document, PreviewRender, StoredFile, WorkingDraft
from workflow.runtime import Runtime
from workflow.states import Action, Status, actions_from

PREVIEW_MEDIA_TYPE: Final = "image/png"
_EDITABLE: Final = frozenset(s for s in Status if Action.EDIT in actions_from(s))
"""Statuses in which a document can be edited (where a working draft is still of use)."""


@dataclass(frozen=True)
class PruneReport:
    previews: int
    """Preview renders removed."""
    page_files: int
    """Page images no kept preview shows: their stored_files rows removed (gc takes the files)."""
    working_drafts: int
    converter_profiles: int = 0
    """Profile folders of ended processes removed."""


def prune_drafting(rt: Runtime, *, now: datetime | None = None) -> PruneReport:
    """Remove old previews and the working drafts of documents no longer editable."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=rt.settings.storage.preview_keep_days)
    with transaction(rt.sessions) as session:
        previews, files = _prune_previews(session, cutoff)
        drafts = _prune_working_drafts(session)
    profiles = prune_converter_profiles(rt.settings.converter_dir / "warm")
    return PruneReport(previews, files, drafts, profiles)


def _prune_previews(session: Session, cutoff: datetime) -> tuple[int, int]:
    old = session.execute(
        select(PreviewRender.id, PreviewRender.page_sha256s).where(
            PreviewRender.created_at < cutoff, PreviewRender.status != "pending"
        )
    ).all()
    if not old:
        return 0, 0
    session.execute(delete(PreviewRender).where(PreviewRender.id.in_([r.id for r in old])))
    pages = {sha for r in old for sha in (r.page_sha256s or [])}
    for kept in session.scalars(select(PreviewRender.page_sha256s)):
        pages.difference_update(kept or [])
    orphans = sorted(
        session.scalars(
            select(StoredFile.sha256).where(
                StoredFile.sha256.in_(pages), StoredFile.media_type == PREVIEW_MEDIA_TYPE
            )
        )
    )
    if orphans:
        session.execute(delete(BlobContent).where(BlobContent.sha256.in_(orphans)))
        session.execute(delete(StoredFile).where(StoredFile.sha256.in_(orphans)))
    return len(old), len(orphans)


def _prune_working_drafts(session: Session) -> int:
    stale = select(Document.id).where(Document.status.not_in(_EDITABLE))
    result = session.execute(delete(WorkingDraft).where(WorkingDraft.document_id.in_(stale)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def prune_converter_profiles(warm_dir: os.PathLike[str] | str) -> int:
    """Remove the warm-converter profile folders of processes that have ended."""
    removed = 0
    try:
        folders = list(os.scandir(warm_dir))
    except FileNotFoundError:
        return 0
    for entry in folders:
        if not entry.is_dir(follow_symlinks=False) or not entry.name.isdigit():
            continue
        if _alive(int(entry.name)):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
