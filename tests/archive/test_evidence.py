"""The evidence package of the archived Rybnik letter: what it holds (read back: the PDF
report through pdftotext), that it verifies from itself alone, that a changed, added or
swapped member makes it INVALID, and its download (who may, and never from a damaged
file)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from signatures.keys import load_certificates
from tests.archive.helpers import signed_letter
from tests.signatures.tamper import flip_byte_in_signed_content
from workflow.archive.archiving import archive_document
from workflow.archive.evidence import MANIFEST, build_evidence
from workflow.archive.evidence_check import check_package
from workflow.cli.main import main
from workflow.db import transaction
from workflow.demo.data import DEMO_PASSWORD, PEOPLE, DemoIds
from workflow.errors import InvalidInput
from workflow.identity.actors import Actor
from workflow.models import ArchiveRecord
from workflow.runtime import Runtime
from workflow.web import create_app

MEMBERS = {
    "dokument.pdf", "raport-walidacji.json", "raport-walidacji.pdf", "dziennik-zdarzen.json",
    "metadane.json", "zaufane/podpisy.pem", "zaufane/znaczniki-czasu.pem",
    "zaufane/posrednie.pem", "README.txt", "manifest-sha256.txt",
}  # fmt: skip


@pytest.fixture
def record_id(rt: Runtime, demo: DemoIds, actors: dict[str, Actor]) -> int:
    """The Rybnik letter, signed at B-LTA by both officials through the workflow, archived."""
    doc_id = signed_letter(rt, actors, demo)
    return archive_document(rt, actor=actors["archiwista"], document_id=doc_id)


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def _zip(members: dict[str, bytes], *, manifest: bool = False) -> bytes:
    if manifest:
        members = dict(members)
        members[MANIFEST] = "".join(
            f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in members.items() if n != MANIFEST
        ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def _pdftotext(pdf: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def test_the_package_holds_the_evidence_and_verifies_from_itself(
    rt: Runtime, actors: dict[str, Actor], record_id: int, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    package = build_evidence(rt, actor=actors["archiwista"], record_id=record_id)
    assert package.file_name == f"paczka-dowodowa-{record_id}.zip"
    members = _unzip(package.data)
    assert set(members) == MEMBERS
    with transaction(rt.read_sessions) as s:
        record = s.get(ArchiveRecord, record_id)
        assert record is not None
        pdf_sha = record.pdf_sha256
    assert hashlib.sha256(members["dokument.pdf"]).hexdigest() == pdf_sha
    listed: dict[str, str] = {}
    for line in members[MANIFEST].decode().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    assert set(listed) == MEMBERS - {MANIFEST}
    assert all(hashlib.sha256(members[n]).hexdigest() == d for n, d in listed.items())
    report = json.loads(members["raport-walidacji.json"])
    assert (report["sha256"], report["valid"], report["pades_level"]) == (pdf_sha, True, "B-LTA")
    assert [r["action"] for r in json.loads(members["dziennik-zdarzen.json"])["audit_records"]]
    assert json.loads(members["metadane.json"])["pdf_sha256"] == pdf_sha
    pki = rt.signing.demo_pki
    assert pki is not None
    roots = load_certificates(members["zaufane/podpisy.pem"])
    tsas = load_certificates(members["zaufane/znaczniki-czasu.pem"])
    assert [c.dump() for c in roots] == [pki.root_cert.dump()]
    assert [c.dump() for c in tsas] == [pki.tsa_cert.dump()]
    intermediates = load_certificates(members["zaufane/posrednie.pem"])
    assert [c.dump() for c in intermediates] == [pki.intermediate_cert.dump()]
    assert "Jak sprawdzić" in members["README.txt"].decode() and "How to verify" in (
        members["README.txt"].decode()
    )

    text = _pdftotext(members["raport-walidacji.pdf"])
    assert "Raport walidacji podpisów elektronicznych" in text
    assert "Patrycja Sass-Staniszewska" in text and "Piotr Kuczera" in text
    assert "dokument ważny" in text and "B-LTA" in text
    assert pdf_sha in "".join(text.split())  # a table cell may wrap the long hash

    verdict = check_package(package.data)
    assert verdict.valid, verdict.problems
    assert verdict.report is not None and len(verdict.report.signatures) == 2
    path = tmp_path / package.file_name
    path.write_bytes(package.data)
    capsys.readouterr()
    assert main(["verify", "--evidence", str(path)]) == 0
    out = capsys.readouterr().out
    assert "manifest SHA-256: zgodny" in out
    assert "PACZKA: WAŻNA (VALID)" in out
    assert main(["verify", "--evidence", str(path), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["valid"], answer["problems"]) == (True, [])
    assert answer["report"]["sha256"] == pdf_sha


def test_a_changed_added_or_swapped_member_makes_it_invalid(
    rt: Runtime, actors: dict[str, Actor], record_id: int, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    members = _unzip(build_evidence(rt, actor=actors["archiwista"], record_id=record_id).data)

    changed = dict(members)
    changed["dziennik-zdarzen.json"] = members["dziennik-zdarzen.json"].replace(b"}", b" }", 1)
    verdict = check_package(_zip(changed))
    assert verdict.problems == (
        "plik dziennik-zdarzen.json nie zgadza się z sumą SHA-256 z manifestu (zmieniony)",
    )

    added = {**members, "zaufane/inny.pem": members["zaufane/podpisy.pem"]}
    assert "plik zaufane/inny.pem nie jest wymieniony w manifeście (dodany)" in (
        check_package(_zip(added)).problems
    )

    # A document changed after signing, with a manifest made to match: the signatures say it.
    swapped = {**members, "dokument.pdf": flip_byte_in_signed_content(members["dokument.pdf"])}
    verdict = check_package(_zip(swapped, manifest=True))
    assert not verdict.valid
    assert any(
        p.startswith("podpis 1 (Patrycja Sass-Staniszewska) nieważny") for p in verdict.problems
    )
    assert any("raport-walidacji.json opisuje inny dokument" in p for p in verdict.problems)
    path = tmp_path / "zamieniona.zip"
    path.write_bytes(_zip(swapped, manifest=True))
    capsys.readouterr()
    assert main(["verify", "--evidence", str(path)]) == 1
    assert "PACZKA: NIEWAŻNA (INVALID)" in capsys.readouterr().out

    # Without its anchors the package cannot vouch for anything.
    bare = {k: v for k, v in members.items() if not k.startswith("zaufane/")}
    assert not check_package(_zip(bare, manifest=True)).valid


def test_what_is_not_a_package_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_package(b"PK\x03\x04 not really")
    assert caught.value.field == "evidence"
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"%PDF-1.7 not a zip")
    assert main(["verify", "--evidence", str(junk)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "paczka dowodowa" in err[0], err
    assert main(["verify", "--evidence", str(junk), "--trust", str(junk)]) == 2
    assert main(["verify"]) == 2


def _client(rt: Runtime, who: str) -> TestClient:
    client = TestClient(create_app(rt.settings, runtime=rt), headers={"Accept-Language": "en"})
    client.__enter__()
    email = next(p.email for p in PEOPLE if p.key == who)
    r = client.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return client


def test_the_download_is_for_the_archive_keepers_and_never_from_a_damaged_file(
    rt: Runtime, record_id: int
) -> None:
    url = f"/api/v1/archive/{record_id}/evidence"
    archivist, author, mayor = (_client(rt, who) for who in ("archiwista", "autor", "wojt"))
    try:
        r = archivist.get(url)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/zip"
        assert r.headers["content-disposition"].startswith("attachment;")
        assert f"paczka-dowodowa-{record_id}.zip" in r.headers["content-disposition"]
        assert check_package(r.content).valid
        assert author.get(url).status_code == 403  # of the office, but keeps no archive
        assert mayor.get(url).status_code == 404  # another municipality: learns nothing
        assert archivist.get("/api/v1/archive/999999/evidence").status_code == 404

        with transaction(rt.read_sessions) as s:
            record = s.get(ArchiveRecord, record_id)
            assert record is not None
            sha = record.audit_extract_sha256
        stored = rt.settings.blobs_dir / sha[:2] / sha[2:]
        stored.chmod(0o600)
        stored.write_bytes(stored.read_bytes().replace(b"document.sign", b"document.edit"))
        r = archivist.get(url)
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "archive_file_damaged"
        assert r.headers["content-type"].startswith("application/json")
    finally:
        for client in (archivist, author, mayor):
            client.__exit__(None, None, None)
