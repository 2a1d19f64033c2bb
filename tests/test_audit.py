"""The hash chain: intact, then changed, removed, reordered or cut short in the database."""

from __future__ import annotations

from sqlalchemy import delete, update

from workflow import audit
from workflow.cli.main import main
from workflow.db import transaction
from workflow.models import AuditRecord
from workflow.runtime import Runtime


def _append(rt: Runtime, n: int) -> None:
    for i in range(n):
        with transaction(rt.sessions) as s:
            audit.append(
                s, action="test.step", actor_id=None, actor="system",
                payload={"i": i, "text": "zażółć gęślą jaźń"},
            )  # fmt: skip


def _verify(rt: Runtime) -> audit.ChainReport:
    with transaction(rt.sessions) as s:
        return audit.verify(s)


def test_an_intact_chain_verifies(rt: Runtime) -> None:
    _append(rt, 5)
    report = _verify(rt)
    assert report.ok and report.checked == 5 and report.first_bad_seq is None


def test_a_changed_record_is_named(rt: Runtime) -> None:
    _append(rt, 5)
    with transaction(rt.sessions) as s:
        s.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(payload='{"i":99}'))
    report = _verify(rt)
    assert not report.ok and report.first_bad_seq == 3 and "changed" in (report.problem or "")


def test_a_removed_record_is_named(rt: Runtime) -> None:
    _append(rt, 5)
    with transaction(rt.sessions) as s:
        s.execute(delete(AuditRecord).where(AuditRecord.seq == 2))
    report = _verify(rt)
    assert not report.ok and report.first_bad_seq == 2


def test_reordered_records_are_noticed(rt: Runtime) -> None:
    _append(rt, 4)
    with transaction(rt.sessions) as s:
        # Swap the contents of records 2 and 3 but keep their sequence numbers.
        r2, r3 = (s.get(AuditRecord, n) for n in (2, 3))
        assert r2 is not None and r3 is not None
        fields = ("recorded_at", "payload", "prev_hash", "hash")
        v2 = {f: getattr(r2, f) for f in fields}
        v3 = {f: getattr(r3, f) for f in fields}
        for f in ("prev_hash", "hash"):  # unique columns: move one out of the way first
            setattr(r2, f, "x" * 64)
        s.flush()
        for f in fields:
            setattr(r3, f, v2[f])
        s.flush()
        for f in fields:
            setattr(r2, f, v3[f])
    report = _verify(rt)
    assert not report.ok and report.first_bad_seq == 2


def test_a_removed_tail_is_noticed(rt: Runtime) -> None:
    _append(rt, 4)
    with transaction(rt.sessions) as s:
        s.execute(delete(AuditRecord).where(AuditRecord.seq == 4))
    report = _verify(rt)
    assert not report.ok and report.first_bad_seq == 4
    assert "removed" in (report.problem or "")


def test_cli_exit_codes(rt: Runtime, monkeypatch: object, capsys: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    _append(rt, 3)
    monkeypatch.setenv("ESTRATEGIA_VAR_DIR", str(rt.settings.var_dir))
    monkeypatch.setenv("ESTRATEGIA_DATABASE_URL", rt.settings.storage.database_url)
    assert main(["audit", "verify"]) == 0
    with transaction(rt.sessions) as s:
        s.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(actor="intruz"))
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "BROKEN at record 2: record 2 was changed" in out
