"""Signing in the workflow: freeze, sign in order on the exact PDF, validate what was signed."""

from __future__ import annotations

import base64
import subprocess

import pytest

from signatures import ExternalSignatureProblem, PadesLevel, list_signature_fields, validate_pdf
from tests.letters import rybnik_letter
from tests.pdfsig import Pdfsig, assert_pdfsig_valid
from workflow import audit
from workflow.archive.archiving import archive_with_view
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.documents.reading import get_document
from workflow.documents.rendition import get_file
from workflow.errors import ErrorCode, GuardRefused, NotPermitted, TransitionNotAllowed
from workflow.identity.actors import Actor
from workflow.review.transitions import transition
from workflow.runtime import Runtime
from workflow.signing.service import (
    begin_external_signature,
    complete_external_signature,
    sign_with_demo_key,
)
from workflow.states import Refusal, Status
from workflow.views import DocumentView


def _awaiting(rt: Runtime, actors: dict[str, Actor], demo: DemoIds) -> DocumentView:
    doc = rybnik_letter(rt, actors, demo)
    transition(rt, actor=actors["autor"], document_id=doc.id, action="submit")
    transition(rt, actor=actors["recenzent"], document_id=doc.id, action="approve")
    return transition(rt, actor=actors["autor"], document_id=doc.id, action="request_signatures")


