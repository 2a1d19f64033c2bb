"""The demo PKI wiring: demo mode's signing environment, made from the demo people.

``ensure_demo_pki`` makes the CA hierarchy, TSA, OCSP responder and the demo signatories'
PKCS#12 keys under ``var/pki`` once; ``open_demo_signing_environment`` also serves the TSA,
OCSP and CRLs on loopback and lets the server hold the demo signatories' keys. The edge
(the CLI, the web app factory in demo mode) passes it to ``build_runtime``; nothing below
the edge imports this module. NOT FOR PRODUCTION.
"""

from __future__ import annotations

import logging

from signatures import PadesLevel
from signatures.pki import DemoPki, DemoSignatory, create_demo_pki
from signatures.services import DemoServices
from workflow.config import Settings, private_dir
from workflow.demo.data import ORGANISATIONS, PEOPLE
from workflow.runtime import SigningEnvironment
from workflow.signing.trust import configured_level
from workflow.states import Role

log = logging.getLogger(__name__)


def demo_signatories() -> list[DemoSignatory]:
    """The demo people who sign, as the demo PKI issues their certificates."""
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


def demo_key_ids() -> dict[str, str]:
    """E-mail of each demo signatory -> their key id in the demo PKI."""
    return {p.email: p.key for p in PEOPLE if Role.SIGNATORY in p.roles}


def ensure_demo_pki(settings: Settings) -> DemoPki:
    """The demo PKI under var/pki, created on first use."""
    directory = settings.pki_dir
    if (directory / "pki.json").exists():
        return DemoPki.load(directory)
    private_dir(settings.var_dir)
    private_dir(directory)  # 0700 before any key is written into it
    return create_demo_pki(
        directory,
        signatories=demo_signatories(),
        base_url=f"http://127.0.0.1:{settings.signing.demo_services_port}",
    )


def demo_signing_environment(
    pki: DemoPki, *, level: PadesLevel, services: DemoServices | None
) -> SigningEnvironment:
    """Sign and validate against ``pki``; ``services``, when given, are running and are
    stopped when the environment closes."""
    env = SigningEnvironment(
        trust=pki.trust_settings(),
        services=pki.service_urls(),
        level=level,
        demo_pki=pki,
        demo_key_ids=demo_key_ids(),
    )
    if services is not None:
        env.on_close.append(services.stop)
    return env


def open_demo_signing_environment(settings: Settings) -> SigningEnvironment:
    """A ``SigningFactory`` for demo mode: the demo PKI, its services started here."""
    level = configured_level(settings)
    pki = ensure_demo_pki(settings)
    services = DemoServices(pki)
    running: DemoServices | None = services
    try:
        services.start()
    except OSError as exc:
        # Another estrategia process on this var dir (the server of `make run`) is already
        # serving the same PKI there; sign against it.
        log.warning("demo trust services not started (%s); using %s", exc, pki.base_url)
        running = None
    return demo_signing_environment(pki, level=level, services=running)
