"""Keys behind one interface; the demo PKI and its services."""

from __future__ import annotations

import urllib.request

import pytest
from asn1crypto import crl, x509

from signatures import KeyAccessError, KeySource, Pkcs12Key
from signatures.pki import DemoCertStatus, DemoPki
from signatures.services import DemoServices
from tests.support import free_port


def _get(url: str) -> bytes:
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - checked just above
        data: bytes = response.read()
        return data


def test_pkcs12_key_is_a_key_source_kept_loaded(demo_pki: DemoPki) -> None:
    data = demo_pki.p12_path("prezes").read_bytes()
    with Pkcs12Key.from_bytes(data, "prezes-demo") as key:
        assert isinstance(key, KeySource)
        signer = key.signer()
        assert signer is key.signer()  # the same loaded object, not reloaded per call
        assert signer.signing_cert is not None
        assert signer.signing_cert.dump() == demo_pki.certificate("prezes").dump()
        registry = [c.dump() for c in signer.cert_registry]
        assert demo_pki.intermediate_cert.dump() in registry
        assert demo_pki.root_cert.dump() in registry
    with pytest.raises(KeyAccessError, match="closed"):
        key.signer()
    key.close()  # idempotent


def test_wrong_passphrase_and_junk_are_key_access_errors(demo_pki: DemoPki) -> None:
    data = demo_pki.p12_path("prezes").read_bytes()
    with pytest.raises(KeyAccessError):
        Pkcs12Key.from_bytes(data, "prezydent-demo")
    with pytest.raises(KeyAccessError):
        Pkcs12Key.from_bytes(b"not pkcs12", "x")


def test_demo_pki_reloads_identically_and_says_it_is_a_demo(demo_pki: DemoPki) -> None:
    from certomancer.registry import CertLabel

    again = DemoPki.load(demo_pki.directory)
    assert again.signatories == demo_pki.signatories
    arch = again.architecture()
    for name in ("root", "intermediate", "tsa", "ocsp", "prezes", "prezydent"):
        assert arch.get_cert(CertLabel(name)).dump() == demo_pki.certificate(name).dump()
    for name in ("root", "intermediate", "tsa", "ocsp"):
        assert "NOT FOR PRODUCTION" in demo_pki.certificate(name).subject.human_friendly
    prezes = demo_pki.certificate("prezes")
    assert "not for production" in prezes.subject.native["organization_name"]
    assert prezes.subject.native["common_name"] == "Patrycja Sass-Staniszewska"
    assert prezes.ocsp_urls == [demo_pki.ocsp_url]
    assert [p.url for p in prezes.crl_distribution_points] == [demo_pki.crl_url("intermediate")]
    assert demo_pki.tsa_cert.extended_key_usage_value.native == ["time_stamping"]
    assert "NOT FOR PRODUCTION" in (demo_pki.directory / "README.txt").read_text()


def test_expired_and_revoked_options(demo_pki: DemoPki, demo_services: DemoServices) -> None:
    assert demo_pki.signatory("expired").status is DemoCertStatus.EXPIRED
    expired: x509.Certificate = demo_pki.certificate("expired")
    assert expired.not_valid_after < demo_pki.created_at
    listed = crl.CertificateList.load(_get(demo_pki.crl_url("intermediate")))
    entries = listed["tbs_cert_list"]["revoked_certificates"]
    revoked_serials = {entry["user_certificate"].native for entry in entries}
    assert revoked_serials == {demo_pki.certificate("revoked").serial_number}


def test_services_stop_and_start_again(demo_pki: DemoPki, demo_services: DemoServices) -> None:
    assert demo_services.running
    assert demo_services.base_url == demo_pki.base_url
    assert _get(demo_pki.crl_url("root"))
    other = DemoServices(demo_pki, port=free_port())
    path = demo_pki.crl_url("root").removeprefix(demo_pki.base_url)
    for _ in range(2):
        with other:
            assert other.running
            assert crl.CertificateList.load(_get(other.base_url + path))
        assert not other.running
    other.stop()  # idempotent
