"""The validation report of an evidence package as a readable document, in Polish.

Built from the JSON report frozen at archiving (``ValidationReport.to_dict()``) and the
record's metadata: a small DOCX (python-docx), then a PDF through the runtime's converter
(the warm LibreOffice), so the reader needs nothing but a PDF viewer.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from workflow.polish.formatting import format_datetime_long
from workflow.runtime import Runtime

__all__ = ["report_docx", "report_pdf"]

TITLE = "Raport walidacji podpisów elektronicznych"

INDICATIONS = {
    "PASSED": "ważny (PASSED)",
    "FAILED": "nieważny (FAILED)",
    "INDETERMINATE": "nieustalony (INDETERMINATE)",
}


def _when(value: object) -> str:
    if not isinstance(value, str) or not value:
        return "—"
    try:
        return format_datetime_long(datetime.fromisoformat(value))
    except ValueError:
        return value


def _yes(value: object) -> str:
    return "tak" if value else "nie"


def _signature_rows(sig: Mapping[str, Any]) -> list[tuple[str, str]]:
    cert = sig.get("certificate") or {}
    ts = sig.get("timestamp") or {}
    return [
        ("Podpisujący", str(sig.get("signer", ""))),
        ("Certyfikat", str(cert.get("subject", ""))),
        ("Wystawca certyfikatu", str(cert.get("issuer", ""))),
        ("Certyfikat ważny do", _when(cert.get("not_after"))),
        ("Czas podpisu (znacznik czasu)", _when(ts.get("time") or sig.get("best_signature_time"))),
        ("Poziom PAdES", str(sig.get("pades_level") or "—")),
        ("Nienaruszony", _yes(sig.get("intact"))),
        ("Zaufany", _yes(sig.get("trusted"))),
        ("Wynik", INDICATIONS.get(str(sig.get("indication")), str(sig.get("indication")))),
    ]


def _record_rows(record: Mapping[str, Any], report: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        ("Tytuł", str(record.get("title", ""))),
        ("Plik", str(record.get("file_name", ""))),
        ("SHA-256 pliku", str(report.get("sha256", ""))),
        ("Symbol JRWA / kategoria", f"{record.get('jrwa_symbol')} / {record.get('category')}"),
        ("Zarchiwizowano", _when(record.get("archived_at"))),
        ("Walidacja wykonana", _when(report.get("validated_at"))),
        ("Wynik walidacji", "dokument ważny" if report.get("valid") else "dokument NIEWAŻNY"),
    ]


def _table(doc: Any, rows: list[tuple[str, str]]) -> None:
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text = label
        cells[1].text = value


def report_docx(report: Mapping[str, Any], record: Mapping[str, Any]) -> bytes:
    """The report as a DOCX: the record, then each signature and document timestamp."""
    from docx import Document as Docx

    doc = Docx()
    doc.add_heading(TITLE, level=1)
    doc.add_paragraph(
        "Wynik sprawdzenia podpisów dokumentu w chwili archiwizacji (walidacja offline, "
        "wyłącznie na podstawie danych zawartych w dokumencie i zaufanych certyfikatów)."
    )
    _table(doc, _record_rows(record, report))
    for n, sig in enumerate(report.get("signatures") or [], start=1):
        doc.add_heading(f"Podpis {n}", level=2)
        _table(doc, _signature_rows(sig))
        for problem in sig.get("problems") or []:
            doc.add_paragraph(f"Uwaga: {problem}")
    for n, ts in enumerate(report.get("document_timestamps") or [], start=1):
        doc.add_heading(f"Znacznik czasu dokumentu {n}", level=2)
        _table(doc, [
            ("Czas", _when(ts.get("time"))),
            ("Urząd znacznika czasu (TSA)", str(ts.get("tsa", ""))),
            ("Certyfikat TSA ważny do", _when(ts.get("tsa_certificate_expires"))),
            ("Wynik", "ważny" if ts.get("valid") else "NIEWAŻNY"),
        ])  # fmt: skip
    doc.add_heading("Jak sprawdzić samodzielnie", level=2)
    doc.add_paragraph(
        "Paczka zawiera podpisany dokument, ten raport (także jako JSON), wyciąg z dziennika "
        "zdarzeń, certyfikaty zaufane (główny urzędu certyfikacji i urzędu znacznika czasu) "
        "oraz sumy kontrolne SHA-256 wszystkich plików (manifest-sha256.txt). Polecenie: "
        "estrategia verify --evidence PACZKA.zip"
    )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def report_pdf(rt: Runtime, report: Mapping[str, Any], record: Mapping[str, Any]) -> bytes:
    """:func:`report_docx` converted to PDF by the runtime's converter.

    :raises RenderingFailed: the converter failed or timed out.
    """
    return rt.converter.convert(report_docx(report, record))
