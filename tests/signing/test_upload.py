"""A PDF signed elsewhere and uploaded: accepted only as the awaited PDF plus exactly one
valid signature by the next signatory in their own field; anything else is refused with a
code and nothing changes. The Mayor's "desktop app" is pyHanko itself, signing with his key
from the demo PKI, as any PAdES tool would."""

from __future__ import annotations

import io
from typing import Any

import pytest

from signatures import PadesLevel, validate_pdf
from tests.letters import rybnik_letter
from tests.pdfsig import Pdfsig, assert_pdfsig_valid
from tests.signatures.tamper import add_page_text
from workflow import audit
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.documents.reading import get_document
from workflow.errors import ErrorCode, GuardRefused, InvalidInput
from workflow.identity.actors import Actor
from workflow.models import OutboxEntry
from workflow.review.transitions import transition
from workflow.runtime import Runtime
from workflow.signing.service import sign_with_demo_key
from workflow.signing.upload import accept_signed_pdf
from workflow.states import Status
from workflow.views import DocumentView


def awaiting_mayor(rt: Runtime, actors: dict[str, Actor], demo: DemoIds) -> DocumentView:
    """The Rybnik letter signed by the President of e-Izba (demo key), awaiting the Mayor."""
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    transition(rt, actor=actors["recenzent"], document_id=doc.id, action="approve")
    doc = transition(rt, actor=actors["autor"], document_id=doc.id, action="request_signatures")
    return sign_with_demo_key(
        rt, actor=actors["prezes"], document_id=doc.id,
        presented_pdf_sha256=doc.current_pdf_sha256 or "",
    )  # fmt: skip


