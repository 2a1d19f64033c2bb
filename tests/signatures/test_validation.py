"""Validation for everyone: tampering is caught, garbage is refused, reports are JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from signatures import (
    Indication,
    Pkcs12Key,
    TrustSettings,
    UnreadablePdf,
    validate_pdf,
)
from signatures.pki import DemoPki
from tests.pdfsig import PdfsigResult, assert_pdfsig_valid
from tests.signatures.conftest import FIELDS
from tests.signatures.tamper import (
    add_page_text,
    flip_byte_in_signed_content,
    sign_new_field_with_pyhanko,
)


def test_flipped_byte_is_invalid_for_us_and_for_pdfsig(
    lta_two_signed: bytes,
    trust_settings: TrustSettings,
    pdfsig: Callable[[bytes], PdfsigResult],
) -> None:
    tampered = flip_byte_in_signed_content(lta_two_signed)
    report = validate_pdf(tampered, trust=trust_settings)
    assert not report.valid
    assert all(not s.intact for s in report.signatures)
    assert all(s.indication is Indication.FAILED for s in report.signatures)
    assert all(s.pades_level is None for s in report.signatures)
    assert any("digest mismatch" in p for p in report.signatures[0].problems)
    checked = pdfsig(tampered)
    assert checked.regular
    assert all(not s.valid for s in checked.regular), checked.output
    assert "Digest Mismatch" in checked.output


def test_text_added_by_an_incremental_update_is_invalid(
    lta_two_signed: bytes,
    trust_settings: TrustSettings,
    pdfsig: Callable[[bytes], PdfsigResult],
) -> None:
    tampered = add_page_text(lta_two_signed)
    report = validate_pdf(tampered, trust=trust_settings)
    assert not report.valid
    for signature in report.signatures:
        assert signature.intact  # the signed bytes are untouched...
        assert signature.modification_level == "OTHER"  # ...but the page was changed
        assert signature.modifications_permitted is False
        assert not signature.valid
    # pdfsig does not notice (a known limitation, see notes/signing.md): it still says valid.
    assert_pdfsig_valid(pdfsig(tampered), 2)


def test_a_signature_added_after_the_final_lock_is_invalid(
    lta_two_signed: bytes,
    trust_settings: TrustSettings,
    signer_keys: dict[str, Pkcs12Key],
    pdfsig: Callable[[bytes], PdfsigResult],
) -> None:
    extra = sign_new_field_with_pyhanko(lta_two_signed, signer_keys["prezes"].signer())
    report = validate_pdf(extra, trust=trust_settings)
    assert not report.valid
    by_field = {s.field_name: s for s in report.signatures}
    assert by_field[FIELDS[1]].locks_document
    assert by_field[FIELDS[1]].modifications_permitted is False
    assert not by_field[FIELDS[1]].valid
    # pdfsig checks bytes only: every signature is intact, the lock is not its business.
    assert_pdfsig_valid(pdfsig(extra), 3)


def test_garbage_is_unreadable_and_an_unsigned_pdf_is_reported_not_valid(
    sample_pdf: bytes, trust_settings: TrustSettings
) -> None:
    for garbage in (b"", b"hello", b"%PDF-1.7\n garbage without structure", b"\x00" * 100):
        with pytest.raises(UnreadablePdf):
            validate_pdf(garbage, trust=trust_settings)
    report = validate_pdf(sample_pdf, trust=trust_settings)
    assert report.signatures == ()
    assert not report.valid


def test_untrusted_root_makes_signatures_invalid_not_an_exception(
    lta_two_signed: bytes, demo_pki: DemoPki
) -> None:
    stranger = TrustSettings(trust_roots=(demo_pki.ocsp_cert,))
    report = validate_pdf(lta_two_signed, trust=stranger)
    assert not report.valid
    assert all(not s.trusted for s in report.signatures)
    assert all(s.intact for s in report.signatures)


def test_report_is_json_ready(lta_two_signed: bytes, trust_settings: TrustSettings) -> None:
    report = validate_pdf(lta_two_signed, trust=trust_settings)
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert data["valid"] is True
    assert data["pades_level"] == "B-LTA"
    assert data["signatures"][1]["certificate"]["common_name"] == "Piotr Kuczera"
    assert data["signatures"][0]["timestamp"]["tsa"].startswith("estrategia DEMO TSA")
    assert len(data["document_timestamps"]) == 2
    assert data["document_id"] == report.document_id


def test_a_pdf_signed_elsewhere_is_validated_too(
    sample_pdf: bytes,
    demo_pki: DemoPki,
    trust_settings: TrustSettings,
    demo_services: object,
    pdfsig: Callable[[bytes], PdfsigResult],
) -> None:
    """Plain pyHanko, adbe.pkcs7.detached, its own field: not ours, still checkable."""
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    signer = signers.SimpleSigner.load_pkcs12(
        str(demo_pki.p12_path("prezydent")), passphrase=b"prezydent-demo"
    )
    assert signer is not None
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(sample_pdf)),
        signers.PdfSignatureMetadata(field_name="Signature1"),
        signer=signer,
    )
    report = validate_pdf(out.getvalue(), trust=trust_settings, offline=False)
    (signature,) = report.signatures
    assert signature.valid, signature.problems
    assert signature.signer == "Piotr Kuczera"
    assert signature.pades_level is None  # not PAdES (adbe.pkcs7.detached)
    assert signature.covers_whole_document
    assert_pdfsig_valid(pdfsig(out.getvalue()), 1)
