"""Validation for everyone: any PDF, signed here or elsewhere, against our trust settings."""

from __future__ import annotations

from signatures import ValidationReport, validate_pdf
from workflow.errors import InvalidInput
from workflow.runtime import Runtime


def verify_pdf(rt: Runtime, pdf: bytes) -> ValidationReport:
    """The validation report; a PDF that cannot be read is InvalidInput("file")."""
    from signatures import UnreadablePdf

    if len(pdf) > rt.settings.max_upload_bytes:
        raise InvalidInput("file", f"larger than {rt.settings.max_upload_bytes} bytes")
    try:
        return validate_pdf(pdf, trust=rt.signing.trust)
    except UnreadablePdf as exc:
        raise InvalidInput("file", str(exc)) from exc
