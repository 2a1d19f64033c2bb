"""The results of the scheduled checks (audit chain, archive timestamps, blob store), for
the administrators of e-Izba."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from workflow.jobs.handlers.checks import latest_checks
from workflow.web.deps import CurrentActor, RuntimeDep
from workflow.web.schemas import Outgoing, Timestamp

router = APIRouter(prefix="/admin", tags=["admin"])


class CheckOut(Outgoing):
    check: str
    """``audit.verified``, ``timestamps.renewed`` or ``storage.gc``: the audit action."""
    seq: int
    """The audit record holding the result."""
    recorded_at: Timestamp
    result: dict[str, Any]


@router.get("/checks", response_model=list[CheckOut])
def checks(actor: CurrentActor, rt: RuntimeDep) -> list[CheckOut]:
    """The newest result of each scheduled check; a check that has not run yet is absent."""
    return [CheckOut.of(r) for r in latest_checks(rt, actor=actor)]
