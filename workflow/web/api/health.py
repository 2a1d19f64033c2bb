"""Liveness: the process answers HTTP. No authentication."""

from __future__ import annotations

from fastapi import APIRouter

from workflow.web.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health()
