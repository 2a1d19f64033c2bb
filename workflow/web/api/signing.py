"""Signatures: each designated signatory, in order, on the PDF they have seen."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter

from workflow.errors import ErrorCode, InvalidInput
from workflow.signing.service import (
    begin_external_signature,
    complete_external_signature,
    sign_with_demo_key,
)
from workflow.signing.upload import accept_signed_pdf
from workflow.web.deps import CurrentActor, RuntimeDep
from workflow.web.schemas import (
    DocumentOut,
    ExternalSignIn,
    ExternalSigningOut,
    SignatureValueIn,
    SignIn,
)
from workflow.web.types import DbId
from workflow.web.uploads import PDF_BODY_OPENAPI, PdfBodyDep

router = APIRouter(prefix="/documents/{document_id}/signatures", tags=["signatures"])


@router.post("/demo-key", response_model=DocumentOut)
def sign_with_server_demo_key(
    document_id: DbId, body: SignIn, actor: CurrentActor, rt: RuntimeDep
) -> DocumentOut:
    """Demo mode only: sign with the caller's key from the demo PKI, held by the server."""
    view = sign_with_demo_key(
        rt, actor=actor, document_id=document_id, presented_pdf_sha256=body.pdf_sha256
    )
    return DocumentOut.of(view)


@router.post("/external", response_model=ExternalSigningOut, status_code=201)
def begin_external(
    document_id: DbId, body: ExternalSignIn, actor: CurrentActor, rt: RuntimeDep
) -> ExternalSigningOut:
    """Step 1 of signing with a key the server never sees (a card, a remote provider)."""
    view = begin_external_signature(
        rt,
        actor=actor,
        document_id=document_id,
        presented_pdf_sha256=body.pdf_sha256,
        certificate_chain=body.certificate_chain_pem.encode("ascii", "replace"),
    )
    return ExternalSigningOut.of(view)


@router.post("/external/{session_id}", response_model=DocumentOut)
def complete_external(
    document_id: DbId,
    session_id: DbId,
    body: SignatureValueIn,
    actor: CurrentActor,
    rt: RuntimeDep,
) -> DocumentOut:
    """Step 2: the signature value over ``digest_to_sign``; the server embeds it."""
    try:
        value = base64.b64decode(body.signature_value, validate=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: non-ASCII characters
        raise InvalidInput("signature_value", ErrorCode.NOT_BASE64) from exc
    view = complete_external_signature(
        rt, actor=actor, document_id=document_id, session_id=session_id, signature_value=value
    )
    return DocumentOut.of(view)


@router.post("/upload", openapi_extra=PDF_BODY_OPENAPI)
def upload_signed_pdf(
    document_id: DbId, pdf: PdfBodyDep, actor: CurrentActor, rt: RuntimeDep
) -> dict[str, Any]:
    """The PDF awaiting the caller's signature, signed elsewhere (any PAdES tool), as the
    body (``Content-Type: application/pdf``, at most the upload limit). Accepted only as
    the awaited bytes plus exactly one new, valid signature in the caller's field, made
    with the caller's certificate; otherwise 422 (``file``) or 409 with the reason, and
    nothing changes. Returns the document and the validation of the file as stored."""
    result = accept_signed_pdf(rt, actor=actor, document_id=document_id, pdf=pdf)
    return {
        "document": DocumentOut.of(result.document).model_dump(mode="json"),
        "validation": result.report.to_dict(),
        "extended": result.extended,
        "level": result.level,
    }
