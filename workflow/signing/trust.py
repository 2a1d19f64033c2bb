"""The trust services a running application signs and validates with.

In demo mode: the demo PKI under ``var/pki`` (made once by ``estrategia pki init`` or on
first use) with its TSA, OCSP responder and CRLs served on loopback by this process, and
the demo signatories' PKCS#12 files. In production: the trust service provider's TSA URL
and the trust roots from the settings; there are no server-held keys at all, signatories
sign through the external (hash-only) steps or their provider's CSC service.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from signatures import KeySource, PadesLevel, ServiceUrls, TrustSettings
from signatures.pki import DemoPki, DemoSignatory, create_demo_pki
from signatures.services import DemoServices
from workflow.config import Settings
from workflow.errors import InvalidInput, NotPermitted

log = logging.getLogger(__name__)


def demo_signatories() -> list[DemoSignatory]:
    from workflow.demo.data import ORGANISATIONS, PEOPLE
    from workflow.states import Role

    return [
        DemoSignatory(
            key_id=p.key,
            full_name=p.full_name,
            organisation=str(ORGANISATIONS[p.org_key]["name"]),
            function=p.function_title or "",
        )
        for p in PEOPLE
        if Role.SIGNATORY in p.roles
    ]


def ensure_demo_pki(settings: Settings) -> DemoPki:
    """The demo PKI under var/pki, created on first use."""
    directory = settings.pki_dir
    if (directory / "pki.json").exists():
        return DemoPki.load(directory)
    return create_demo_pki(
        directory,
        signatories=demo_signatories(),
        base_url=f"http://127.0.0.1:{settings.demo_services_port}",
    )


@dataclass
class SigningEnvironment:
    trust: TrustSettings
    services: ServiceUrls | None
    level: PadesLevel
    demo_pki: DemoPki | None = None
    _demo_services: DemoServices | None = field(default=None, repr=False)
    _keys: dict[str, KeySource] = field(default_factory=dict, repr=False)

    def demo_key(self, email: str) -> KeySource:
        """The server-held demo key of a demo signatory (demo mode only)."""
        from workflow.demo.data import PEOPLE

        if self.demo_pki is None:
            raise NotPermitted("server-held keys exist only in demo mode; sign externally")
        person = next((p for p in PEOPLE if p.email == email), None)
        if person is None or not self.demo_pki.p12_path(person.key).exists():
            raise NotPermitted(f"{email} has no demo key; sign externally")
        if person.key not in self._keys:
            self._keys[person.key] = self.demo_pki.key(person.key)
        return self._keys[person.key]

    def close(self) -> None:
        for key in self._keys.values():
            key.close()
        self._keys.clear()
        if self._demo_services is not None:
            self._demo_services.stop()
            self._demo_services = None


def configured_trust(settings: Settings) -> TrustSettings:
    """Whom this installation trusts, without starting any service."""
    if settings.demo:
        return ensure_demo_pki(settings).trust_settings()
    if not settings.trust_roots:
        raise InvalidInput("trust_roots", "production needs at least one trusted root")
    try:
        return TrustSettings.from_pem_files(
            settings.trust_roots, tsa_trust_roots=settings.tsa_trust_roots
        )
    except OSError as exc:
        raise InvalidInput("trust_roots", f"cannot read {exc.filename}: {exc.strerror}") from exc


def open_signing_environment(settings: Settings) -> SigningEnvironment:
    try:
        level = PadesLevel(settings.signature_level)
    except ValueError as exc:
        raise InvalidInput("signature_level", "must be B-B, B-T, B-LT or B-LTA") from exc
    if settings.demo:
        pki = ensure_demo_pki(settings)
        services = DemoServices(pki)
        running: DemoServices | None = services
        try:
            services.start()
        except OSError as exc:
            # Another estrategia process on this var dir (the server of `make run`) is
            # already serving the same PKI there; sign against it.
            log.warning("demo trust services not started (%s); using %s", exc, pki.base_url)
            running = None
        return SigningEnvironment(
            trust=pki.trust_settings(),
            services=pki.service_urls(),
            level=level,
            demo_pki=pki,
            _demo_services=running,
        )
    trust = configured_trust(settings)
    return SigningEnvironment(
        trust=trust,
        services=ServiceUrls(tsa_url=settings.tsa_url) if settings.tsa_url else None,
        level=level,
    )
