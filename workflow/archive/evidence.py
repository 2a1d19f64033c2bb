"""The evidence package of an archived record: one ZIP that proves the document alone.

Members (fixed names, so that a verifier knows where to look)::

    dokument.pdf                the signed PDF as archived, or, once the timestamp renewal
                                job has extended it, the renewed one (the archived bytes
                                are its prefix: metadane.json gives both SHA-256 and the
                                archived size)
    raport-walidacji.json       the validation report made at archiving
    raport-walidacji.pdf        the same, readable, in Polish
    dziennik-zdarzen.json       the audit trail extract frozen at archiving
    metadane.json               the record's archival metadata
    zaufane/podpisy.pem         the signing root(s) the signatures lead to
    zaufane/znaczniki-czasu.pem the TSA certificate(s), each an anchor for its timestamps
                                (as an EU trusted list gives a qualified TSA's service)
    zaufane/posrednie.pem       intermediate certificates (if the trust settings name any)
    README.txt                  how to verify, in Polish and English
    manifest-sha256.txt         "SHA256  NAME" of every other member (``sha256sum -c``)

Who may have it: whoever may have the record's file (``archive.records.load_record``:
the archivists and administrators of its owning office). Every file taken from the store
is checked against its hash on the way out: a record whose stored file was changed or
removed gives an error (``ARCHIVE_FILE_DAMAGED`` / ``ARCHIVE_FILE_MISSING``), never a
package that looks valid. ``read_package`` is the
other side: it opens a package from anyone, checks the manifest and returns the parts
(``workflow.cli.verify`` validates the PDF against the package's anchors only).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from asn1crypto import pem, x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from signatures import TrustSettings, UnreadablePdf
from signatures.keys import load_certificates
from signatures.longterm import trust_for_document
from workflow.archive.evidence_report import report_pdf
from workflow.archive.records import load_record, read_checked, record_data
from workflow.db import transaction
from workflow.errors import ErrorCode, InvalidInput, NotFound
from workflow.identity.actors import Actor
from workflow.models import ArchiveRecord, Document
from workflow.runtime import Runtime

__all__ = [
    "MANIFEST",
    "EvidencePackage",
    "OpenedPackage",
    "build_evidence",
    "read_package",
]

PDF = "dokument.pdf"
REPORT_JSON = "raport-walidacji.json"
REPORT_PDF = "raport-walidacji.pdf"
AUDIT = "dziennik-zdarzen.json"
METADATA = "metadane.json"
SIGNING_ROOTS = "zaufane/podpisy.pem"
TSA_ANCHORS = "zaufane/znaczniki-czasu.pem"
INTERMEDIATES = "zaufane/posrednie.pem"
README = "README.txt"
MANIFEST = "manifest-sha256.txt"

MAX_MEMBERS = 32
MAX_MEMBER_BYTES = 200 * 1024 * 1024
"""A package holds one document: anything larger is not one of ours (or a zip bomb)."""

README_TEXT = """\
PACZKA DOWODOWA — estrategia

Zawartość: podpisany dokument (dokument.pdf), raport walidacji z chwili archiwizacji
(raport-walidacji.json i .pdf), wyciąg z dziennika zdarzeń (dziennik-zdarzen.json),
metadane archiwalne (metadane.json), certyfikaty zaufane potrzebne do sprawdzenia podpisów
po latach (zaufane/: główny urząd certyfikacji podpisów i urząd znacznika czasu) oraz sumy
kontrolne SHA-256 wszystkich plików (manifest-sha256.txt).

Jak sprawdzić:
  1. sha256sum -c manifest-sha256.txt          (każdy plik: OK)
  2. estrategia verify --evidence PACZKA.zip    (offline; wynik: WAŻNA / NIEWAŻNA)
     albo: estrategia verify --trust zaufane/podpisy.pem \\
             --tsa-trust zaufane/znaczniki-czasu.pem dokument.pdf
  Sprawdzenie działa bez sieci, także po latach — do wygaśnięcia certyfikatu urzędu
  znacznika czasu najnowszego znacznika archiwalnego (podano w raporcie).