def test_request_signatures_freezes_the_approved_pdf_with_every_field(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = _awaiting(rt, actors, demo)
    assert doc.status == Status.AWAITING_SIGNATURES
    frozen = rt.blobs.get(doc.frozen_pdf_sha256 or "")
    approved = rt.blobs.get(doc.current_version.pdf_sha256 or "")
    assert frozen.startswith(approved)  # an incremental update of exactly what was approved
    fields = list_signature_fields(frozen)
    assert [(f.name, f.signed) for f in fields] == [("podpis-1", False), ("podpis-2", False)]
    with transaction(rt.sessions) as s:
        record = audit.export(s, document_id=doc.id)[-1]
    assert record["action"] == "document.request_signatures"
    assert record["payload"]["approved_pdf_sha256"] == doc.current_version.pdf_sha256


def test_officials_sign_in_order_on_the_exact_pdf(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, pdfsig_app: Pdfsig
) -> None:
    doc = _awaiting(rt, actors, demo)
    frozen_sha = doc.current_pdf_sha256 or ""
    with pytest.raises(GuardRefused) as refused:
        sign_with_demo_key(
            rt, actor=actors["prezydent"], document_id=doc.id, presented_pdf_sha256=frozen_sha
        )
    assert refused.value.code == Refusal.NOT_YOUR_TURN
    with pytest.raises(GuardRefused) as refused:
        sign_with_demo_key(
            rt, actor=actors["prezes"], document_id=doc.id, presented_pdf_sha256="0" * 64
        )
    assert refused.value.code == Refusal.PDF_DIFFERS
    with pytest.raises(NotPermitted):
        sign_with_demo_key(
            rt, actor=actors["autor"], document_id=doc.id, presented_pdf_sha256=frozen_sha
        )
    assert (
        get_document(rt, actor=actors["autor"], document_id=doc.id).lock_version == doc.lock_version
    )

    first = sign_with_demo_key(
        rt, actor=actors["prezes"], document_id=doc.id, presented_pdf_sha256=frozen_sha
    )
    assert first.status == Status.AWAITING_SIGNATURES
    assert first.signatories[0].signed_at is not None and first.signatories[1].signed_at is None
    with pytest.raises(GuardRefused) as refused:  # the frozen PDF is stale now
        sign_with_demo_key(
            rt, actor=actors["prezydent"], document_id=doc.id, presented_pdf_sha256=frozen_sha
        )
    assert refused.value.code == Refusal.PDF_DIFFERS
    final = sign_with_demo_key(
        rt, actor=actors["prezydent"], document_id=doc.id,
        presented_pdf_sha256=first.current_pdf_sha256 or "",
    )  # fmt: skip
    assert final.status == Status.SIGNED

    pdf, name, _ = get_file(
        rt, actor=actors["prezydent"], document_id=doc.id, version=None, fmt="signed"
    )
    assert name.endswith("-podpisany.pdf")
    report = validate_pdf(pdf, trust=rt.signing.trust)
    assert report.valid, [s.problems for s in report.signatures]
    assert [s.signer for s in report.signatures] == ["Patrycja Sass-Staniszewska", "Piotr Kuczera"]
    assert report.pades_level == PadesLevel.B_LTA
    assert report.signatures[0].certification is not None and report.signatures[1].locks_document
    assert_pdfsig_valid(pdfsig_app(pdf), 2)
    stamps = subprocess.run(
        ["pdftotext", "-f", "3", "-l", "3", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "Prezydent Miasta Rybnika" in stamps and "Prezes Zarządu e-Izby" in stamps

    with pytest.raises(TransitionNotAllowed):
        sign_with_demo_key(
            rt, actor=actors["prezydent"], document_id=doc.id,
            presented_pdf_sha256=final.current_pdf_sha256 or "",
        )  # fmt: skip
    with transaction(rt.sessions) as s:
        signs = [r for r in audit.export(s, document_id=doc.id) if r["action"] == "document.sign"]
        assert audit.verify(s).ok
    assert [r["payload"]["signer"] for r in signs] == [
        "Patrycja Sass-Staniszewska",
        "Piotr Kuczera",
    ]
    assert signs[1]["payload"]["level"] == "B-LTA" and signs[1]["payload"]["to_status"] == "signed"
    assert "CN=Piotr Kuczera" in signs[1]["payload"]["certificate"]["subject"] or (
        "Piotr Kuczera" in signs[1]["payload"]["certificate"]["subject"]
    )

    archived = archive_with_view(rt, actor=actors["archiwista"], document_id=doc.id)
    assert archived.document.status == Status.ARCHIVED


def _sign_digest_as_a_card(rt: Runtime, key_id: str, digest_b64: str) -> bytes:
    """What a smart card does: a raw signature over the SHA-256 it is sent."""
    pki = rt.signing.demo_pki
    assert pki is not None
    return pki.sign_digest_as_card(key_id, base64.b64decode(digest_b64))


def test_external_signing_never_needs_the_key_on_the_server(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, pdfsig_app: Pdfsig
) -> None:
    doc = _awaiting(rt, actors, demo)
    pki = rt.signing.demo_pki
    assert pki is not None
    chain = b"".join(pki.cert_path(n).read_bytes() for n in ("prezes", "intermediate", "root"))
    with pytest.raises(GuardRefused) as refused:
        begin_external_signature(
            rt, actor=actors["prezes"], document_id=doc.id,
            presented_pdf_sha256=doc.current_pdf_sha256 or "",
            certificate_chain=pki.cert_path("prezydent").read_bytes(),
        )  # fmt: skip
    assert refused.value.code == ErrorCode.CERTIFICATE_NOT_DESIGNATED
    assert refused.value.params["certificate_name"] == "Piotr Kuczera"
    step = begin_external_signature(
        rt, actor=actors["prezes"], document_id=doc.id,
        presented_pdf_sha256=doc.current_pdf_sha256 or "", certificate_chain=chain,
    )  # fmt: skip
    assert step.field_name == "podpis-1" and step.level == "B-LTA"

    before = get_document(rt, actor=actors["prezes"], document_id=doc.id)
    with pytest.raises(ExternalSignatureProblem):  # a value that does not verify
        complete_external_signature(
            rt, actor=actors["prezes"], document_id=doc.id, session_id=step.session_id,
            signature_value=b"\x00" * 256,
        )  # fmt: skip
    after = get_document(rt, actor=actors["prezes"], document_id=doc.id)
    assert (after.current_pdf_sha256, after.lock_version) == (
        before.current_pdf_sha256, before.lock_version,
    )  # fmt: skip

    value = _sign_digest_as_a_card(rt, "prezes", step.digest_to_sign)
    signed = complete_external_signature(
        rt, actor=actors["prezes"], document_id=doc.id, session_id=step.session_id,
        signature_value=value,
    )  # fmt: skip
    assert signed.signatories[0].signed_at is not None
    signed_pdf = rt.blobs.get(signed.current_pdf_sha256 or "")
    report = validate_pdf(signed_pdf, trust=rt.signing.trust)
    assert report.signatures[0].signer == "Patrycja Sass-Staniszewska"
    assert_pdfsig_valid(pdfsig_app(signed_pdf), 1)
    assert report.signatures[0].intact and report.signatures[0].trusted


def test_archive_timestamps_due_for_renewal_are_found(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, pdfsig_app: Pdfsig
) -> None:
    from datetime import timedelta

    from signatures import archive_timestamp_expiry
    from workflow.signing.renewal import renew_due_timestamps

    doc = _awaiting(rt, actors, demo)
    for who in ("prezes", "prezydent"):
        doc = sign_with_demo_key(
            rt, actor=actors[who], document_id=doc.id,
            presented_pdf_sha256=doc.current_pdf_sha256 or "",
        )  # fmt: skip
    signed = rt.blobs.get(doc.current_pdf_sha256 or "")
    # The demo TSA certificate lives 20 years: nothing is due within one year...
    assert renew_due_timestamps(rt, margin=timedelta(days=365)) == ([], [])
    # ...and within 25 years everything is, but a new timestamp from the same TSA
    # certificate would expire no later: the operator is told, nothing is changed.
    renewed, blocked = renew_due_timestamps(rt, margin=timedelta(days=365 * 25))
    assert renewed == []
    assert [b.document_id for b in blocked] == [doc.id]
    assert "TSA" in blocked[0].reason
    assert blocked[0].expires_at == archive_timestamp_expiry(signed)
    after = get_document(rt, actor=actors["prezes"], document_id=doc.id)
    assert after.current_pdf_sha256 == doc.current_pdf_sha256
    assert validate_pdf(signed, trust=rt.signing.trust).valid
    assert_pdfsig_valid(pdfsig_app(signed), 2)


def test_a_signature_with_someone_elses_certificate_is_not_stored(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    from workflow.signing.service import sign_with_key

    doc = _awaiting(rt, actors, demo)
    doc = sign_with_demo_key(
        rt, actor=actors["prezes"], document_id=doc.id,
        presented_pdf_sha256=doc.current_pdf_sha256 or "",
    )  # fmt: skip
    with pytest.raises(GuardRefused) as refused:
        sign_with_key(
            rt, actor=actors["prezydent"], document_id=doc.id,
            presented_pdf_sha256=doc.current_pdf_sha256 or "",
            key=rt.signing.demo_key(actors["prezes"].email),
        )  # fmt: skip
    assert refused.value.code == ErrorCode.CERTIFICATE_NOT_DESIGNATED
    assert refused.value.params["certificate_name"] == "Patrycja Sass-Staniszewska"
    after = get_document(rt, actor=actors["prezydent"], document_id=doc.id)
    assert after.current_pdf_sha256 == doc.current_pdf_sha256
    assert after.lock_version == doc.lock_version
    assert after.signatories[1].signed_at is None


def test_a_tsa_that_is_down_leaves_the_document_as_it_was(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    from signatures import ServiceUrls, TimestampUnavailable
    from tests.support import free_port
    from workflow.runtime import SigningEnvironment, build_runtime

    doc = _awaiting(rt, actors, demo)
    live = rt.signing
    # The same PKI and keys, but the TSA address answers nothing.
    dead_tsa = SigningEnvironment(
        trust=live.trust,
        services=ServiceUrls(tsa_url=f"http://127.0.0.1:{free_port()}/tsa", timeout=2),
        level=live.level,
        demo_pki=live.demo_pki,
        demo_key_ids=live.demo_key_ids,
    )
    cut_off = build_runtime(rt.settings, converter=rt.converter, signing=dead_tsa)
    try:
        with pytest.raises(TimestampUnavailable):
            sign_with_demo_key(
                cut_off, actor=actors["prezes"], document_id=doc.id,
                presented_pdf_sha256=doc.current_pdf_sha256 or "",
            )  # fmt: skip
    finally:
        cut_off.close()
        dead_tsa.close()
    after = get_document(rt, actor=actors["prezes"], document_id=doc.id)
    assert after.current_pdf_sha256 == doc.current_pdf_sha256
    assert after.lock_version == doc.lock_version
    assert after.status == Status.AWAITING_SIGNATURES
    assert rt.blobs.get(after.current_pdf_sha256 or "") == rt.blobs.get(doc.frozen_pdf_sha256 or "")


def test_archive_timestamps_are_renewed_with_a_newer_tsa_certificate(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, tmp_path: object
) -> None:
    from datetime import timedelta
    from pathlib import Path

    from signatures import TrustSettings, archive_timestamp_expiry
    from signatures.pki import create_demo_pki
    from signatures.services import DemoServices
    from tests.support import free_port
    from workflow.demo.pki import demo_signatories
    from workflow.runtime import SigningEnvironment, build_runtime
    from workflow.signing.renewal import renew_due_timestamps

    doc = _awaiting(rt, actors, demo)
    for who in ("prezes", "prezydent"):
        doc = sign_with_demo_key(
            rt, actor=actors[who], document_id=doc.id,
            presented_pdf_sha256=doc.current_pdf_sha256 or "",
        )  # fmt: skip
    signed = rt.blobs.get(doc.current_pdf_sha256 or "")
    live = rt.signing
    assert live.demo_pki is not None
    assert isinstance(tmp_path, Path)
    # The TSA after its certificate was renewed: issued later, ends later.
    newer = create_demo_pki(
        tmp_path / "newer-tsa", signatories=demo_signatories()[:1],
        base_url=f"http://127.0.0.1:{free_port()}", tsa_validity=timedelta(days=365 * 21),
    )  # fmt: skip
    trust = TrustSettings(
        trust_roots=live.trust.trust_roots,
        tsa_trust_roots=(*live.trust.timestamp_roots, newer.tsa_cert),
        other_certs=live.trust.other_certs,
    )
    services = DemoServices(newer).start()
    env = SigningEnvironment(trust=trust, services=newer.service_urls(), level=live.level)
    archive = build_runtime(rt.settings, converter=rt.converter, signing=env)
    try:
        renewed, blocked = renew_due_timestamps(archive, margin=timedelta(days=365 * 25))
    finally:
        archive.close()
        services.stop()
    assert blocked == []
    assert [r.document_id for r in renewed] == [doc.id]
    fresh = rt.blobs.get(renewed[0].pdf_sha256)
    assert fresh.startswith(signed)  # an incremental update: the signed bytes are kept
    report = validate_pdf(fresh, trust=trust)
    assert report.valid
    assert len(report.document_timestamps) == 3
    assert archive_timestamp_expiry(fresh) == newer.tsa_cert.not_valid_after
    after = get_document(rt, actor=actors["prezes"], document_id=doc.id)
    assert after.current_pdf_sha256 == renewed[0].pdf_sha256
    assert after.status == Status.SIGNED
    with transaction(rt.sessions) as s:
        assert audit.export(s, document_id=doc.id)[-1]["action"] == "document.timestamp_renewed"
        assert audit.verify(s).ok


def test_a_changed_signing_session_row_is_refused(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    from workflow.models import SigningSession

    doc = _awaiting(rt, actors, demo)
    pki = rt.signing.demo_pki
    assert pki is not None
    chain = b"".join(pki.cert_path(n).read_bytes() for n in ("prezes", "intermediate", "root"))
    step = begin_external_signature(
        rt, actor=actors["prezes"], document_id=doc.id,
        presented_pdf_sha256=doc.current_pdf_sha256 or "", certificate_chain=chain,
    )  # fmt: skip
    with transaction(rt.sessions) as s:
        row = s.get(SigningSession, step.session_id)
        assert row is not None
        state = bytearray(row.state)
        state[-100] ^= 0x01  # one bit of the stored PDF changed in the database
        row.state = bytes(state)
    with pytest.raises(ExternalSignatureProblem):
        complete_external_signature(
            rt, actor=actors["prezes"], document_id=doc.id, session_id=step.session_id,
            signature_value=_sign_digest_as_a_card(rt, "prezes", step.digest_to_sign),
        )  # fmt: skip
    after = get_document(rt, actor=actors["prezes"], document_id=doc.id)
    assert after.current_pdf_sha256 == doc.current_pdf_sha256
    assert after.signatories[0].signed_at is None
