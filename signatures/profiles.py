"""Specifications: frozen values that say what to sign, where, how, and whom to trust.

Like pyHanko's ``PdfSignatureMetadata``, these are plain frozen dataclasses with a
docstring per attribute; they carry no behaviour beyond small conveniences.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from asn1crypto import x509

__all__ = [
    "FieldSpec",
    "PadesLevel",
    "ServiceUrls",
    "SignerProfile",
    "TrustSettings",
]


class PadesLevel(StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1), in increasing order."""

    B_B = "B-B"
    """Basic signature: CMS with signing-certificate-v2, no proof of time."""
    B_T = "B-T"
    """B-B plus an RFC 3161 signature timestamp: the signature existed at that time."""
    B_LT = "B-LT"
    """B-T plus the certificates and revocation data (OCSP, CRL) embedded in the DSS."""
    B_LTA = "B-LTA"
    """B-LT plus a document timestamp over the DSS, renewable for long-term archiving."""

    @property
    def rank(self) -> int:
        """Position in the order B-B < B-T < B-LT < B-LTA (0..3)."""
        return list(PadesLevel).index(self)

    @property
    def timestamped(self) -> bool:
        """Whether this level needs a time-stamping authority."""
        return self.rank >= PadesLevel.B_T.rank

    @property
    def long_term(self) -> bool:
        """Whether this level embeds validation data (B-LT and above)."""
        return self.rank >= PadesLevel.B_LT.rank


@dataclass(frozen=True)
class SignerProfile:
    """Who signs, as shown on the visible stamp and in the signature dictionary."""

    full_name: str
    """The signatory's name, e.g. ``"Piotr Kuczera"``."""

    function: str
    """The office held, e.g. ``"Prezydent Miasta Rybnika"`` or ``"Prezes Zarządu e-Izby"``."""

    organisation: str = ""
    """The party represented, e.g. ``"Miasto Rybnik"``; for the application's records
    (the stamp shows the function, which names the office and the unit)."""

    reason: str | None = None
    """Reason for signing (``/Reason``), e.g. ``"Podpisanie listu intencyjnego"``."""

    location: str | None = None
    """Place of signing (``/Location``), e.g. ``"Rybnik"``."""

    on_behalf: str | None = None
    """An extra stamp line for signing on someone's behalf, written out in full because
    Polish puts the office in the genitive here, e.g. ``"z upoważnienia Prezydenta Miasta
    Rybnika"`` or ``"p.o. Prezydenta Miasta Rybnika"``."""


Box = tuple[float, float, float, float]
"""A rectangle in PDF user space: (x1, y1, x2, y2), origin bottom-left, in points."""


@dataclass(frozen=True)
class FieldSpec:
    """One signature field, created when the document is frozen for signing.

    Fields are signed in the order they are given to
    :func:`~signatures.fields.prepare_for_signing`. The first signature certifies the
    document (DocMDP: form filling and signing allowed) and locks every field except the
    remaining signatories'; each later one locks the fields signed so far; the last one
    locks the whole document (no further changes except validation data and document
    timestamps).
    """

    name: str
    """The field's name, unique in the document, e.g. ``"podpis-1-e-izba"``."""

    page: int | None = None
    """Zero-based page index for the visible stamp; ``None`` = the last page, negative
    values count from the end (``-1`` = last page)."""

    box: Box | None = None
    """Where the stamp goes; ``None`` = laid out automatically along the bottom of the
    page, one slot per field in signing order."""

    visible: bool = True
    """``False`` creates an invisible field (no stamp)."""


@dataclass(frozen=True)
class ServiceUrls:
    """Where the online trust services are (a trust service provider in production,
    ``signatures.services.DemoServices`` on loopback in demo mode and in tests).

    OCSP responders and CRL distribution points are read from the certificates
    themselves (AIA / CRL DP extensions); only the TSA needs configuring.
    """

    tsa_url: str | None = None
    """RFC 3161 time-stamping endpoint; required for B-T and above."""

    timeout: float = 10.0
    """Seconds to wait for any single TSA, OCSP or CRL request."""

    tsa_username: str | None = None
    """HTTP basic authentication for the TSA, if the provider requires it."""

    tsa_password: str | None = None
    """Password for :attr:`tsa_username`."""


@dataclass(frozen=True)
class TrustSettings:
    """Whom to trust when checking certificates before signing and when validating."""

    trust_roots: tuple[x509.Certificate, ...]
    """Root certificates trusted for signers (e.g. the national qualified roots)."""

    tsa_trust_roots: tuple[x509.Certificate, ...] = ()
    """Certificates trusted as anchors for timestamps. Put the TSA's own service
    certificate here (the EU trusted-list model: a qualified TSA's certificate is the
    anchor): then the newest archive timestamp validates years later without the TSA
    certificate's current revocation status, which no embedded data can provide.
    Empty = use :attr:`trust_roots` for timestamps as well."""

    other_certs: tuple[x509.Certificate, ...] = ()
    """Intermediate certificates that signatures might not embed."""

    @property
    def timestamp_roots(self) -> tuple[x509.Certificate, ...]:
        """The anchors actually used for timestamps."""
        return self.tsa_trust_roots or self.trust_roots

    @classmethod
    def from_pem_files(
        cls,
        trust_roots: Iterable[str | Path],
        *,
        tsa_trust_roots: Iterable[str | Path] = (),
        other_certs: Iterable[str | Path] = (),
    ) -> TrustSettings:
        """Build trust settings from PEM or DER certificate files."""
        from .keys import load_certificates

        def _load(paths: Iterable[str | Path]) -> tuple[x509.Certificate, ...]:
            return tuple(c for p in paths for c in load_certificates(Path(p).read_bytes()))

        return cls(
            trust_roots=_load(trust_roots),
            tsa_trust_roots=_load(tsa_trust_roots),
            other_certs=_load(other_certs),
        )
