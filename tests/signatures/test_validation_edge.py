"""Validation edge cases: levels are structure, junk in the DSS, expiring archive timestamps."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from signatures import (
    ArchiveRenewalPointless,
    Indication,
    PadesLevel,
    Pkcs12Key,
    ServiceUrls,
    SignatureError,
    TrustSettings,
    archive_timestamp_expiry,
    renew_archive_timestamp,
    sign_pdf,
    validate_pdf,
)
from signatures.pki import DemoPki, create_demo_pki
from signatures.services import DemoServices
from tests.signatures.conftest import FIELDS, SIGNATORIES
from tests.support import free_port

SHORT_TSA = timedelta(days=90)
AFTER_SHORT_TSA = timedelta(days=120)


def _sign(
    pdf: bytes, pki: DemoPki, key_id: str, field: str, level: PadesLevel, services: ServiceUrls
) -> bytes:
    key: Pkcs12Key = pki.key(key_id)
    try:
        return sign_pdf(
            pdf,
            key=key,
            field_name=field,
            profile=pki.signatory(key_id).profile(),
            trust=pki.trust_settings(),
            level=level,
            services=services,
        )
    finally:
        key.close()


def _document_timestamp(pdf: bytes, services: ServiceUrls) -> bytes:
    """A bare document timestamp (no validation data), the way another tool adds one."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers, timestamps

    assert services.tsa_url is not None
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    out = io.BytesIO()
    signers.PdfTimeStamper(timestamps.HTTPTimeStamper(services.tsa_url)).timestamp_pdf(
        writer, "sha256", output=out
    )
    return out.getvalue()


def _with_junk_dss(pdf: bytes, kind: str) -> bytes:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    junk = writer.add_object(generic.StreamObject(stream_data=b"\x30\x03\x02\x01\x05junk"))
    dss = generic.DictionaryObject({pdf_name(kind): generic.ArrayObject([junk])})
    writer.root[pdf_name("/DSS")] = writer.add_object(dss)
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pki(directory: Path, **validity: timedelta) -> tuple[DemoPki, DemoServices]:
    pki = create_demo_pki(
        directory,
        signatories=SIGNATORIES[:2],
        base_url=f"http://127.0.0.1:{free_port()}",
        **validity,
    )
    return pki, DemoServices(pki).start()


@pytest.fixture(scope="module")
def short_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoPki]:
    """A second PKI whose TSA certificate lives only 90 days."""
    pki, services = _pki(tmp_path_factory.mktemp("short-tsa"), tsa_validity=SHORT_TSA)
    yield pki
    services.stop()


# -- 1. B-B signatures followed by document timestamps ---------------------------------


def test_b_b_followed_by_a_document_timestamp_validates_as_b_b(
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
) -> None:
    signed = _sign(one_field_pdf, demo_pki, "prezes", FIELDS[0], PadesLevel.B_B, service_urls)
    stamped = _document_timestamp(signed, service_urls)

    online = validate_pdf(stamped, trust=trust_settings, offline=False)
    (signature,) = online.signatures
    assert signature.valid, signature.problems
    assert signature.indication is Indication.PASSED
    assert signature.pades_level is PadesLevel.B_B
    assert signature.timestamp is None
    assert [t.valid for t in online.document_timestamps] == [True]
    assert online.valid

    # Offline, a B-B signature has no revocation data: as without the document timestamp.
    offline = validate_pdf(stamped, trust=trust_settings)
    plain = validate_pdf(signed, trust=trust_settings)
    assert not offline.valid
    assert offline.signatures[0].indication is plain.signatures[0].indication
    assert offline.signatures[0].pades_level is PadesLevel.B_B
    assert offline.document_timestamps[0].valid


def test_b_b_renewed_by_the_archive_validates_as_b_b(
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
) -> None:
    signed = _sign(one_field_pdf, demo_pki, "prezes", FIELDS[0], PadesLevel.B_B, service_urls)
    renewed = renew_archive_timestamp(signed, services=service_urls)
    report = validate_pdf(renewed, trust=trust_settings, offline=False)
    assert report.valid, [s.problems for s in report.signatures]
    assert report.signatures[0].pades_level is PadesLevel.B_B


# -- 9. the level is the structure, the verdict is separate ------------------------------


def test_b_t_validated_offline_is_indeterminate_but_still_b_t(
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
) -> None:
    b_t = _sign(one_field_pdf, demo_pki, "prezes", FIELDS[0], PadesLevel.B_T, service_urls)
    report = validate_pdf(b_t, trust=trust_settings)
    (signature,) = report.signatures
    assert not signature.valid
    assert signature.indication is Indication.INDETERMINATE
    assert signature.pades_level is PadesLevel.B_T
    assert report.pades_level is PadesLevel.B_T
    # Not even trusting the TSA changes the structure.
    untrusted = validate_pdf(b_t, trust=TrustSettings(trust_roots=(demo_pki.root_cert,)))
    assert untrusted.signatures[0].pades_level is PadesLevel.B_T


# -- 3. junk in the DSS ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["/OCSPs", "/CRLs", "/Certs"])
def test_junk_in_the_dss_is_skipped_and_reported_not_raised(
    kind: str,
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
) -> None:
    b_t = _sign(one_field_pdf, demo_pki, "prezes", FIELDS[0], PadesLevel.B_T, service_urls)
    junk = _with_junk_dss(b_t, kind)

    offline = validate_pdf(junk, trust=trust_settings)
    assert not offline.valid
    assert offline.signatures[0].indication is Indication.INDETERMINATE  # no data, as before
    assert any(f"{kind}[0]" in w for w in offline.warnings), offline.warnings
    assert offline.to_dict()["warnings"] == list(offline.warnings)

    online = validate_pdf(junk, trust=trust_settings, offline=False)
    assert online.valid, [s.problems for s in online.signatures]


