"""PAdES signing and validation on pyHanko; imports nothing from ``workflow``.

Each official signs with their own key, in order, up to PAdES B-LTA, and anyone can verify::

    pdf = prepare_for_signing(pdf, [FieldSpec("podpis-e-izba"), FieldSpec("podpis-rybnik")])
    with Pkcs12Key.from_file("prezes.p12", passphrase) as key:
        pdf = sign_pdf(pdf, key=key, field_name="podpis-e-izba", profile=profile,
                       trust=trust, level=PadesLevel.B_LTA, services=services)
    report = validate_pdf(pdf, trust=trust)
    assert report.valid

Modules: ``profiles`` (specifications), ``keys`` / ``pkcs11`` / ``csc`` (where keys
live), ``fields`` (freezing a document), ``stamp`` (visible stamps), ``signing``
(``sign_pdf``), ``external`` (two-step signing), ``ltv`` (trust services, validation data),
``validation`` / ``report`` (``validate_pdf``), ``archive`` (renewing archive timestamps),
``pki`` / ``services`` (the demo PKI and its TSA/OCSP/CRL), ``errors`` (the error tree),
``hexstrings`` (a faster hex-string reader that the first ``read_pdf`` installs into
pyHanko 0.38). Importing this package has no side effects.
"""

from .archive import (
    archive_timestamp_expiry,
    async_renew_archive_timestamp,
    renew_archive_timestamp,
)
from .csc import CscClient, CscCredential, CscKey, RemoteSignerError
from .errors import (
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
from .external import (
    PreparedSignature,
    async_complete_external_signature,
    async_prepare_external_signature,
    complete_external_signature,
    prepare_external_signature,
)
from .fields import (
    SignatureFieldInfo,
    document_identifier,
    list_signature_fields,
    prepare_for_signing,
)
from .keys import KeySource, PadesSignedAttributes, Pkcs12Key
from .pkcs11 import Pkcs11Key
from .profiles import FieldSpec, PadesLevel, ServiceUrls, SignerProfile, TrustSettings
from .report import (
    CertificateInfo,
    Coverage,
    DocumentTimestampReport,
    Indication,
    RevocationStatus,
    SignatureReport,
    TimestampInfo,
    ValidationReport,
)
from .signing import async_sign_pdf, sign_pdf
from .validation import async_validate_pdf, validate_pdf

__all__ = [
    "ArchiveRenewalPointless",
    "CertificateInfo",
    "CertificateProblem",
    "CertificateReason",
    "Coverage",
    "CscClient",
    "CscCredential",
    "CscKey",
    "DocumentTimestampReport",
    "ExternalSignatureProblem",
    "FieldProblem",
    "FieldSpec",
    "Indication",
    "KeyAccessError",
    "KeySource",
    "PadesLevel",
    "PadesSignedAttributes",
    "Pkcs11Key",
    "Pkcs12Key",
    "PreparedSignature",
    "RemoteSignerError",
    "RevocationStatus",
    "RevocationUnavailable",
    "ServiceUrls",
    "SignatureError",
    "SignatureFieldInfo",
    "SignatureReport",
    "SignerProfile",
    "TimestampInfo",
    "TimestampUnavailable",
    "TrustSettings",
    "UnreadablePdf",
    "ValidationReport",
    "archive_timestamp_expiry",
    "async_complete_external_signature",
    "async_prepare_external_signature",
    "async_renew_archive_timestamp",
    "async_sign_pdf",
    "async_validate_pdf",
    "complete_external_signature",
    "document_identifier",
    "list_signature_fields",
    "prepare_external_signature",
    "prepare_for_signing",
    "renew_archive_timestamp",
    "sign_pdf",
    "validate_pdf",
]