def desktop_sign(
    rt: Runtime,
    pdf: bytes,
    *,
    key_id: str = "prezydent",
    field: str = "podpis-2",
    timestamp: bool = False,
    new_field: bool = False,
) -> bytes:
    """What the signatory's desktop PAdES app does: fill ``field`` incrementally with the
    key of ``key_id`` from the demo PKI (B-B, or B-T with the demo TSA)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps

    pki = rt.signing.demo_pki
    assert pki is not None
    signer = signers.SimpleSigner.load_pkcs12(
        str(pki.p12_path(key_id)), passphrase=pki.signatory(key_id).passphrase.encode()
    )
    assert signer is not None
    meta = signers.PdfSignatureMetadata(
        field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    tsa = timestamps.HTTPTimeStamper(pki.tsa_url) if timestamp else None
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    spec = fields.SigFieldSpec(field, box=(10, 10, 100, 50)) if new_field else None
    pdf_signer = signers.PdfSigner(meta, signer, timestamper=tsa, new_field_spec=spec)
    out = pdf_signer.sign_pdf(writer, existing_fields_only=not new_field)
    return bytes(out.getvalue())


def _state(rt: Runtime, actor: Actor, doc_id: int) -> tuple[Any, ...]:
    view = get_document(rt, actor=actor, document_id=doc_id)
    with transaction(rt.sessions) as s:
        records = len(audit.export(s, document_id=doc_id))
        effects = s.query(OutboxEntry).count()
    return (view.status, view.current_pdf_sha256, view.lock_version, records, effects)


def test_the_mayors_pdf_signed_in_his_desktop_app_is_accepted_and_raised_to_b_lta(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, pdfsig_app: Pdfsig
) -> None:
    doc = awaiting_mayor(rt, actors, demo)
    awaited = rt.blobs.get(doc.current_pdf_sha256 or "")
    signed = desktop_sign(rt, awaited, timestamp=True)  # B-T, with his provider's TSA

    result = accept_signed_pdf(rt, actor=actors["prezydent"], document_id=doc.id, pdf=signed)

    assert result.document.status == Status.SIGNED
    assert result.extended and result.level == "B-LTA"
    stored = rt.blobs.get(result.document.current_pdf_sha256 or "")
    assert stored.startswith(signed)  # the upload, unchanged, plus DSS + archive timestamp
    report = validate_pdf(stored, trust=rt.signing.trust)
    assert report.valid, [(s.field_name, s.problems) for s in report.signatures]
    assert [s.signer for s in report.signatures] == ["Patrycja Sass-Staniszewska", "Piotr Kuczera"]
    assert report.signatures[1].pades_level == PadesLevel.B_LTA
    assert result.report.valid and result.report.sha256 == result.document.current_pdf_sha256
    assert_pdfsig_valid(pdfsig_app(stored), 2)
    with transaction(rt.sessions) as s:
        sign = [r for r in audit.export(s, document_id=doc.id) if r["action"] == "document.sign"]
        assert audit.verify(s).ok
        effects = [e.effect for e in s.query(OutboxEntry).filter_by(document_id=doc.id)]
    assert sign[-1]["payload"]["method"] == "upload"
    assert sign[-1]["payload"]["signer"] == "Piotr Kuczera"
    assert effects  # the "signed" notice went to the outbox with the signature


def test_a_b_b_upload_is_refused_at_b_lta_because_it_would_not_stay_valid(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    """What happens if the server accepts a B-B upload and adds validation data and an
    archive timestamp anyway: valid today, invalid in a month (the B-B signature is validated
    at the current time, with revocation data that has gone stale). So it is refused."""
    from datetime import UTC, datetime, timedelta

    from signatures.received import raise_level

    doc = awaiting_mayor(rt, actors, demo)
    awaited = rt.blobs.get(doc.current_pdf_sha256 or "")
    signed = desktop_sign(rt, awaited)  # B-B: no signature timestamp
    env = rt.signing
    assert env.services is not None
    extended = raise_level(signed, level=env.level, trust=env.trust, services=env.services)
    assert validate_pdf(extended, trust=env.trust).valid
    later = validate_pdf(extended, trust=env.trust, when=datetime.now(UTC) + timedelta(days=30))
    assert not later.signatures[1].valid and later.signatures[1].pades_level == PadesLevel.B_B

    before = _state(rt, actors["prezydent"], doc.id)
    with pytest.raises(InvalidInput) as refused:
        accept_signed_pdf(rt, actor=actors["prezydent"], document_id=doc.id, pdf=signed)
    assert refused.value.code == ErrorCode.SIGNED_UPLOAD_NEEDS_TIMESTAMP
    assert "B-T" in refused.value.message("pl")
    assert _state(rt, actors["prezydent"], doc.id) == before


def test_a_b_t_upload_keeps_validating_a_year_later(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    from datetime import UTC, datetime, timedelta

    doc = awaiting_mayor(rt, actors, demo)
    awaited = rt.blobs.get(doc.current_pdf_sha256 or "")
    result = accept_signed_pdf(
        rt, actor=actors["prezydent"], document_id=doc.id,
        pdf=desktop_sign(rt, awaited, timestamp=True),
    )  # fmt: skip
    stored = rt.blobs.get(result.document.current_pdf_sha256 or "")
    later = validate_pdf(
        stored, trust=rt.signing.trust, when=datetime.now(UTC) + timedelta(days=400)
    )
    assert later.valid, [(s.field_name, s.problems) for s in later.signatures]


def _empty_update(pdf: bytes) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _flip_in_prefix(rt: Runtime, pdf: bytes) -> bytes:
    signed = bytearray(desktop_sign(rt, pdf))
    at = len(pdf) // 3
    signed[at] = ord("A") if signed[at] != ord("A") else ord("B")
    return bytes(signed)


REFUSALS = {
    "wrong_person": (lambda rt, pdf: desktop_sign(rt, pdf, key_id="wojt"),
                     ErrorCode.SIGNED_UPLOAD_WRONG_SIGNER),
    "changed_content": (lambda rt, pdf: desktop_sign(rt, add_page_text(pdf)),
                        ErrorCode.SIGNED_UPLOAD_CONTENT_CHANGED),
    "altered_prefix": (_flip_in_prefix, ErrorCode.SIGNED_UPLOAD_NOT_AN_UPDATE),
    "wrong_field": (lambda rt, pdf: desktop_sign(rt, pdf, field="Podpis1", new_field=True),
                    ErrorCode.SIGNED_UPLOAD_WRONG_FIELD),
    "two_signatures": (
        lambda rt, pdf: desktop_sign(
            rt, desktop_sign(rt, pdf), field="Podpis-dodatkowy", new_field=True
        ),
        ErrorCode.SIGNED_UPLOAD_SEVERAL_SIGNATURES,
    ),
    "no_signature": (lambda rt, pdf: _empty_update(pdf), ErrorCode.SIGNED_UPLOAD_NO_SIGNATURE),
    "the_awaited_pdf_itself": (lambda rt, pdf: pdf, ErrorCode.SIGNED_UPLOAD_NO_SIGNATURE),
    "not_a_pdf": (lambda rt, pdf: b"PK\x03\x04 a zip, not a PDF", ErrorCode.NOT_A_PDF),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSALS))
def test_anything_else_is_refused_and_nothing_changes(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, case: str
) -> None:
    doc = awaiting_mayor(rt, actors, demo)
    awaited = rt.blobs.get(doc.current_pdf_sha256 or "")
    make, code = REFUSALS[case]
    upload = make(rt, awaited)
    before = _state(rt, actors["prezydent"], doc.id)
    with pytest.raises(InvalidInput) as refused:
        accept_signed_pdf(rt, actor=actors["prezydent"], document_id=doc.id, pdf=upload)
    assert refused.value.code == code, refused.value.reason
    assert refused.value.field == "file"
    assert refused.value.message("pl") != refused.value.message("en")
    assert _state(rt, actors["prezydent"], doc.id) == before


def test_only_the_next_signatory_may_upload(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    transition(rt, actor=actors["recenzent"], document_id=doc.id, action="approve")
    doc = transition(rt, actor=actors["autor"], document_id=doc.id, action="request_signatures")
    frozen = rt.blobs.get(doc.current_pdf_sha256 or "")
    # The Mayor signs his own field before the President of e-Izba has signed hers.
    early = desktop_sign(rt, frozen)
    before = _state(rt, actors["prezydent"], doc.id)
    with pytest.raises(GuardRefused) as refused:
        accept_signed_pdf(rt, actor=actors["prezydent"], document_id=doc.id, pdf=early)
    assert refused.value.code == "not_your_turn"
    assert _state(rt, actors["prezydent"], doc.id) == before
