"""The audit chain's head anchored with TSA timestamps: a chain rewritten as a whole (every
hash recomputed, so the chain itself verifies) is caught by the anchors; so is a token
changed by one bit; without a TSA anchoring says why and changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from signatures import TrustSettings
from workflow import audit, outbox
from workflow.archive.anchors import anchor_head, verify_anchors
from workflow.cli.main import main
from workflow.config import Settings
from workflow.db import transaction
from workflow.errors import ErrorCode
from workflow.jobs.dispatch import JOB_OF
from workflow.jobs.handlers.anchors import anchor_after
from workflow.jobs.registry import import_handlers, spec_of
from workflow.models import AuditRecord, OutboxEntry
from workflow.models.audit import AuditAnchor
from workflow.runtime import Runtime, SigningEnvironment, build_runtime
from workflow.states import Action, Effect, Status, effects_of


def _append(rt: Runtime, n: int) -> None:
    with transaction(rt.sessions) as session:
        for i in range(n):
            audit.append(session, action="test.event", actor_id=None, actor="test",
                         payload={"i": i})  # fmt: skip


def _trust(rt: Runtime) -> TrustSettings:
    return rt.signing.trust


def _anchors(rt: Runtime) -> list[AuditAnchor]:
    with transaction(rt.read_sessions) as session:
        return list(session.scalars(select(AuditAnchor).order_by(AuditAnchor.id)))


def _rewrite_whole_chain(rt: Runtime, *, seq: int, actor: str) -> None:
    """What an intruder with write access to the database does: change one record, then
    recompute every hash after it and the head, with raw SQL, so the chain verifies."""
    with transaction(rt.sessions) as session:
        session.execute(
            text("UPDATE audit_records SET actor = :a WHERE seq = :s"), {"a": actor, "s": seq}
        )
        rows = session.execute(
            text(
                "SELECT seq, recorded_at, actor_id, actor, document_id, action, payload "
                "FROM audit_records ORDER BY seq"
            )
        ).all()
        prev = audit.GENESIS_HASH
        for row in rows:
            recorded_at = row.recorded_at
            if isinstance(recorded_at, str):  # SQLite returns text to raw SQL
                recorded_at = datetime.fromisoformat(recorded_at)
            if recorded_at.tzinfo is None:
                recorded_at = recorded_at.replace(tzinfo=UTC)
            digest = audit.record_hash(
                seq=row.seq, recorded_at=recorded_at, actor_id=row.actor_id, actor=row.actor,
                document_id=row.document_id, action=row.action, payload=row.payload,
                prev_hash=prev,
            )  # fmt: skip
            session.execute(
                text("UPDATE audit_records SET prev_hash = :p, hash = :h WHERE seq = :s"),
                {"p": prev, "h": digest, "s": row.seq},
            )
            prev = digest
        session.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """``estrategia`` pointed at the test's database; the demo PKI of ``rt`` as the
    installation's (ESTRATEGIA_VAR_DIR/pki)."""
    env = rt.signing
    assert env.demo_pki is not None
    pki_dir = rt.settings.var_dir / "pki"
    if not pki_dir.exists():
        pki_dir.symlink_to(env.demo_pki.directory, target_is_directory=True)
    monkeypatch.setenv("ESTRATEGIA_VAR_DIR", str(rt.settings.var_dir))
    monkeypatch.setenv("ESTRATEGIA_DATABASE_URL", rt.settings.storage.database_url)


