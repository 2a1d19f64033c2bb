"""The hash-chained audit trail.

Each record's hash is the SHA-256 of the canonical JSON of its fields (sequence number,
time, actor, document, action, payload) together with the previous record's hash, so a
record changed, removed or moved breaks the chain from that point on. The single
``audit_head`` row names the newest link: appends lock it (the chain never forks under
concurrent writers) and verification compares it with the last record (a removed tail is
noticed). Anchor ``head`` outside the database (print it, timestamp it) to make even a
rewrite of the whole chain detectable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import AuditHead, AuditRecord

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(
    *,
    seq: int,
    recorded_at: datetime,
    actor_id: int | None,
    actor: str,
    document_id: int | None,
    action: str,
    payload: str,
    prev_hash: str,
) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "recorded_at": recorded_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor": actor,
            "document_id": document_id,
            "action": action,
            "payload": payload,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(
    session: Session,
    *,
    action: str,
    actor_id: int | None,
    actor: str,
    document_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """Append one record in the caller's transaction (it commits or rolls back with it)."""
    head = session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    recorded_at = datetime.now(UTC)
    payload_text = canonical_json(dict(payload or {}))
    seq = head.seq + 1
    digest = record_hash(
        seq=seq,
        recorded_at=recorded_at,
        actor_id=actor_id,
        actor=actor,
        document_id=document_id,
        action=action,
        payload=payload_text,
        prev_hash=head.hash,
    )
    record = AuditRecord(
        seq=seq,
        recorded_at=recorded_at,
        actor_id=actor_id,
        actor=actor,
        document_id=document_id,
        action=action,
        payload=payload_text,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(record)
    head.seq = seq
    head.hash = digest
    session.flush()
    return record


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head: str
    first_bad_seq: int | None = None
    problem: str | None = None


def _records(session: Session, up_to: int) -> Iterator[AuditRecord]:
    yield from session.scalars(
        select(AuditRecord)
        .where(AuditRecord.seq <= up_to)
        .order_by(AuditRecord.seq)
        .execution_options(yield_per=1000)
    )


def verify(session: Session) -> ChainReport:
    """Walk the chain up to the head read first; report the first record that breaks it.

    The head is read before the walk, so records appended meanwhile (at READ COMMITTED
    each statement sees newer commits) are neither checked nor mistaken for tampering.
    """
    head = session.get(AuditHead, 1)
    if head is None:
        return ChainReport(False, 0, GENESIS_HASH, None, "the audit head row is missing")
    head_seq, head_hash = head.seq, head.hash
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for rec in _records(session, head_seq):
        if rec.seq != expected_seq:
            return ChainReport(
                False, checked, prev_hash, expected_seq,
                f"record {expected_seq} is missing (the next record is {rec.seq})",
            )  # fmt: skip
        if rec.prev_hash != prev_hash:
            return ChainReport(
                False, checked, prev_hash, rec.seq,
                f"record {rec.seq} does not follow record {rec.seq - 1} "
                "(a record was removed, replaced or reordered)",
            )  # fmt: skip
        recomputed = record_hash(
            seq=rec.seq,
            recorded_at=rec.recorded_at,
            actor_id=rec.actor_id,
            actor=rec.actor,
            document_id=rec.document_id,
            action=rec.action,
            payload=rec.payload,
            prev_hash=rec.prev_hash,
        )
        if recomputed != rec.hash:
            return ChainReport(False, checked, prev_hash, rec.seq, f"record {rec.seq} was changed")
        prev_hash = rec.hash
        expected_seq += 1
        checked += 1
    if checked != head_seq or prev_hash != head_hash:
        return ChainReport(
            False, checked, prev_hash, checked + 1,
            f"the chain ends at record {checked} but the head names record {head_seq}: "
            "records at the end were removed",
        )  # fmt: skip
    return ChainReport(True, checked, prev_hash)


def export(session: Session, *, document_id: int | None = None) -> list[dict[str, Any]]:
    """Records as plain data (for JSON export and the API), oldest first."""
    query = select(AuditRecord).order_by(AuditRecord.seq)
    if document_id is not None:
        query = query.where(AuditRecord.document_id == document_id)
    return [
        {
            "seq": r.seq,
            "recorded_at": r.recorded_at.isoformat(),
            "actor_id": r.actor_id,
            "actor": r.actor,
            "document_id": r.document_id,
            "action": r.action,
            "payload": json.loads(r.payload),
            "prev_hash": r.prev_hash,
            "hash": r.hash,
        }
        for r in session.scalars(query)
    ]
