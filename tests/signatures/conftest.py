"""Session fixtures for signature tests: a real demo PKI, its services, a sample letter.

Shared with the PKCS#11 and CSC tests:

* ``demo_pki`` — a demo PKI in a temporary directory, with signatories ``prezes``
  (Patrycja Sass-Staniszewska, Prezes Zarządu e-Izby; always first), ``prezydent``
  (Piotr Kuczera, Prezydent Miasta Rybnika), ``expired`` and ``revoked``;
* ``demo_services`` — its TSA, OCSP responder and CRLs on 127.0.0.1 (started once);
* ``trust_settings`` / ``service_urls`` — what signing and validation need;
* ``sample_pdf`` — a two-page Polish letter of intent;
* ``pdfsig`` — poppler's second opinion: ``pdfsig(pdf_bytes) -> PdfsigResult``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from signatures.keys import Pkcs12Key
from signatures.pki import DemoCertStatus, DemoPki, DemoSignatory, create_demo_pki
from signatures.profiles import ServiceUrls, TrustSettings
from signatures.services import DemoServices
from tests.pdfsig import Pdfsig
from tests.signatures.sample import make_sample_pdf
from tests.support import free_port

SIGNATORIES = (
    DemoSignatory(
        key_id="prezes",
        full_name="Patrycja Sass-Staniszewska",
        organisation="Izba Gospodarki Elektronicznej",
        function="Prezes Zarządu e-Izby",
        passphrase="prezes-demo",
    ),
    DemoSignatory(
        key_id="prezydent",
        full_name="Piotr Kuczera",
        organisation="Miasto Rybnik",
        function="Prezydent Miasta Rybnika",
        passphrase="prezydent-demo",
    ),
    DemoSignatory(
        key_id="expired",
        full_name="Ewa Przeterminowana",
        organisation="Gmina Testowa",
        function="Wójt Gminy Testowej",
        status=DemoCertStatus.EXPIRED,
    ),
    DemoSignatory(
        key_id="revoked",
        full_name="Jan Unieważniony",
        organisation="Powiat Testowy",
        function="Starosta Testowy",
        status=DemoCertStatus.REVOKED,
    ),
)


@pytest.fixture(scope="session")
def demo_pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    return create_demo_pki(
        tmp_path_factory.mktemp("demo-pki"),
        signatories=SIGNATORIES,
        base_url=f"http://127.0.0.1:{free_port()}",
    )


@pytest.fixture(scope="session")
def demo_services(demo_pki: DemoPki) -> Iterator[DemoServices]:
    services = DemoServices(demo_pki).start()
    yield services
    services.stop()


@pytest.fixture(scope="session")
def trust_settings(demo_pki: DemoPki) -> TrustSettings:
    return demo_pki.trust_settings()


@pytest.fixture(scope="session")
def service_urls(demo_pki: DemoPki, demo_services: DemoServices) -> ServiceUrls:
    return demo_pki.service_urls()


@pytest.fixture(scope="session")
def signer_keys(demo_pki: DemoPki) -> Iterator[dict[str, Pkcs12Key]]:
    """Every demo signatory's PKCS#12 key, loaded once and kept loaded."""
    keys = {s.key_id: demo_pki.key(s.key_id) for s in demo_pki.signatories}
    yield keys
    for key in keys.values():
        key.close()


@pytest.fixture(scope="session")
def sample_pdf() -> bytes:
    return make_sample_pdf()


@pytest.fixture(scope="session")
def pdfsig(tmp_path_factory: pytest.TempPathFactory, demo_pki: DemoPki) -> Pdfsig:
    """``pdfsig(pdf) -> PdfsigResult`` with an NSS database that trusts the demo root."""
    return Pdfsig(tmp_path_factory.mktemp("pdfsig"), demo_pki.cert_path("root"))


FIELDS = ("podpis-e-izba", "podpis-rybnik")
"""Signing order of the sample letter: e-Izba first, then the city."""


@pytest.fixture(scope="session")
def one_field_pdf(sample_pdf: bytes) -> bytes:
    """The sample letter frozen for one signatory (B-B is refused where several sign)."""
    from signatures.fields import prepare_for_signing
    from signatures.profiles import FieldSpec

    return prepare_for_signing(sample_pdf, [FieldSpec(FIELDS[0])])


@pytest.fixture(scope="session")
def prepared_pdf(sample_pdf: bytes) -> bytes:
    """The sample letter frozen for two signatories (e-Izba, then Rybnik)."""
    from signatures.fields import prepare_for_signing
    from signatures.profiles import FieldSpec

    return prepare_for_signing(sample_pdf, [FieldSpec(name) for name in FIELDS])


@pytest.fixture(scope="session")
def lta_two_signed(
    prepared_pdf: bytes,
    demo_pki: DemoPki,
    signer_keys: dict[str, Pkcs12Key],
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
) -> bytes:
    """The letter signed by the President of e-Izba, then the Mayor, both at B-LTA."""
    from signatures.profiles import PadesLevel
    from signatures.signing import sign_pdf

    pdf = prepared_pdf
    for key_id, field in zip(("prezes", "prezydent"), FIELDS, strict=True):
        pdf = sign_pdf(
            pdf,
            key=signer_keys[key_id],
            field_name=field,
            profile=demo_pki.signatory(key_id).profile(location="Rybnik"),
            trust=trust_settings,
            level=PadesLevel.B_LTA,
            services=service_urls,
        )
    return pdf
