"""Signing: each official with their own key, in order, at every PAdES level."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from signatures import (
    CertificateProblem,
    CertificateReason,
    FieldProblem,
    FieldSpec,
    KeyAccessError,
    PadesLevel,
    Pkcs12Key,
    ServiceUrls,
    TimestampUnavailable,
    TrustSettings,
    UnreadablePdf,
    list_signature_fields,
    prepare_for_signing,
    sign_pdf,
    validate_pdf,
)
from signatures.pki import DemoPki
from tests.pdfsig import PdfsigResult, assert_pdfsig_valid
from tests.signatures.conftest import FIELDS
from tests.support import free_port


def _sign(
    pdf: bytes,
    key_id: str,
    field: str,
    *,
    demo_pki: DemoPki,
    keys: dict[str, Pkcs12Key],
    trust: TrustSettings,
    services: ServiceUrls | None,
    level: PadesLevel = PadesLevel.B_LTA,
) -> bytes:
    return sign_pdf(
        pdf,
        key=keys[key_id],
        field_name=field,
        profile=demo_pki.signatory(key_id).profile(),
        trust=trust,
        level=level,
        services=services,
    )


@pytest.mark.parametrize("level", list(PadesLevel))
def test_each_level_validates(
    level: PadesLevel,
    prepared_pdf: bytes,
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    signer_keys: dict[str, Pkcs12Key],
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
    pdfsig: Callable[[bytes], PdfsigResult],
) -> None:
    # B-B only where the signatory is the only one
    signed = _sign(
        one_field_pdf if level is PadesLevel.B_B else prepared_pdf,
        "prezes",
        FIELDS[0],
        demo_pki=demo_pki,
        keys=signer_keys,
        trust=trust_settings,
        services=service_urls,
        level=level,
    )
    # B-LT and B-LTA validate offline from embedded data; B-B and B-T carry none, so the
    # validator fetches OCSP/CRL from the demo services.
    report = validate_pdf(signed, trust=trust_settings, offline=level.long_term)
    (signature,) = report.signatures
    assert signature.valid, signature.problems
    assert signature.pades_level is level
    assert signature.signer == "Patrycja Sass-Staniszewska"
    assert signature.certification == ("NO_CHANGES" if level is PadesLevel.B_B else "FILL_FORMS")
    assert signature.revocation.value == "good"
    assert (signature.timestamp is not None) == level.timestamped
    assert len(report.document_timestamps) == (1 if level is PadesLevel.B_LTA else 0)
    assert report.valid
    assert_pdfsig_valid(pdfsig(signed), 1)


def test_long_term_levels_validate_offline_and_short_ones_need_the_network(
    prepared_pdf: bytes,
    demo_pki: DemoPki,
    signer_keys: dict[str, Pkcs12Key],
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
    pdfsig: Callable[[bytes], PdfsigResult],
) -> None:
    b_t = _sign(
        prepared_pdf,
        "prezes",
        FIELDS[0],
        demo_pki=demo_pki,
        keys=signer_keys,
        trust=trust_settings,
        services=service_urls,
        level=PadesLevel.B_T,
    )
    offline = validate_pdf(b_t, trust=trust_settings)  # hard-fail: no revocation data
    assert not offline.valid
    assert offline.signatures[0].revocation.value == "unknown"
    assert validate_pdf(b_t, trust=trust_settings, offline=False).valid
    assert_pdfsig_valid(pdfsig(b_t), 1)


def test_two_signatories_in_order_certify_then_lock(
    lta_two_signed: bytes,
    trust_settings: TrustSettings,
    pdfsig: Callable[[bytes], PdfsigResult],
) -> None:
    report = validate_pdf(lta_two_signed, trust=trust_settings)
    assert report.valid
    first, second = report.signatures
    assert (first.field_name, first.signer) == (FIELDS[0], "Patrycja Sass-Staniszewska")
    assert (second.field_name, second.signer) == (FIELDS[1], "Piotr Kuczera")
    assert first.certification == "FILL_FORMS"
    assert not first.locks_document
    assert second.certification is None
    assert second.locks_document
    assert first.modification_level == "FORM_FILLING"  # the mayor's signature came later
    assert second.modification_level == "LTA_UPDATES"  # only DSS + archive timestamp
    assert all(s.pades_level is PadesLevel.B_LTA for s in report.signatures)
    assert report.pades_level is PadesLevel.B_LTA
    assert len(report.document_timestamps) == 2
    assert all(t.valid for t in report.document_timestamps)
    assert [f.signed for f in list_signature_fields(lta_two_signed) if f.position is not None] == [
        True,
        True,
    ]
    assert_pdfsig_valid(pdfsig(lta_two_signed), 2)


def test_visible_stamps_carry_polish_text_on_the_last_page(
    lta_two_signed: bytes, sample_pdf: bytes, tmp_path: Path
) -> None:
    def last_page_text(pdf: bytes) -> str:
        path = tmp_path / "doc.pdf"
        path.write_bytes(pdf)
        return subprocess.run(
            ["pdftotext", "-f", "2", "-l", "2", "-enc", "UTF-8", str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    assert "Prezydent Miasta Rybnika" not in last_page_text(sample_pdf)
    text = last_page_text(lta_two_signed)
    for expected in (
        "Podpisano elektronicznie",
        "Patrycja Sass-Staniszewska",
        "Prezes Zarządu e-Izby",
        "Piotr Kuczera",
        "Prezydent Miasta Rybnika",
        "Identyfikator dokumentu:",
    ):
        assert expected in text
    report = validate_pdf(lta_two_signed, trust=TrustSettings(trust_roots=()))
    assert f"Identyfikator dokumentu: {report.document_id}" in text
    assert " CET" in text or " CEST" in text  # Europe/Warsaw time


def test_signing_out_of_order_is_a_field_problem(
    prepared_pdf: bytes,
    demo_pki: DemoPki,
    signer_keys: dict[str, Pkcs12Key],
    trust_settings: TrustSettings,
) -> None:
    with pytest.raises(FieldProblem, match="out of order") as caught:
        _sign(
            prepared_pdf,
            "prezydent",
            FIELDS[1],
            demo_pki=demo_pki,
            keys=signer_keys,
            trust=trust_settings,
            services=None,
            level=PadesLevel.B_B,
        )
    assert caught.value.field == FIELDS[1]


def test_signing_an_already_signed_field_is_a_field_problem(
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    signer_keys: dict[str, Pkcs12Key],
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,  # OCSP for the check before signing
    pdfsig: Callable[[bytes], PdfsigResult],
) -> None:
    once = _sign(
        one_field_pdf,
        "prezes",
        FIELDS[0],
        demo_pki=demo_pki,
        keys=signer_keys,
        trust=trust_settings,
        services=None,
        level=PadesLevel.B_B,
    )
    assert_pdfsig_valid(pdfsig(once), 1)
    with pytest.raises(FieldProblem, match="already signed"):
        _sign(
            once,
            "prezes",
            FIELDS[0],
            demo_pki=demo_pki,
            keys=signer_keys,
            trust=trust_settings,
            services=None,
            level=PadesLevel.B_B,
        )


def test_no_such_field_and_locked_document_are_field_problems(
    prepared_pdf: bytes,
    lta_two_signed: bytes,
    demo_pki: DemoPki,
    signer_keys: dict[str, Pkcs12Key],
    trust_settings: TrustSettings,
) -> None:
    with pytest.raises(FieldProblem, match="no such signature field"):
        _sign(
            prepared_pdf,
            "prezes",
            "podpis-nieznany",
            demo_pki=demo_pki,
            keys=signer_keys,
            trust=trust_settings,
            services=None,
            level=PadesLevel.B_B,
        )
    with pytest.raises(FieldProblem, match="already signed"):
        _sign(
            lta_two_signed,
            "prezydent",
            FIELDS[1],
            demo_pki=demo_pki,
            keys=signer_keys,
            trust=trust_settings,
            services=None,
            level=PadesLevel.B_B,
        )


def test_prepare_for_signing_refuses_bad_specs(sample_pdf: bytes, prepared_pdf: bytes) -> None:
    with pytest.raises(FieldProblem):
        prepare_for_signing(sample_pdf, [FieldSpec("a"), FieldSpec("a")])
    with pytest.raises(FieldProblem, match="page"):
        prepare_for_signing(sample_pdf, [FieldSpec("a", page=7)])
    with pytest.raises(FieldProblem, match="already exists"):
        prepare_for_signing(prepared_pdf, [FieldSpec(FIELDS[0])])
    with pytest.raises(UnreadablePdf):
        prepare_for_signing(b"not a pdf at all", [FieldSpec("a")])
    infos = list_signature_fields(prepared_pdf)
    assert [(f.name, f.position, f.signed, f.locks_document) for f in infos] == [
        (FIELDS[0], 0, False, False),
        (FIELDS[1], 1, False, True),
    ]


def test_wrong_passphrase_is_a_key_access_error_and_input_is_unchanged(
    prepared_pdf: bytes, demo_pki: DemoPki
) -> None:
    before = hashlib.sha256(prepared_pdf).hexdigest()
    with pytest.raises(KeyAccessError, match="passphrase"):
        Pkcs12Key.from_file(demo_pki.p12_path("prezes"), "zle-haslo")
    with pytest.raises(KeyAccessError):
        Pkcs12Key.from_file(demo_pki.directory / "nie-ma.p12", "x")
    assert hashlib.sha256(prepared_pdf).hexdigest() == before


@pytest.mark.parametrize(
    ("key_id", "reason"),
    [("expired", CertificateReason.EXPIRED), ("revoked", CertificateReason.REVOKED)],
)
def test_expired_or_revoked_certificate_is_refused_before_signing(
    key_id: str,
    reason: CertificateReason,
    prepared_pdf: bytes,
    demo_pki: DemoPki,
    signer_keys: dict[str, Pkcs12Key],
    trust_settings: TrustSettings,
    service_urls: ServiceUrls,
) -> None:
    key = signer_keys[key_id]
    calls: list[bytes] = []
    signer = key.signer()
    original = signer.sign_raw  # type: ignore[attr-defined]  # SimpleSigner API, not Signer

    def counting_sign_raw(data: bytes, digest_algorithm: str) -> bytes:
        calls.append(data)
        result: bytes = original(data, digest_algorithm)
        return result

    # A spy on our own loaded key (not a mock): records any use of the private key.
    signer.sign_raw = counting_sign_raw  # type: ignore[attr-defined]  # instance override
    try:
        with pytest.raises(CertificateProblem) as caught:
            _sign(
                prepared_pdf,
                key_id,
                FIELDS[0],
                demo_pki=demo_pki,
                keys=signer_keys,
                trust=trust_settings,
                services=service_urls,
            )
    finally:
        del signer.sign_raw  # type: ignore[attr-defined]  # back to the class method
    assert caught.value.reason is reason
    assert calls == []  # the key was never used


def test_tsa_down_is_timestamp_unavailable_and_nothing_is_returned(
    prepared_pdf: bytes,
    demo_pki: DemoPki,
    signer_keys: dict[str, Pkcs12Key],
    trust_settings: TrustSettings,
    demo_services: object,
) -> None:
    dead = ServiceUrls(tsa_url=f"http://127.0.0.1:{free_port()}/tsa", timeout=2)
    for level in (PadesLevel.B_T, PadesLevel.B_LTA):
        with pytest.raises(TimestampUnavailable):
            _sign(
                prepared_pdf,
                "prezes",
                FIELDS[0],
                demo_pki=demo_pki,
                keys=signer_keys,
                trust=trust_settings,
                services=dead,
                level=level,
            )
    with pytest.raises(TimestampUnavailable, match="needs a TSA"):
        _sign(
            prepared_pdf,
            "prezes",
            FIELDS[0],
            demo_pki=demo_pki,
            keys=signer_keys,
            trust=trust_settings,
            services=None,
            level=PadesLevel.B_T,
        )


def test_untrusted_root_is_refused(
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    signer_keys: dict[str, Pkcs12Key],
) -> None:
    other_roots = TrustSettings(trust_roots=(demo_pki.tsa_cert,))
    with pytest.raises(CertificateProblem) as caught:
        _sign(
            one_field_pdf,
            "prezes",
            FIELDS[0],
            demo_pki=demo_pki,
            keys=signer_keys,
            trust=other_roots,
            services=None,
            level=PadesLevel.B_B,
        )
    assert caught.value.reason is CertificateReason.UNTRUSTED
