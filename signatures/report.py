"""What validation found: frozen reports, one per signature and per document timestamp.

Like pyHanko's status objects, reports never raise and are plain values;
:meth:`ValidationReport.to_dict` turns one into JSON-ready data for the API and the
verification page.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

from .profiles import PadesLevel

__all__ = [
    "CertificateInfo",
    "Coverage",
    "DocumentTimestampReport",
    "Indication",
    "RevocationStatus",
    "SignatureReport",
    "TimestampInfo",
    "ValidationReport",
]


class Indication(StrEnum):
    """The ETSI EN 319 102-1 main indication."""

    PASSED = "PASSED"
    INDETERMINATE = "INDETERMINATE"
    FAILED = "FAILED"


class Coverage(StrEnum):
    """How much of the file a signature's byte range covers."""

    ENTIRE_FILE = "entire_file"
    """Everything: nothing was added after this signature."""
    ENTIRE_REVISION = "entire_revision"
    """The revision it was made in; later incremental updates exist (see the
    modification analysis for whether they were allowed)."""
    PARTIAL = "partial"
    """Less than a whole revision: a sign of tampering."""


class RevocationStatus(StrEnum):
    """The signer certificate's revocation status, as far as validation could tell."""

    GOOD = "good"
    """Not revoked, proven by OCSP/CRL data."""
    REVOKED = "revoked"
    UNKNOWN = "unknown"
    """No usable OCSP/CRL data (offline, none embedded, or too old)."""


@dataclass(frozen=True)
class CertificateInfo:
    """A certificate, as people read it."""

    common_name: str
    """Subject common name, e.g. ``"Piotr Kuczera"``."""

    subject: str
    """The full subject distinguished name."""

    issuer: str
    """The issuer's distinguished name."""

    serial_number: str
    """Serial number, hexadecimal."""

    not_before: datetime
    """Start of validity."""

    not_after: datetime
    """End of validity."""


@dataclass(frozen=True)
class TimestampInfo:
    """An RFC 3161 timestamp on a signature."""

    time: datetime
    """The time the TSA attests (UTC)."""

    tsa: str
    """The TSA certificate's common name."""

    valid: bool
    """Intact, cryptographically valid and trusted."""


@dataclass(frozen=True)
class SignatureReport:
    """Everything validation established about one signature."""

    field_name: str
    """The signature field's name."""

    signer: str
    """The signer certificate's subject common name."""

    certificate: CertificateInfo
    """The signer's certificate."""

    chain: tuple[str, ...]
    """Common names from the trust anchor down to the signer, if a path was built."""

    trusted: bool
    """The certificate chains to a trusted root and was valid (incl. revocation) when
    it had to be."""

    intact: bool
    """The signed bytes hash to the value in the signature (no byte was changed)."""

    cryptographically_valid: bool
    """The signature value verifies with the signer's public key."""

    revision: int
    """The document revision the signature covers (0-based)."""

    coverage: Coverage
    """How much of the file the signature covers."""

    covers_whole_document: bool
    """Whether nothing at all was added after this signature."""

    modification_level: str | None
    """pyHanko's verdict on what was changed after signing: ``NONE``, ``LTA_UPDATES``
    (validation data, document timestamps), ``FORM_FILLING`` (e.g. later signatures),
    ``ANNOTATIONS`` or ``OTHER`` (content changed)."""

    modifications_permitted: bool | None
    """Whether those changes are within what this signature allowed (DocMDP/FieldMDP);
    ``None`` if it could not be determined."""

    certification: str | None
    """For a certification signature, its DocMDP permission (``FILL_FORMS``...)."""

    locks_document: bool
    """Whether this signature forbids any further change (the final signature)."""

    claimed_signing_time: datetime | None
    """The signing time the signer's software wrote (``/M``); not proof of anything."""

    timestamp: TimestampInfo | None
    """The signature timestamp (B-T and above)."""

    best_signature_time: datetime | None
    """The earliest time the signature is proven to have existed."""

    revocation: RevocationStatus
    """Revocation status of the signer's certificate."""

    pades_level: PadesLevel | None
    """The PAdES baseline level of the signature's structure (signature timestamp: B-T,
    signer's validation data in the DSS: B-LT, covered by a document timestamp: B-LTA),
    whatever the validation outcome (:attr:`valid` is the verdict); ``None`` when not
    PAdES or not intact."""

    indication: Indication
    """The ETSI AdES main indication (PAdES B-LTA validation)."""

    sub_indication: str | None
    """The ETSI sub-indication, e.g. ``HASH_FAILURE``, ``REVOKED_NO_POE``."""

    valid: bool
    """The bottom line: AdES PASSED *and* everything changed after signing was allowed."""

    problems: tuple[str, ...] = ()
    """Human-readable reasons when :attr:`valid` is false."""


@dataclass(frozen=True)
class DocumentTimestampReport:
    """A document timestamp (B-LTA archive timestamp)."""

    field_name: str
    """The timestamp's field name."""

    revision: int
    """The revision it covers."""

    time: datetime | None
    """The time the TSA attests."""

    tsa: str
    """The TSA certificate's common name."""

    tsa_certificate_expires: datetime | None
    """When the TSA certificate expires: renew the archive timestamp before then."""

    intact: bool
    """The covered bytes are unchanged."""

    trusted: bool
    """Valid signature by a trusted TSA."""

    modifications_permitted: bool | None
    """Whether what was added after it is allowed (validation data, later timestamps)."""

    valid: bool
    """The bottom line for this timestamp."""

    problems: tuple[str, ...] = ()
    """Reasons when :attr:`valid` is false."""


@dataclass(frozen=True)
class ValidationReport:
    """The result of :func:`~signatures.validation.validate_pdf`."""

    document_id: str
    """Short identifier (as printed on the stamps)."""

    sha256: str
    """SHA-256 of the validated file, hexadecimal."""

    revisions: int
    """Number of revisions (incremental updates) in the file."""

    validated_at: datetime
    """The validation time used."""

    offline: bool
    """Whether validation used only data in the document and the trust settings."""

    signatures: tuple[SignatureReport, ...]
    """One report per signature, in document order."""

    document_timestamps: tuple[DocumentTimestampReport, ...]
    """One report per document timestamp, in document order."""

    warnings: tuple[str, ...] = ()
    """Findings that do not decide :attr:`valid` by themselves, e.g. unreadable DSS entries
    that were skipped (a signature that needed them is invalid for lack of data)."""

    @property
    def valid(self) -> bool:
        """At least one signature, and every signature and timestamp is valid."""
        return (
            bool(self.signatures)
            and all(s.valid for s in self.signatures)
            and all(t.valid for t in self.document_timestamps)
        )

    @property
    def pades_level(self) -> PadesLevel | None:
        """The lowest level any signature reached (what the document as a whole offers)."""
        levels = [s.pades_level for s in self.signatures]
        if not levels or any(level is None for level in levels):
            return None
        return min((lvl for lvl in levels if lvl is not None), key=lambda lvl: lvl.rank)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: datetimes as ISO 8601, enums as their values."""
        data = _plain(dataclasses.asdict(self))
        data["valid"] = self.valid
        level = self.pades_level
        data["pades_level"] = level.value if level else None
        return data


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value