def test_junk_in_the_dss_of_a_b_lta_document_is_not_an_exception(
    lta_two_signed: bytes, trust_settings: TrustSettings
) -> None:
    for kind in ("/OCSPs", "/CRLs", "/Certs"):
        report = validate_pdf(_with_junk_dss(lta_two_signed, kind), trust=trust_settings)
        assert report.warnings
        assert len(report.signatures) == 2


# -- 2. archive timestamps expire with their TSA certificate -----------------------------


def test_an_archive_timestamp_past_its_tsa_expiry_is_invalid_offline(
    one_field_pdf: bytes, short_tsa: DemoPki
) -> None:
    lta = _sign(
        one_field_pdf, short_tsa, "prezes", FIELDS[0], PadesLevel.B_LTA, short_tsa.service_urls()
    )
    trust = short_tsa.trust_settings()
    assert validate_pdf(lta, trust=trust).valid
    assert archive_timestamp_expiry(lta) == short_tsa.tsa_cert.not_valid_after

    future = datetime.now(UTC) + AFTER_SHORT_TSA
    assert short_tsa.tsa_cert.not_valid_after < future
    with freeze_time(future):
        report = validate_pdf(lta, trust=trust, when=future)
    assert not report.valid
    (timestamp,) = report.document_timestamps
    assert not timestamp.valid
    expired = short_tsa.tsa_cert.not_valid_after.isoformat()
    assert timestamp.problems == (
        f"archive timestamp expired on {expired}; renew before the TSA certificate expires",
    )


def test_renewed_with_a_newer_tsa_certificate_in_time_stays_valid(
    one_field_pdf: bytes,
    short_tsa: DemoPki,
    demo_pki: DemoPki,
    service_urls: ServiceUrls,
) -> None:
    lta = _sign(
        one_field_pdf, short_tsa, "prezes", FIELDS[0], PadesLevel.B_LTA, short_tsa.service_urls()
    )
    # The same TSA certificate again would expire at the same moment: pointless.
    with pytest.raises(ArchiveRenewalPointless, match="TSA's certificate must be renewed"):
        renew_archive_timestamp(lta, services=short_tsa.service_urls())
    assert issubclass(ArchiveRenewalPointless, SignatureError)

    renewed = renew_archive_timestamp(lta, services=service_urls)  # the long-lived TSA
    assert renewed.startswith(lta)
    assert archive_timestamp_expiry(renewed) == demo_pki.tsa_cert.not_valid_after
    trust = TrustSettings(
        trust_roots=(short_tsa.root_cert,),
        tsa_trust_roots=(short_tsa.tsa_cert, demo_pki.tsa_cert),
        other_certs=(short_tsa.intermediate_cert,),
    )
    future = datetime.now(UTC) + AFTER_SHORT_TSA
    with freeze_time(future):
        report = validate_pdf(renewed, trust=trust, when=future)
    assert report.valid, (
        [s.problems for s in report.signatures],
        [t.problems for t in report.document_timestamps],
    )
    assert report.signatures[0].pades_level is PadesLevel.B_LTA


# -- 12. archive_timestamp_expiry without document timestamps ----------------------------


def test_expiry_without_document_timestamps_is_the_earliest_signature_timestamp(
    prepared_pdf: bytes, short_tsa: DemoPki, demo_pki: DemoPki, service_urls: ServiceUrls
) -> None:
    first = _sign(
        prepared_pdf, short_tsa, "prezes", FIELDS[0], PadesLevel.B_T, short_tsa.service_urls()
    )
    both = _sign(first, demo_pki, "prezydent", FIELDS[1], PadesLevel.B_T, service_urls)
    # The newest signature timestamp lives 20 years, the first one 90 days: 90 days count.
    assert archive_timestamp_expiry(both) == short_tsa.tsa_cert.not_valid_after


def test_expiry_considers_the_tsa_issuer_found_in_the_dss(
    one_field_pdf: bytes, tmp_path: Path
) -> None:
    """A root that ends before its TSA certificate does, known only from the DSS."""
    pki, services = _pki(
        tmp_path, tsa_validity=timedelta(days=400), ca_validity=timedelta(days=300)
    )
    try:
        b_lt = _sign(one_field_pdf, pki, "prezes", FIELDS[0], PadesLevel.B_LT, pki.service_urls())
    finally:
        services.stop()
    assert pki.root_cert.not_valid_after < pki.tsa_cert.not_valid_after
    assert archive_timestamp_expiry(b_lt) == pki.root_cert.not_valid_after


def test_garbled_signature_contents_are_unreadable_not_a_crash(
    lta_two_signed: bytes, trust_settings: TrustSettings
) -> None:
    """Found by fuzzing the public verification endpoint: a few hex digits changed inside
    a signature's /Contents made pyHanko raise from places outside any finding."""
    import random

    from signatures import UnreadablePdf

    rng = random.Random(1234)  # noqa: S311  # a reproducible mutation, not a secret
    starts = [i for i in range(len(lta_two_signed)) if lta_two_signed.startswith(b"/Contents <", i)]
    outcomes = set()
    for start in starts:
        for _ in range(6):
            pdf = bytearray(lta_two_signed)
            at = start + len(b"/Contents <") + rng.randrange(1, 400)
            pdf[at : at + 4] = b"%04x" % rng.randrange(0x10000)
            try:
                report = validate_pdf(bytes(pdf), trust=trust_settings)
            except UnreadablePdf:
                outcomes.add("unreadable")
            else:
                outcomes.add("invalid" if not report.valid else "valid")
    assert outcomes <= {"unreadable", "invalid"}
    assert outcomes
