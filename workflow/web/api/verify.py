"""Validation for everyone: no login needed to check a signed PDF."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from workflow.signing.verification import verify_pdf
from workflow.web.deps import RuntimeDep
from workflow.web.uploads import PDF_BODY_OPENAPI, PdfBodyDep

router = APIRouter(tags=["verify"])


@router.post("/verify", openapi_extra=PDF_BODY_OPENAPI)
def verify(pdf: PdfBodyDep, rt: RuntimeDep) -> dict[str, Any]:
    """Every signature and document timestamp: signer, chain and trust, integrity, what it
    covers, changes after signing, timestamp, revocation, PAdES level; ``valid`` is true
    only when every one passes both the AdES checks and the modification analysis."""
    return verify_pdf(rt, pdf).to_dict()