def test_a_whole_chain_rewritten_is_caught_by_its_anchor(
    rt: Runtime, cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _append(rt, 5)
    outcome = anchor_head(rt)
    assert outcome.anchored and outcome.head_seq == 5
    assert outcome.timestamped_at is not None
    assert abs((outcome.timestamped_at - datetime.now(UTC)).total_seconds()) < 60
    _append(rt, 2)
    assert anchor_head(rt).anchored  # the new head: a second anchor
    with transaction(rt.read_sessions) as session:
        assert audit.verify(session).ok
        report = verify_anchors(session, _trust(rt))
    assert (report.ok, report.checked, report.newest_seq) == (True, 2, 7)
    assert main(["audit", "verify"]) == 0
    assert "anchors: 2 checked, all match; newest: record 7" in capsys.readouterr().out

    _rewrite_whole_chain(rt, seq=3, actor="intruz")

    with transaction(rt.read_sessions) as session:
        assert audit.verify(session).ok  # the chain alone cannot tell
        report = verify_anchors(session, _trust(rt))
    assert not report.ok
    assert {f.head_seq for f in report.failures} == {5, 7}
    assert all("the chain was rewritten" in " ".join(f.problems) for f in report.failures)
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "audit trail intact: 7 records" in out
    assert "anchors: 2 checked, 2 do NOT match" in out
    assert "audit trail REWRITTEN" in out


def test_an_anchor_row_edited_to_match_the_rewrite_fails_its_token(rt: Runtime) -> None:
    _append(rt, 3)
    assert anchor_head(rt).anchored
    _rewrite_whole_chain(rt, seq=1, actor="intruz")
    with transaction(rt.sessions) as session:
        new_head = session.scalar(select(AuditRecord.hash).where(AuditRecord.seq == 3))
        session.execute(text("UPDATE audit_anchors SET head_hash = :h"), {"h": new_head})
    with transaction(rt.read_sessions) as session:
        report = verify_anchors(session, _trust(rt))
    (finding,) = report.failures
    assert finding.problems == (
        "timestamp token: the token names another digest than the one expected",
    )


def test_a_token_changed_by_one_bit_is_caught(rt: Runtime) -> None:
    _append(rt, 2)
    assert anchor_head(rt).anchored
    (anchor,) = _anchors(rt)
    token = bytearray(anchor.token)
    token[-20] ^= 0x01  # inside the TSA's signature value
    with transaction(rt.sessions) as session:
        session.execute(text("UPDATE audit_anchors SET token = :t"), {"t": bytes(token)})
    with transaction(rt.read_sessions) as session:
        report = verify_anchors(session, _trust(rt))
    (finding,) = report.failures
    assert "timestamp token: the TSA's signature over the token is broken" in finding.problems
    assert not any("rewritten" in p for p in finding.problems)  # the chain itself is fine


def test_a_token_of_a_tsa_not_trusted_is_caught(rt: Runtime) -> None:
    _append(rt, 1)
    assert anchor_head(rt).anchored
    env = rt.signing
    assert env.demo_pki is not None
    # A production installation that names only the root (no TSA anchor): still checked.
    root_trust = TrustSettings(trust_roots=(env.demo_pki.root_cert,))
    with transaction(rt.read_sessions) as session:
        assert verify_anchors(session, root_trust).ok
    root_only = TrustSettings(trust_roots=(env.demo_pki.intermediate_cert,))
    with transaction(rt.read_sessions) as session:
        report = verify_anchors(session, root_only)
    (finding,) = report.failures
    assert any("not trusted" in p for p in finding.problems)


def test_anchoring_twice_anchors_once_and_an_empty_chain_not_at_all(rt: Runtime) -> None:
    empty = anchor_head(rt)
    assert (empty.anchored, empty.skipped) == (False, ErrorCode.AUDIT_CHAIN_EMPTY)
    _append(rt, 1)
    assert anchor_head(rt).anchored
    again = anchor_head(rt)
    assert (again.anchored, again.skipped) == (False, ErrorCode.AUDIT_HEAD_ANCHORED)
    assert again.message("pl") == "Najnowszy wpis dziennika zdarzeń (1) ma już swój znacznik czasu."
    assert len(_anchors(rt)) == 1


def test_without_a_tsa_anchoring_says_so_and_stores_nothing(
    settings: Settings, signing_env: SigningEnvironment, rt: Runtime,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    no_tsa = SigningEnvironment(trust=signing_env.trust, services=None, level=signing_env.level)
    plain = build_runtime(settings, converter=rt.converter, signing=no_tsa)
    try:
        _append(plain, 2)
        outcome = anchor_head(plain)
        assert (outcome.anchored, outcome.skipped) == (False, ErrorCode.AUDIT_ANCHOR_NO_TSA)
        assert "ESTRATEGIA_TSA_URL" in outcome.message("en")
        assert "nie został zakotwiczony" in outcome.message("pl")
        assert anchor_after(plain, None).skipped is ErrorCode.AUDIT_ANCHOR_NO_TSA  # the job ends
        assert _anchors(plain) == []
    finally:
        plain.close()
    # The command line, in production mode with no TSA URL: one line on stderr, exit 2.
    root = signing_env.demo_pki.cert_path("root") if signing_env.demo_pki else None
    monkeypatch.setenv("ESTRATEGIA_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("ESTRATEGIA_DATABASE_URL", settings.storage.database_url)
    monkeypatch.setenv("ESTRATEGIA_DEMO", "false")
    monkeypatch.setenv("ESTRATEGIA_TRUST_ROOTS", f'["{root}"]')
    monkeypatch.delenv("ESTRATEGIA_TSA_URL", raising=False)
    capsys.readouterr()
    assert main(["audit", "anchor"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ESTRATEGIA_TSA_URL" in err[0], err


def test_archiving_anchors_through_its_outbox_entry(rt: Runtime) -> None:
    assert Effect.ANCHOR_AUDIT in effects_of(Action.ARCHIVE, Status.ARCHIVED)
    assert JOB_OF[Effect.ANCHOR_AUDIT] == "audit.anchor"
    import_handlers()
    assert spec_of("audit.anchor").cron == "15 * * * *"  # and hourly, after audit.verify
    with transaction(rt.sessions) as session:
        audit.append(session, action="document.archive", actor_id=None, actor="archiwista")
        (entry,) = outbox.add(session, [Effect.ANCHOR_AUDIT], document_id=None)
        entry_id = entry.id
    outcome = anchor_after(rt, entry_id)
    assert outcome.anchored
    assert anchor_after(rt, entry_id).skipped is ErrorCode.AUDIT_HEAD_ANCHORED  # run twice
    (anchor,) = _anchors(rt)
    assert anchor.reason == "archive"
    with transaction(rt.read_sessions) as session:
        assert session.get(OutboxEntry, entry_id).completed_at is not None  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(AuditAnchor)) == 1


def test_the_hourly_check_reports_a_rewritten_chain(rt: Runtime, cli: None) -> None:
    from workflow.jobs.handlers.checks import verify_audit_chain

    _append(rt, 3)
    assert anchor_head(rt).anchored
    assert verify_audit_chain(rt).ok
    _rewrite_whole_chain(rt, seq=2, actor="intruz")
    assert verify_audit_chain(rt).ok  # the chain alone verifies...
    with transaction(rt.read_sessions) as session:
        last = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "audit.verified")
            .order_by(AuditRecord.seq.desc())
        ).first()
    assert last is not None
    payload = json.loads(last.payload)
    assert payload["ok"] is False and payload["anchors_checked"] == 1  # ...its anchor does not
    assert len(payload["anchors_failed"]) == 1
