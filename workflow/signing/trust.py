"""The trust services a running application signs and validates with, in production.

The trust service provider's TSA URL and the trust roots come from the settings; there are
no server-held keys at all: signatories sign through the external (hash-only) steps or
their provider's CSC service. Demo mode (the demo PKI under ``var/pki``, its TSA, OCSP and
CRLs on loopback, the demo signatories' keys) is wired by ``workflow.demo.pki`` and handed
to the runtime by the edge (the CLI, the web app factory); nothing here reads demo data.
"""

from __future__ import annotations

from signatures import PadesLevel, ServiceUrls, TrustSettings
from signatures.pki import DemoPki
from workflow.config import Settings
from workflow.errors import ErrorCode, InvalidInput
from workflow.runtime import SigningEnvironment

__all__ = [
    "SigningEnvironment",
    "configured_level",
    "configured_trust",
    "open_signing_environment",
]


def configured_level(settings: Settings) -> PadesLevel:
    """The PAdES level of new signatures."""
    try:
        return PadesLevel(settings.signing.level)
    except ValueError as exc:
        raise InvalidInput(
            "signature_level",
            ErrorCode.SIGNATURE_LEVEL_INVALID,
            allowed=[level.value for level in PadesLevel],
        ) from exc


def configured_trust(settings: Settings) -> TrustSettings:
    """Whom this installation trusts, without starting any service.

    In demo mode: the root of the demo PKI under ``var/pki`` (made by ``estrategia pki
    init``, ``estrategia demo`` or the first signature of the demo server).
    """
    if settings.signing.demo:
        if not (settings.pki_dir / "pki.json").exists():
            raise InvalidInput(
                "trust_roots", ErrorCode.DEMO_PKI_MISSING, pki_dir=str(settings.pki_dir)
            )
        return DemoPki.load(settings.pki_dir).trust_settings()
    if not settings.signing.trust_roots:
        raise InvalidInput("trust_roots", ErrorCode.TRUST_ROOTS_REQUIRED)
    try:
        return TrustSettings.from_pem_files(
            settings.signing.trust_roots, tsa_trust_roots=settings.signing.tsa_trust_roots
        )
    except OSError as exc:
        raise InvalidInput(
            "trust_roots", ErrorCode.FILE_UNREADABLE, path=exc.filename, detail=exc.strerror
        ) from exc


def open_signing_environment(settings: Settings) -> SigningEnvironment:
    """The production signing environment: configured roots and TSA, no server-held keys.

    In demo mode the edge passes ``workflow.demo.pki.open_demo_signing_environment``
    instead; this one refuses, rather than start a production setup without trust roots.
    """
    if settings.signing.demo:
        raise InvalidInput("demo", ErrorCode.DEMO_ENVIRONMENT_ELSEWHERE)
    tsa_url = settings.signing.tsa_url
    return SigningEnvironment(
        trust=configured_trust(settings),
        services=ServiceUrls(tsa_url=tsa_url) if tsa_url else None,
        level=configured_level(settings),
    )
