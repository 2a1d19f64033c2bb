"""The audit chain's head, anchored in time outside the database.

The hash chain (``workflow.audit``) detects a record changed, removed or moved, but not a
chain rewritten as a whole: whoever can write to the database can recompute every hash.
So, on a schedule (the ``audit.anchor`` job) and after every archiving (the
``ANCHOR_AUDIT`` effect), :func:`anchor_head` asks the installation's TSA for an RFC 3161
timestamp over the hash of the newest record, and keeps the token (``AuditAnchor``).
:func:`verify_anchors` then checks every anchor: the token is intact, signed by a TSA the
installation trusts for timestamps (at the token's own time), names exactly the hash its
row names, and the chain still has that hash at that position. A rewritten chain fails the
last check; a row edited to match it fails the token's imprint; a back-dated token cannot
be made without the TSA's key.

What it does not catch alone: anchors deleted together with a rewrite. ``audit verify``
prints the number of anchors and the newest one's time, so a chain that lost its anchors
reads differently from one that never had any; keep the printed line (or the exported
tokens) outside the installation for that.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import pem
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from signatures import TimestampUnavailable, TrustSettings
from signatures.tokens import check_timestamp_token, timestamp_digest, token_certificates
from workflow.db import transaction
from workflow.errors import ErrorCode
from workflow.i18n import render_message
from workflow.models import AuditHead, AuditRecord
from workflow.models.audit import AuditAnchor
from workflow.runtime import Runtime

__all__ = [
    "AnchorFinding",
    "AnchorOutcome",
    "AnchorsReport",
    "anchor_head",
    "verify_anchors",
]

log = logging.getLogger(__name__)

REASONS = ("schedule", "archive", "manual")


@dataclass(frozen=True)
class AnchorOutcome:
    """What :func:`anchor_head` did."""

    anchored: bool
    """A new anchor was stored."""
    head_seq: int
    head_hash: str
    timestamped_at: datetime | None = None
    """The TSA's time, when ``anchored``."""
    skipped: ErrorCode | None = None
    """Why nothing was stored: the chain is empty, its head is anchored already, or no
    TSA is configured (then the operator must act; the others are normal)."""

    def message(self, lang: str = "pl") -> str:
        """Why nothing was stored, in ``lang`` ("" when an anchor was stored)."""
        if self.skipped is None:
            return ""
        return render_message(self.skipped, {"seq": self.head_seq}, lang)


def _head(rt: Runtime) -> tuple[int, str, int | None]:
    """The head's (seq, hash) and the newest anchored seq (None: no anchor yet)."""
    with transaction(rt.read_sessions) as session:
        head = session.get(AuditHead, 1)
        newest = session.scalar(select(func.max(AuditAnchor.head_seq)))
        if head is None:
            return 0, "", newest
        return head.seq, head.hash, newest


def anchor_head(rt: Runtime, *, reason: str = "schedule") -> AnchorOutcome:
    """Timestamp the current head of the audit chain with the configured TSA and store
    the token. Nothing to do (empty chain, head already anchored): says so. No TSA
    configured: says so (``skipped=AUDIT_ANCHOR_NO_TSA``); the caller warns.

    :raises TimestampUnavailable: the TSA did not answer (the job retries later).
    """
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {REASONS}")
    seq, digest, newest = _head(rt)
    if seq == 0:
        return AnchorOutcome(False, 0, digest, skipped=ErrorCode.AUDIT_CHAIN_EMPTY)
    if newest is not None and newest >= seq:
        return AnchorOutcome(False, seq, digest, skipped=ErrorCode.AUDIT_HEAD_ANCHORED)
    services = rt.signing.services
    if services is None or not services.tsa_url:
        return AnchorOutcome(False, seq, digest, skipped=ErrorCode.AUDIT_ANCHOR_NO_TSA)
    token = timestamp_digest(bytes.fromhex(digest), services=services)
    check = check_timestamp_token(token, bytes.fromhex(digest), trust=rt.signing.trust)
    if check.time is None:  # the TSA answered with something that is not a token
        raise TimestampUnavailable(f"the TSA's answer is not a token: {check.problems}")
    certs = "".join(
        pem.armor("CERTIFICATE", c.dump()).decode("ascii") for c in token_certificates(token)
    )
    with transaction(rt.sessions) as session:
        session.add(
            AuditAnchor(
                head_seq=seq,
                head_hash=digest,
                token=token,
                tsa_certificates=certs,
                timestamped_at=check.time.astimezone(UTC),
                reason=reason,
                created_at=datetime.now(UTC),
            )
        )
    log.info("audit head %s anchored at %s (%s)", seq, check.time.isoformat(), reason)
    return AnchorOutcome(True, seq, digest, timestamped_at=check.time)


@dataclass(frozen=True)
class AnchorFinding:
    """One anchor that does not hold, and why (English, one line each)."""

    anchor_id: int
    head_seq: int
    timestamped_at: datetime
    problems: tuple[str, ...]


@dataclass(frozen=True)
class AnchorsReport:
    checked: int
    failures: tuple[AnchorFinding, ...]
    newest_seq: int | None
    newest_at: datetime | None
    tokens_checked: bool = True
    """False when no trust was given: only the hashes the anchors name were compared."""

    @property
    def ok(self) -> bool:
        return not self.failures


def _token_problems(anchor: AuditAnchor, trust: TrustSettings) -> list[str]:
    try:
        digest = bytes.fromhex(anchor.head_hash)
    except ValueError:
        digest = b""
    token = check_timestamp_token(anchor.token, digest, trust=trust)
    problems = [f"timestamp token: {p}" for p in token.problems]
    if token.time is not None and abs((token.time - anchor.timestamped_at).total_seconds()) > 1:
        problems.append(f"the row's time differs from the token's ({token.time.isoformat()})")
    return problems


def _check_one(
    anchor: AuditAnchor, record_hash: str | None, trust: TrustSettings | None
) -> AnchorFinding | None:
    problems = _token_problems(anchor, trust) if trust is not None else []
    if record_hash is None:
        problems.append(f"audit record {anchor.head_seq} no longer exists")
    elif record_hash != anchor.head_hash:
        problems.append(
            f"audit record {anchor.head_seq} has another hash than the one timestamped "
            f"on {anchor.timestamped_at.isoformat()}: the chain was rewritten"
        )
    if not problems:
        return None
    return AnchorFinding(anchor.id, anchor.head_seq, anchor.timestamped_at, tuple(problems))


def verify_anchors(session: Session, trust: TrustSettings | None) -> AnchorsReport:
    """Check every anchor against ``trust`` (its timestamp anchors) and the chain as it is
    now; oldest first. Reads only. ``trust=None`` (an installation without trust anchors):
    only the hashes the anchors name are compared with the chain."""
    failures: list[AnchorFinding] = []
    checked = 0
    newest: AuditAnchor | None = None
    rows = session.execute(
        select(AuditAnchor, AuditRecord.hash)
        .outerjoin(AuditRecord, AuditRecord.seq == AuditAnchor.head_seq)
        .order_by(AuditAnchor.id)
        .execution_options(yield_per=500)
    )
    for anchor, record_hash in rows:
        finding = _check_one(anchor, record_hash, trust)
        if finding is not None:
            failures.append(finding)
        checked += 1
        if newest is None or anchor.head_seq >= newest.head_seq:
            newest = anchor
    return AnchorsReport(
        checked=checked,
        failures=tuple(failures),
        newest_seq=newest.head_seq if newest else None,
        newest_at=newest.timestamped_at if newest else None,
        tokens_checked=trust is not None,
    )
