"""Long-term validity: a B-LTA letter still validates years later with no network."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from signatures import (
    ArchiveRenewalPointless,
    Indication,
    PadesLevel,
    ServiceUrls,
    SignatureError,
    TrustSettings,
    archive_timestamp_expiry,
    renew_archive_timestamp,
    validate_pdf,
)
from signatures.pki import DemoPki, create_demo_pki
from signatures.services import DemoServices
from tests.pdfsig import PdfsigResult, assert_pdfsig_valid
from tests.signatures.conftest import SIGNATORIES
from tests.signatures.tamper import add_page_text, flip_byte_in_signed_content
from tests.support import free_port

YEARS_LATER = timedelta(days=5 * 365 + 30)


def test_b_lta_validates_offline_five_years_later(
    lta_two_signed: bytes, demo_pki: DemoPki, trust_settings: TrustSettings
) -> None:
    future = datetime.now(UTC) + YEARS_LATER
    # Everything embedded has expired by then: the signers' certificates (2 years), every
    # OCSP response (10 minutes) and CRL (1 day). Only the TSA certificate lives on.
    assert all(demo_pki.certificate(k).not_valid_after < future for k in ("prezes", "prezydent"))
    assert demo_pki.tsa_cert.not_valid_after > future

    tampered_bytes = flip_byte_in_signed_content(lta_two_signed)
    changed_text = add_page_text(lta_two_signed)
    # pyHanko's past validation reads the real clock: freeze it AND pass the time.
    with freeze_time(future):
        report = validate_pdf(lta_two_signed, trust=trust_settings, when=future)
        tampered = validate_pdf(tampered_bytes, trust=trust_settings, when=future)
        changed = validate_pdf(changed_text, trust=trust_settings, when=future)

    assert report.offline
    assert report.validated_at == future
    assert report.valid, [s.problems for s in report.signatures]
    for signature in report.signatures:
        assert signature.indication is Indication.PASSED
        assert signature.pades_level is PadesLevel.B_LTA
        assert signature.best_signature_time is not None
        assert signature.best_signature_time < future - YEARS_LATER + timedelta(hours=1)

    assert not tampered.valid
    assert all(s.indication is Indication.FAILED for s in tampered.signatures)

    assert not changed.valid
    assert all(s.intact for s in changed.signatures)
    assert all(s.modification_level == "OTHER" for s in changed.signatures)


def test_without_the_tsa_anchor_the_future_validation_fails(
    lta_two_signed: bytes, demo_pki: DemoPki
) -> None:
    """The control experiment: trust only the root, also for timestamps."""
    future = datetime.now(UTC) + YEARS_LATER
    root_only = TrustSettings(trust_roots=(demo_pki.root_cert,))
    with freeze_time(future):
        report = validate_pdf(lta_two_signed, trust=root_only, when=future)
    assert not report.valid


@pytest.fixture(scope="module")
def second_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoPki]:
    """Another demo PKI, standing in for the TSA after its certificate was renewed."""
    pki = create_demo_pki(
        tmp_path_factory.mktemp("second-tsa"),
        signatories=SIGNATORIES[:1],
        base_url=f"http://127.0.0.1:{free_port()}",
        tsa_validity=timedelta(days=365 * 21),  # issued later, and ends later
    )
    services = DemoServices(pki).start()
    yield pki
    services.stop()


def test_renewing_with_the_same_tsa_certificate_is_refused(
    lta_two_signed: bytes, demo_pki: DemoPki, service_urls: ServiceUrls
) -> None:
    assert archive_timestamp_expiry(lta_two_signed) == demo_pki.tsa_cert.not_valid_after
    with pytest.raises(ArchiveRenewalPointless, match="TSA's certificate must be renewed first"):
        renew_archive_timestamp(lta_two_signed, services=service_urls)


def test_renewing_the_archive_timestamp_adds_one_that_validates(
    lta_two_signed: bytes,
    demo_pki: DemoPki,
    second_tsa: DemoPki,
    pdfsig: Callable[[bytes], PdfsigResult],
) -> None:
    renewed = renew_archive_timestamp(lta_two_signed, services=second_tsa.service_urls())
    assert renewed.startswith(lta_two_signed)  # an incremental update, nothing rewritten
    trust = TrustSettings(
        trust_roots=(demo_pki.root_cert,),
        tsa_trust_roots=(demo_pki.tsa_cert, second_tsa.tsa_cert),
        other_certs=(demo_pki.intermediate_cert,),
    )
    report = validate_pdf(renewed, trust=trust)
    assert report.valid
    assert len(report.document_timestamps) == 3
    newest = report.document_timestamps[-1]
    assert newest.valid
    assert newest.revision > report.document_timestamps[1].revision
    assert all(s.pades_level is PadesLevel.B_LTA for s in report.signatures)
    assert archive_timestamp_expiry(renewed) == second_tsa.tsa_cert.not_valid_after
    assert archive_timestamp_expiry(renewed) > demo_pki.tsa_cert.not_valid_after
    checked = pdfsig(renewed)
    assert_pdfsig_valid(checked, 2)
    assert sum(s.is_document_timestamp for s in checked.signatures) == 3

    future = datetime.now(UTC) + YEARS_LATER
    with freeze_time(future):
        assert validate_pdf(renewed, trust=trust, when=future).valid


def test_archive_timestamp_expiry_needs_a_timestamp(prepared_pdf: bytes) -> None:
    with pytest.raises(SignatureError, match="no timestamp"):
        archive_timestamp_expiry(prepared_pdf)
