"""Time travel (issue 10): the Rybnik letter, signed at B-LTA through the workflow and
archived, verified from its evidence package alone, offline, years later.

What decides validity years later: every certificate, OCSP response and CRL embedded in the
letter has expired by then, so it rests on the newest archive (document) timestamp, whose
own time nothing later proves; its TSA's certificate is the package's timestamp anchor (as
an EU trusted list gives a qualified TSA's service). So the package verifies any year
until that certificate expires, and not after: then the archive timestamp proves nothing
and the answer is INVALID, saying so. The installation prevents that by renewing the
archive timestamp (``timestamps.renew``) with a TSA whose certificate lives longer, before
the old one expires; the renewal is an incremental update, so every earlier signature stays
valid, and the package made after it carries the renewed PDF and the new TSA's anchor.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from signatures import PadesLevel, TrustSettings, validate_pdf
from signatures.pki import DemoPki, create_demo_pki
from signatures.services import DemoServices
from tests.archive.helpers import signed_letter
from tests.support import free_port
from workflow.archive.archiving import archive_document
from workflow.archive.evidence import build_evidence
from workflow.archive.evidence_check import check_package
from workflow.config import Settings
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.demo.pki import demo_signatories
from workflow.identity.actors import Actor
from workflow.models import ArchiveRecord, Document
from workflow.rendering.converter import PdfConverter
from workflow.runtime import Runtime, SigningEnvironment, build_runtime
from workflow.signing.renewal import renew_due_timestamps
from workflow.states import Status

TEN_YEARS = timedelta(days=3653)


@contextmanager
def no_network() -> Iterator[None]:
    """Any attempt to connect anywhere fails, as on a machine without a network."""

    def refuse(self: socket.socket, address: object) -> None:
        raise OSError(f"no network in this test (connect to {address!r})")

    original = socket.socket.connect
    socket.socket.connect = refuse  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]


@pytest.fixture
def archived(rt: Runtime, demo: DemoIds, actors: dict[str, Actor]) -> tuple[int, int]:
    """(document id, archive record id) of the archived, B-LTA signed Rybnik letter."""
    doc_id = signed_letter(rt, actors, demo)
    return doc_id, archive_document(rt, actor=actors["archiwista"], document_id=doc_id)


def test_verified_offline_ten_years_later_from_its_package_alone(
    rt: Runtime, actors: dict[str, Actor], archived: tuple[int, int]
) -> None:
    _, record_id = archived
    package = build_evidence(rt, actor=actors["archiwista"], record_id=record_id).data
    pki = rt.signing.demo_pki
    assert pki is not None
    later = datetime.now(UTC) + TEN_YEARS
    # By then every signer's certificate (2 years) and all revocation data have expired.
    assert all(pki.certificate(s.key_id).not_valid_after < later for s in demo_signatories()[:2])
    with no_network():
        verdict = check_package(package, at=later)
    assert verdict.valid, verdict.problems
    report = verdict.report
    assert report is not None and report.offline and report.validated_at == later
    assert [s.signer for s in report.signatures] == [
        "Patrycja Sass-Staniszewska",
        "Piotr Kuczera",
    ]
    assert all(s.valid and s.pades_level is PadesLevel.B_LTA for s in report.signatures)

    # After the TSA's certificate expires nothing vouches for the newest archive timestamp:
    # the package alone can no longer prove the signatures' time, so it is INVALID, and
    # says why (the timestamp should have been renewed before, see the next test).
    after_tsa = pki.tsa_cert.not_valid_after + timedelta(days=30)
    with no_network():
        expired = check_package(package, at=after_tsa)
    assert not expired.valid
    assert any("archive timestamp expired" in p for p in expired.problems), expired.problems


@pytest.fixture
def second_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoPki]:
    """A TSA whose certificate ends later: the TSA after its certificate was renewed."""
    pki = create_demo_pki(
        tmp_path_factory.mktemp("second-tsa"),
        signatories=demo_signatories()[:1],
        base_url=f"http://127.0.0.1:{free_port()}",
        tsa_validity=timedelta(days=365 * 30),
    )
    services = DemoServices(pki).start()
    yield pki
    services.stop()


def test_renewing_an_archived_letter_keeps_every_signature_and_the_package_valid_longer(
    rt: Runtime, settings: Settings, shared_converter: PdfConverter,
    signing_env: SigningEnvironment, second_tsa: DemoPki,
    actors: dict[str, Actor], archived: tuple[int, int],
) -> None:  # fmt: skip
    doc_id, record_id = archived
    first = signing_env.demo_pki
    assert first is not None
    # The installation after its TSA's certificate was renewed: the new TSA signs renewals,
    # and both TSA certificates are timestamp anchors.
    renewing_env = SigningEnvironment(
        trust=TrustSettings(
            trust_roots=signing_env.trust.trust_roots,
            tsa_trust_roots=(first.tsa_cert, second_tsa.tsa_cert),
            other_certs=signing_env.trust.other_certs,
        ),
        services=second_tsa.service_urls(),
        level=PadesLevel.B_LTA,
    )
    renewing = build_runtime(settings, converter=shared_converter, signing=renewing_env)
    try:
        renewed, blocked = renew_due_timestamps(renewing, margin=timedelta(days=365 * 25))
        assert blocked == []
        assert [r.document_id for r in renewed] == [doc_id]  # the ARCHIVED letter is covered
        with transaction(renewing.read_sessions) as s:
            doc, record = s.get(Document, doc_id), s.get(ArchiveRecord, record_id)
            assert doc is not None and record is not None
            assert doc.status == Status.ARCHIVED
            assert record.pdf_sha256 != doc.current_pdf_sha256  # the record stays write-once
            archived_sha, current_sha = record.pdf_sha256, doc.current_pdf_sha256
        assert current_sha is not None
        before, after = renewing.blobs.get(archived_sha), renewing.blobs.get(current_sha)
        assert after.startswith(before)  # an incremental update: nothing signed was touched

        # Every earlier signature still validates, now with three document timestamps.
        report = validate_pdf(after, trust=renewing_env.trust)
        assert report.valid, [s.problems for s in report.signatures]
        assert len(report.signatures) == 2 and len(report.document_timestamps) == 3
        assert all(s.pades_level is PadesLevel.B_LTA for s in report.signatures)

        package = build_evidence(renewing, actor=actors["archiwista"], record_id=record_id).data
    finally:
        renewing.close()
    # Past the first TSA certificate's end, the renewed package still proves the letter.
    after_first_tsa = first.tsa_cert.not_valid_after + timedelta(days=30)
    assert after_first_tsa < second_tsa.tsa_cert.not_valid_after
    with no_network():
        verdict = check_package(package, at=after_first_tsa)
    assert verdict.valid, verdict.problems
    assert verdict.report is not None and verdict.report.sha256 == current_sha
