"""``signatures.errors`` as codes: ``signatures`` imports nothing from ``workflow`` and
speaks English to developers, so the edges (web, CLI) ask here for the code, parameters and
HTTP status of each of its errors. The English text stays available as ``detail`` for the
English message and the logs; a Polish sentence never quotes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from signatures.csc.errors import RemoteSignerError
from signatures.errors import (
    ArchiveRenewalPointless,
    CertificateProblem,
    CertificateReason,
    ExternalSignatureProblem,
    FieldProblem,
    KeyAccessError,
    RevocationUnavailable,
    SignatureError,
    TimestampUnavailable,
    UnreadablePdf,
)
from workflow.errors import ErrorCode


@dataclass(frozen=True)
class CodedSignatureError:
    status: int
    kind: ErrorCode
    code: ErrorCode
    params: dict[str, object]


_CERTIFICATE = {
    CertificateReason.EXPIRED: ErrorCode.CERTIFICATE_EXPIRED,
    CertificateReason.NOT_YET_VALID: ErrorCode.CERTIFICATE_NOT_YET_VALID,
    CertificateReason.REVOKED: ErrorCode.CERTIFICATE_REVOKED,
    CertificateReason.UNTRUSTED: ErrorCode.CERTIFICATE_UNTRUSTED,
    CertificateReason.UNUSABLE: ErrorCode.CERTIFICATE_UNUSABLE,
}

_PROBLEM, _UNAVAILABLE = ErrorCode.SIGNATURE_PROBLEM, ErrorCode.TRUST_SERVICE_UNAVAILABLE

_BY_CLASS: dict[type[SignatureError], tuple[int, ErrorCode, ErrorCode]] = {
    KeyAccessError: (422, _PROBLEM, ErrorCode.SIGNING_KEY_UNUSABLE),
    TimestampUnavailable: (503, _UNAVAILABLE, ErrorCode.TIMESTAMP_UNAVAILABLE),
    RevocationUnavailable: (503, _UNAVAILABLE, ErrorCode.REVOCATION_UNAVAILABLE),
    RemoteSignerError: (502, _UNAVAILABLE, ErrorCode.REMOTE_SIGNER_FAILED),
    UnreadablePdf: (422, ErrorCode.INVALID_INPUT, ErrorCode.PDF_UNREADABLE),
    ExternalSignatureProblem: (422, _PROBLEM, ErrorCode.EXTERNAL_SIGNATURE_INVALID),
    ArchiveRenewalPointless: (409, _PROBLEM, ErrorCode.ARCHIVE_RENEWAL_POINTLESS),
    SignatureError: (422, _PROBLEM, ErrorCode.SIGNATURE_PROBLEM),
}


def coded(exc: SignatureError) -> CodedSignatureError:
    """The status, generic kind, code and parameters of a ``signatures`` error."""
    detail = str(exc)
    if isinstance(exc, CertificateProblem):
        return CodedSignatureError(
            422,
            _PROBLEM,
            _CERTIFICATE.get(exc.reason, ErrorCode.CERTIFICATE_UNUSABLE),
            {"subject": exc.subject, "detail": detail},
        )
    if isinstance(exc, FieldProblem):
        return CodedSignatureError(
            409,
            _PROBLEM,
            ErrorCode.SIGNATURE_FIELD_UNUSABLE,
            {"field": exc.field, "detail": exc.reason},
        )
    status, kind, code = next(_BY_CLASS[c] for c in type(exc).__mro__ if c in _BY_CLASS)
    return CodedSignatureError(status, kind, code, {"detail": detail})