EVIDENCE PACKAGE — estrategia

Contents: the signed document (dokument.pdf), the validation report made at archiving
(raport-walidacji.json and .pdf), the audit trail extract (dziennik-zdarzen.json), the
archival metadata (metadane.json), the trust anchors a verifier needs years later
(zaufane/: the signing root and the timestamping authority's certificate) and the SHA-256
of every file (manifest-sha256.txt).

How to verify:
  1. sha256sum -c manifest-sha256.txt          (every file: OK)
  2. estrategia verify --evidence PACKAGE.zip   (offline; VALID / INVALID)
     or: estrategia verify --trust zaufane/podpisy.pem \\
           --tsa-trust zaufane/znaczniki-czasu.pem dokument.pdf
  It works offline, years later too, until the certificate of the TSA behind the newest
  archive timestamp expires (the report gives the date).
"""


@dataclass(frozen=True)
class EvidencePackage:
    record_id: int
    file_name: str
    """A download name, e.g. ``paczka-dowodowa-12.zip``."""
    data: bytes


def _pem(certs: tuple[x509.Certificate, ...]) -> bytes:
    return b"".join(pem.armor("CERTIFICATE", c.dump()) for c in certs)


_PACKAGE_FIELDS = (
    "document_id", "source", "kind", "title", "file_name", "pdf_sha256", "size",
    "signature_status", "pades_level", "jrwa_symbol", "category", "retention_years",
    "case_closed_on", "retention_ends_on", "legal_hold", "archived_at",
)  # fmt: skip
"""What ``metadane.json`` says of the record: ``records.record_data`` without the ids of
people and offices, which mean nothing outside this installation."""


def _metadata(record: ArchiveRecord) -> dict[str, Any]:
    data = record_data(record)
    return {
        "record_id": data["id"],
        **{k: data[k] for k in _PACKAGE_FIELDS},
        "parties": [{k: p[k] for k in ("name", "teryt", "voivodeship")} for p in data["parties"]],
    }


def _renewed(session: Session, rt: Runtime, record: ArchiveRecord, archived: bytes) -> bytes:
    """The document's newest PDF if the timestamp renewal job extended the archived one
    (``signing.renewal``: an incremental update, so the archived bytes are its prefix);
    otherwise the archived PDF itself."""
    if record.document_id is None:
        return archived
    current = session.scalar(
        select(Document.current_pdf_sha256).where(Document.id == record.document_id)
    )
    if current is None or current == record.pdf_sha256:
        return archived
    newer = read_checked(rt, record.id, current)
    return newer if newer.startswith(archived) else archived


def _members(session: Session, rt: Runtime, record: ArchiveRecord) -> dict[str, bytes]:
    if record.disposed_at is not None:
        raise NotFound(ErrorCode.ARCHIVE_RECORD_DISPOSED, record_id=record.id)
    archived = read_checked(rt, record.id, record.pdf_sha256)
    pdf = _renewed(session, rt, record, archived)
    report_bytes = read_checked(rt, record.id, record.validation_report_sha256)
    audit_bytes = read_checked(rt, record.id, record.audit_extract_sha256)
    metadata = _metadata(record)
    metadata["package_pdf_sha256"] = hashlib.sha256(pdf).hexdigest()
    metadata["archive_timestamps_renewed"] = pdf is not archived
    try:
        needed = trust_for_document(pdf, rt.signing.trust)
    except UnreadablePdf:  # an unsigned scan that pyHanko cannot read: no anchors to give
        needed = TrustSettings(trust_roots=())
    members = {
        PDF: pdf,
        REPORT_JSON: report_bytes,
        REPORT_PDF: report_pdf(rt, json.loads(report_bytes), metadata),
        AUDIT: audit_bytes,
        METADATA: json.dumps(metadata, ensure_ascii=False, indent=2).encode("utf-8"),
        SIGNING_ROOTS: _pem(needed.trust_roots),
        TSA_ANCHORS: _pem(needed.tsa_trust_roots),
        README: README_TEXT.encode("utf-8"),
    }
    if needed.other_certs:
        members[INTERMEDIATES] = _pem(needed.other_certs)
    return members


def _manifest(members: Mapping[str, bytes]) -> bytes:
    lines = [f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in members.items()]
    return "".join(lines).encode("utf-8")


def build_evidence(rt: Runtime, *, actor: Actor, record_id: int) -> EvidencePackage:
    """The evidence package of ``record_id`` for ``actor`` (see the module docstring).

    :raises NotFound: no such record, the actor may not see it, it was disposed of, or a
        stored file of it is missing (``ARCHIVE_FILE_MISSING``).
    :raises NotPermitted: the actor belongs to the owning office but keeps no archive.
    :raises GuardRefused: a stored file fails its hash (``ARCHIVE_FILE_DAMAGED``).
    :raises RenderingFailed: the readable report could not be converted.
    """
    with transaction(rt.read_sessions) as session:
        record = load_record(session, actor, record_id)
        members = _members(session, rt, record)
    members[MANIFEST] = _manifest(members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return EvidencePackage(record_id, f"paczka-dowodowa-{record_id}.zip", out.getvalue())


@dataclass(frozen=True)
class OpenedPackage:
    """A package read back: its members, and what the manifest check found."""

    members: Mapping[str, bytes]
    problems: tuple[str, ...]
    """Empty when every member is listed in the manifest with its right SHA-256 and
    nothing else is there; otherwise one line per finding (Polish)."""

    @property
    def pdf(self) -> bytes | None:
        return self.members.get(PDF)

    def trust(self) -> TrustSettings:
        """The package's own anchors (nothing of this installation's)."""

        def certs(name: str) -> tuple[x509.Certificate, ...]:
            data = self.members.get(name)
            return tuple(load_certificates(data)) if data else ()

        return TrustSettings(
            trust_roots=certs(SIGNING_ROOTS),
            tsa_trust_roots=certs(TSA_ANCHORS),
            other_certs=certs(INTERMEDIATES),
        )


def _unzip(data: bytes) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS:
                raise ValueError(f"too many members ({len(infos)})")
            members: dict[str, bytes] = {}
            for info in infos:
                if info.is_dir():
                    continue
                if info.file_size > MAX_MEMBER_BYTES:
                    raise ValueError(f"{info.filename} is too large")
                members[info.filename] = archive.read(info)
            return members
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise InvalidInput(
            "evidence", ErrorCode.EVIDENCE_PACKAGE_UNREADABLE, detail=str(exc)
        ) from exc
    except NotImplementedError as exc:  # an unsupported compression method
        raise InvalidInput(
            "evidence", ErrorCode.EVIDENCE_PACKAGE_UNREADABLE, detail=str(exc)
        ) from exc


def _check_manifest(members: Mapping[str, bytes]) -> list[str]:
    manifest = members.get(MANIFEST)
    if manifest is None:
        return [f"brak manifestu {MANIFEST}"]
    listed: dict[str, str] = {}
    for line in manifest.decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        if line.strip():
            listed[name.strip()] = digest.strip().lower()
    problems = []
    for name, digest in listed.items():
        if name not in members:
            problems.append(f"brak pliku {name} wymienionego w manifeście")
        elif hashlib.sha256(members[name]).hexdigest() != digest:
            problems.append(f"plik {name} nie zgadza się z sumą SHA-256 z manifestu (zmieniony)")
    for name in members:
        if name != MANIFEST and name not in listed:
            problems.append(f"plik {name} nie jest wymieniony w manifeście (dodany)")
    if PDF not in members:
        problems.append(f"brak dokumentu {PDF}")
    return problems


def read_package(data: bytes) -> OpenedPackage:
    """Open a package (bytes from anyone) and check its manifest.

    :raises InvalidInput: not a ZIP, or one too large to be a package (``evidence``).
    """
    members = _unzip(data)
    return OpenedPackage(members, tuple(_check_manifest(members)))
