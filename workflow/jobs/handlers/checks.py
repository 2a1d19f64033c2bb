"""Scheduled checks: the audit chain, archive timestamps, the blob store.

Each runs on its schedule as a job (``@job(cron=...)``; ``settings.jobs.schedules``
changes a schedule by job name, ``""`` turns it off) and leaves its result in the audit
trail, where :func:`latest_checks` finds it for the administrators of e-Izba
(``GET /api/v1/admin/checks``):

- ``audit.verify`` (hourly) -> ``audit.verified`` {ok, checked, head, first_bad_seq, problem,
  anchors_checked, anchors_failed}: the chain and the TSA anchors of its head;
- ``timestamps.renew`` (daily at 02:00 UTC) -> ``timestamps.renewed`` {renewed, blocked,
  blocked_documents, error}; each renewal also has its own ``document.timestamp_renewed``;
- ``blobs.gc`` (daily at 03:30 UTC) -> ``storage.gc`` (written by ``collect_garbage`` when
  it changed something);
- ``archive.verify`` (Sundays at 04:00 UTC) -> ``archive.verified`` {ok, checked, problems,
  ...}: what ``estrategia archive verify`` does, each problem with its record.

Running one twice only adds a second result: nothing else is done twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from workflow import audit
from workflow.archive.anchors import verify_anchors
from workflow.archive.verify import VerifyReport, verify_archive
from workflow.db import transaction
from workflow.errors import ErrorCode, NotPermitted
from workflow.identity.actors import Actor
from workflow.jobs.registry import JobContext, job
from workflow.models import AuditRecord
from workflow.runtime import Runtime
from workflow.signing.renewal import renew_due_timestamps
from workflow.signing.verification import installed_trust
from workflow.states import Role
from workflow.storage.gc import collect_garbage

log = logging.getLogger(__name__)

AUDIT_VERIFIED = "audit.verified"
TIMESTAMPS_RENEWED = "timestamps.renewed"
STORAGE_GC = "storage.gc"
ARCHIVE_VERIFIED = "archive.verified"
CHECK_ACTIONS = (AUDIT_VERIFIED, TIMESTAMPS_RENEWED, STORAGE_GC, ARCHIVE_VERIFIED)
PROBLEMS_RECORDED = 100
"""The most problems one archive check writes into its audit record (the count is whole)."""


@job("audit.verify", retries=0, time_limit_s=3600, cron="0 * * * *")
def verify_audit_job(ctx: JobContext) -> None:
    verify_audit_chain(ctx.rt)


@job("timestamps.renew", retries=3, backoff_s=600.0, time_limit_s=3600, cron="0 2 * * *")
def renew_timestamps_job(ctx: JobContext) -> None:
    renew_timestamps(ctx.rt)


@job("blobs.gc", retries=1, backoff_s=600.0, time_limit_s=3600, cron="30 3 * * *")
def collect_garbage_job(ctx: JobContext) -> None:
    collect_garbage(ctx.rt)


@job("archive.verify", retries=0, time_limit_s=6 * 3600, cron="0 4 * * 0")
def verify_archive_job(ctx: JobContext) -> None:
    verify_archive_holdings(ctx.rt, progress=lambda done, total: ctx.progress(done, total))


def verify_archive_holdings(
    rt: Runtime, *, progress: Callable[[int, int], None] | None = None
) -> VerifyReport:
    """``estrategia archive verify`` on a schedule: every archived file re-hashed and its
    signatures re-validated offline, the audit chain walked; recorded as
    ``archive.verified`` {ok, checked, problems, problem_count, completed_files,
    finished_disposals}, each problem with its record."""
    report = verify_archive(rt, installed_trust(rt.settings), progress=progress)
    problems = [
        {"record_id": p.record_id, "document_id": p.document_id, "kind": p.kind,
         "detail": p.detail}
        for p in report.problems[:PROBLEMS_RECORDED]
    ]  # fmt: skip
    _record(rt, ARCHIVE_VERIFIED, {
        "ok": report.ok, "checked": report.checked, "problems": problems,
        "problem_count": len(report.problems), "completed_files": len(report.completed_files),
        "finished_disposals": list(report.finished_disposals),
    })  # fmt: skip
    if not report.ok:
        log.error("archive check: %d problem(s) in %d record(s)", len(report.problems),
                  report.checked)  # fmt: skip
    return report


def verify_audit_chain(rt: Runtime) -> audit.ChainReport:
    """Walk the chain, check the TSA anchors of its head against it (so that a chain
    rewritten whole, hashes recomputed, is caught too) and record the result
    (``audit.verified``: ``ok`` only when both hold)."""
    with transaction(rt.read_sessions) as session:
        report = audit.verify(session)
        anchors = verify_anchors(session, installed_trust(rt.settings))
    failed = [f.anchor_id for f in anchors.failures]
    with transaction(rt.sessions) as session:
        audit.append(
            session,
            action=AUDIT_VERIFIED,
            actor_id=None,
            actor="system",
            payload={
                "ok": report.ok and anchors.ok,
                "checked": report.checked,
                "head": report.head,
                "first_bad_seq": report.first_bad_seq,
                "problem": report.problem,
                "anchors_checked": anchors.checked,
                "anchors_failed": failed,
            },
        )
    if not report.ok:
        log.error("audit chain broken at record %s: %s", report.first_bad_seq, report.problem)
    if failed:
        log.error("audit chain rewritten: anchors %s do not match it", failed)
    return report


def renew_timestamps(rt: Runtime) -> dict[str, Any]:
    """Renew what is due and record the counts (``timestamps.renewed``). A TSA that does not
    answer is recorded too, then raised, so that the job is retried later."""
    try:
        renewed, blocked = renew_due_timestamps(rt)
    except Exception as exc:
        _record(rt, TIMESTAMPS_RENEWED, {"renewed": 0, "blocked": 0, "error": str(exc)})
        raise
    result: dict[str, Any] = {
        "renewed": len(renewed),
        "blocked": len(blocked),
        "blocked_documents": [b.reference for b in blocked],
        "error": None,
    }
    _record(rt, TIMESTAMPS_RENEWED, result)
    return result


def _record(rt: Runtime, action: str, payload: dict[str, Any]) -> None:
    with transaction(rt.sessions) as session:
        audit.append(session, action=action, actor_id=None, actor="system", payload=payload)


@dataclass(frozen=True)
class CheckResult:
    check: str
    """The audit action: ``audit.verified``, ``timestamps.renewed``, ``storage.gc``,
    ``archive.verified``."""
    seq: int
    recorded_at: datetime
    result: dict[str, Any]


def latest_checks(rt: Runtime, *, actor: Actor) -> list[CheckResult]:
    """The newest result of each scheduled check (none yet: absent). Administrators of an
    e-Izba office only."""
    if not actor.has_chamber_role(Role.ADMIN):
        raise NotPermitted(ErrorCode.CHECKS_NEED_CHAMBER_ADMIN)
    results = []
    with transaction(rt.read_sessions) as session:
        for action in CHECK_ACTIONS:
            record = session.scalars(
                select(AuditRecord)
                .where(AuditRecord.action == action)
                .order_by(AuditRecord.seq.desc())
                .limit(1)
            ).first()
            if record is not None:
                results.append(
                    CheckResult(action, record.seq, record.recorded_at, json.loads(record.payload))
                )
    return results
