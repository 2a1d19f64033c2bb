"""poppler's pdfsig as a second opinion on signed PDFs (Debian poppler-utils).

``Pdfsig(workdir, root_pem)`` builds an NSS database trusting the test root once; calling it
on PDF bytes returns one result per signature. pdfsig's certificate line is unreliable (a
poppler bug says "Unknown issue" even for a trusted chain) and it cannot validate document
timestamps, so only the per-signature integrity line is parsed.
"""

from __future__ import annotations

import itertools
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PdfsigSignature:
    """One signature as poppler's pdfsig reports it."""

    field_name: str
    signer: str
    signature_type: str
    validation: str
    """e.g. ``Signature is Valid.``, ``Digest Mismatch.``; document timestamps say
    ``Signature has not yet been verified.`` (pdfsig cannot validate them)."""
    total_document_signed: bool
    signed: bool = True
    """False for an empty field ("The signature form field is not signed.")."""

    @property
    def valid(self) -> bool:
        return self.validation == "Signature is Valid."

    @property
    def is_document_timestamp(self) -> bool:
        return self.signature_type in ("unknown", "ETSI.RFC3161")


@dataclass(frozen=True)
class PdfsigResult:
    signatures: tuple[PdfsigSignature, ...]
    output: str

    @property
    def regular(self) -> tuple[PdfsigSignature, ...]:
        """Signatures other than document timestamps (empty fields left out)."""
        return tuple(s for s in self.signatures if s.signed and not s.is_document_timestamp)


def _parse_pdfsig(output: str) -> tuple[PdfsigSignature, ...]:
    found: list[dict[str, str]] = []
    for raw in output.splitlines():
        line = raw.strip()
        if line.startswith("Signature #"):
            found.append({"total": "no"})
        elif found and line.startswith("- ") and ":" in line:
            key, _, value = line[2:].partition(":")
            found[-1][key.strip()] = value.strip()
        elif found and line == "- Total document signed":
            found[-1]["total"] = "yes"
        elif found and line == "The signature form field is not signed.":
            found[-1]["unsigned"] = "yes"
    return tuple(
        PdfsigSignature(
            field_name=f.get("Signature Field Name", ""),
            signer=f.get("Signer Certificate Common Name", ""),
            signature_type=f.get("Signature Type", ""),
            validation=f.get("Signature Validation", ""),
            total_document_signed=f["total"] == "yes",
            signed="unsigned" not in f,
        )
        for f in found
    )


class Pdfsig:
    """``Pdfsig(directory, root_pem)(pdf) -> PdfsigResult``."""

    def __init__(self, directory: Path, root_pem: Path) -> None:
        self.directory = directory
        self.nss = directory / "nssdb"
        self.nss.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["certutil", "-N", "-d", f"sql:{self.nss}", "--empty-password"],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{self.nss}", "-n", "root", "-t", "CT,C,C",
             "-i", str(root_pem)],
            check=True, capture_output=True,
        )  # fmt: skip
        self._counter = itertools.count()

    def __call__(self, pdf: bytes) -> PdfsigResult:
        path = self.directory / f"check-{next(self._counter)}.pdf"
        path.write_bytes(pdf)
        result = subprocess.run(
            ["pdfsig", "-nssdir", f"sql:{self.nss}", "-no-ocsp", str(path)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        return PdfsigResult(_parse_pdfsig(result.stdout), result.stdout + result.stderr)


def assert_pdfsig_valid(result: PdfsigResult, count: int) -> None:
    """pdfsig sees ``count`` signatures (document timestamps aside), each intact and valid."""
    assert len(result.regular) == count, result.output
    assert all(s.valid for s in result.regular), result.output
