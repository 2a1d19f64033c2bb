"""The signing error tree.

Every error ``signatures`` raises on purpose derives from :class:`SignatureError`; the
workflow maps them to user-facing messages in one place. A failed signing attempt never
returns a half-signed PDF: the caller's input is untouched and nothing is written.

    SignatureError
     ├── KeyAccessError           the key cannot be used: wrong PIN/passphrase, token or
     │                            key file missing, key and certificate do not match
     ├── CertificateProblem(reason)
     │                            the signer's certificate is expired, revoked, not yet
     │                            valid or untrusted; checked BEFORE signing
     ├── TimestampUnavailable     the TSA is down or answered with an unusable response
     ├── RevocationUnavailable    OCSP/CRL data for the long-term levels could not be fetched
     ├── UnreadablePdf            the bytes are not a PDF pyHanko can read
     ├── FieldProblem(field, reason)
     │                            no such signature field, already signed, out of order,
     │                            or the document is locked
     ├── ArchiveRenewalPointless  renewing would not extend the archive timestamp's life:
     │                            the TSA's certificate must be renewed first
     ├── ExternalSignatureProblem the stored state of a two-step signature is corrupt, or the
     │                            returned signature value does not match the certificate
     └── RemoteSignerError        the remote signing service (``signatures.csc``) is unreachable,
                                  timed out, or answered with an error or a malformed reply

``validate_pdf`` never raises for a *signed-but-invalid* PDF: it reports. It raises only
``UnreadablePdf`` for bytes that are not a PDF.
"""

from __future__ import annotations

from enum import StrEnum


class SignatureError(Exception):
    """Base of every error the ``signatures`` package raises on purpose."""


class KeyAccessError(SignatureError):
    """The private key cannot be used (wrong PIN or passphrase, token or file missing)."""


class CertificateReason(StrEnum):
    """Why a signer's certificate was refused before signing."""

    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    REVOKED = "revoked"
    UNTRUSTED = "untrusted"
    UNUSABLE = "unusable"


class CertificateProblem(SignatureError):
    """The signer's certificate cannot be used to sign; nothing was signed."""

    def __init__(self, reason: CertificateReason, subject: str, detail: str = "") -> None:
        message = f"certificate of {subject!r} is {reason.value.replace('_', ' ')}"
        super().__init__(f"{message}: {detail}" if detail else message)
        self.reason = reason
        self.subject = subject
        self.detail = detail


class TimestampUnavailable(SignatureError):
    """The time-stamping authority could not be reached or gave an unusable answer."""


class RevocationUnavailable(SignatureError):
    """Revocation information (OCSP/CRL) needed for B-LT/B-LTA could not be obtained."""


class UnreadablePdf(SignatureError):
    """The input is not a PDF that can be read."""


class FieldProblem(SignatureError):
    """A signature field cannot be signed: missing, already signed, out of order, locked."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"signature field {field!r}: {reason}")
        self.field = field
        self.reason = reason


class ExternalSignatureProblem(SignatureError):
    """A two-step (external) signature cannot be completed with the given state or value."""


class ArchiveRenewalPointless(SignatureError):
    """A new archive timestamp would expire no later than the current one (same TSA
    certificate): the TSA's certificate must be renewed first."""
