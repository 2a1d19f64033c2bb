"""Validation for everyone: any PDF, signed here or elsewhere, against our trust settings.

The bytes come from anyone (the public ``POST /verify``, ``estrategia verify``): whatever
they are, the answer is a report or ``InvalidInput("file")``. ``signatures`` guarantees
that reading and validating them raises nothing but ``UnreadablePdf``; a refusal is logged
here as one line, never a traceback.
"""

from __future__ import annotations

import logging

from signatures import TrustSettings, UnreadablePdf, ValidationReport, validate_pdf
from workflow.config import Settings
from workflow.errors import ErrorCode, InvalidInput
from workflow.runtime import Runtime

__all__ = ["installed_trust", "verify_bytes", "verify_pdf"]

log = logging.getLogger(__name__)


def verify_bytes(pdf: bytes, *, trust: TrustSettings) -> ValidationReport:
    """The validation report of ``pdf``; bytes that are not a readable PDF are
    ``InvalidInput("file")``."""
    try:
        return validate_pdf(pdf, trust=trust)
    except UnreadablePdf as exc:
        log.info("verification refused %d bytes: %s", len(pdf), exc)
        raise InvalidInput("file", ErrorCode.PDF_UNREADABLE, detail=str(exc)) from exc


def verify_pdf(rt: Runtime, pdf: bytes) -> ValidationReport:
    """The validation report against this installation's trust settings; a PDF that
    cannot be read is InvalidInput("file")."""
    if len(pdf) > rt.settings.max_upload_bytes:
        raise InvalidInput("file", ErrorCode.FILE_TOO_LARGE, limit=rt.settings.max_upload_bytes)
    return verify_bytes(pdf, trust=rt.signing.trust)


def installed_trust(settings: Settings) -> TrustSettings | None:
    """The trust settings of the installation ``settings`` describe, if it has any; reads
    files only, creates nothing and starts nothing.

    Demo mode: the demo PKI's root, if ``estrategia pki init`` (or the demo server) made
    one under ``var/pki``. Production: the configured roots, if any are configured.
    ``None`` otherwise (a fresh checkout, a machine that only verifies files).
    """
    from workflow.signing.trust import configured_trust

    if settings.signing.demo and not (settings.pki_dir / "pki.json").exists():
        return None
    if not settings.signing.demo and not settings.signing.trust_roots:
        return None
    return configured_trust(settings)
