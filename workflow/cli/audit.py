"""``estrategia audit verify`` and ``estrategia audit anchor``: the hash chain and the TSA
timestamps that anchor its head (``workflow.audit``, ``workflow.archive.anchors``)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from workflow.cli.output import Exit
from workflow.config import Settings

if TYPE_CHECKING:
    from workflow.archive.anchors import AnchorsReport
    from workflow.runtime import SigningFactory

__all__ = ["run_anchor", "run_verify"]


def run_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Walk the chain, then check every anchor against the installation's timestamp
    anchors. Exit 0 intact, 1 broken or rewritten (an anchor does not match)."""
    from workflow import audit
    from workflow.archive.anchors import verify_anchors
    from workflow.db import make_engine, make_read_session_factory, transaction
    from workflow.migrate import require_migrated
    from workflow.signing.verification import installed_trust

    require_migrated(settings)
    trust = installed_trust(settings)
    engine = make_engine(settings)
    try:
        with transaction(make_read_session_factory(engine)) as session:
            report = audit.verify(session)
            anchors = verify_anchors(session, trust)
    finally:
        engine.dispose()
    if report.ok:
        print(f"audit trail intact: {report.checked} records, head {report.head}")
    else:
        print(f"audit trail BROKEN at record {report.first_bad_seq}: {report.problem}")
    _print_anchors(anchors)
    if report.ok and not anchors.ok:
        print("audit trail REWRITTEN: its hashes agree with each other but not with the "
              "timestamps made earlier")  # fmt: skip
    return Exit.OK if report.ok and anchors.ok else Exit.CHECK_FAILED


def _print_anchors(anchors: AnchorsReport) -> None:
    if anchors.checked == 0:
        print("anchors: none yet (the audit.anchor job or `estrategia audit anchor` makes them)")
        return
    newest = anchors.newest_at.isoformat() if anchors.newest_at else "?"
    verdict = "all match" if anchors.ok else f"{len(anchors.failures)} do NOT match"
    print(f"anchors: {anchors.checked} checked, {verdict}; newest: record "
          f"{anchors.newest_seq}, timestamped {newest}")  # fmt: skip
    if not anchors.tokens_checked:
        print("  (timestamp tokens not checked: this installation has no trust anchors; "
              "only the hashes they name were compared)")  # fmt: skip
    for finding in anchors.failures:
        for problem in finding.problems:
            print(f"  anchor {finding.anchor_id} (record {finding.head_seq}, "
                  f"{finding.timestamped_at.isoformat()}): {problem}")  # fmt: skip


def run_anchor(settings: Settings, args: argparse.Namespace, factory: SigningFactory) -> int:
    """Timestamp the chain's head now. Exit 0 anchored or nothing to do, 2 no TSA
    configured, 3 the TSA did not answer (raised to the CLI's error handling)."""
    from workflow.archive.anchors import anchor_head
    from workflow.cli.output import cli_language
    from workflow.errors import ErrorCode
    from workflow.migrate import require_migrated
    from workflow.runtime import build_runtime

    require_migrated(settings)
    rt = build_runtime(settings, signing_factory=factory)
    try:
        outcome = anchor_head(rt, reason="manual")
    finally:
        rt.close()
    if outcome.anchored and outcome.timestamped_at is not None:
        print(f"audit head anchored: record {outcome.head_seq} ({outcome.head_hash}), "
              f"timestamped {outcome.timestamped_at.isoformat()}")  # fmt: skip
        return Exit.OK
    message = outcome.message(cli_language(args))
    if outcome.skipped is ErrorCode.AUDIT_ANCHOR_NO_TSA:
        print(f"error: {message}", file=sys.stderr)
        return Exit.REFUSED
    print(message)
    return Exit.OK
