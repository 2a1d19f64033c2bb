"""The real templates, rendered with Polish data and converted by a warm LibreOffice."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pikepdf
import pytest

from .helpers import needs_office, pdf_fonts, pdf_text
from .sample_data import SIGNATORIES

pytestmark = [pytest.mark.slow, needs_office]


def page_count(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def test_letter_of_intent_reads_back_in_polish(letter_pdf: bytes, tmp_path: Path) -> None:
    text = pdf_text(letter_pdf, tmp_path)
    for phrase in (
        "LIST INTENCYJNY",
        "Rybnik, 25 listopada 2026 r.",
        "Prezydent Miasta Rybnika",
        "Patrycja Sass-Staniszewska",
        "zażółć gęślą jaźń",
        "Kowalski & Partnerzy <sp. z o.o.>",
        "do dnia 31 grudnia 2028 r.",
        "List nie rodzi zobowiązań finansowych ani prawnych",
        "4) wsparcie lokalnych przedsiębiorców",
        "Znak: IGE/PRGC/RYB/2026/014",
    ):
        assert phrase in re.sub(r"\s+", " ", text), phrase


def test_e_strategy_reads_back_with_table_rows_and_money(
    strategy_pdf: bytes, tmp_path: Path
) -> None:
    text = re.sub(r"\s+", " ", pdf_text(strategy_pdf, tmp_path))
    for phrase in (
        "e-Strategia Miasta Rybnika",
        "Strategia cyfryzacji na lata 2027–2030",
        "Portal otwartych danych",
        "1 250 000,00 zł",
        "415 500,50 zł",
        "2 005 500,50 zł",
        "31 marca 2029 r.",
        "Liczba przeszkolonych mieszkańców",
        "zażółć gęślą jaźń",
    ):
        assert phrase in text, phrase


@pytest.mark.parametrize("fixture", ["letter_pdf", "strategy_pdf"])
def test_output_claims_pdf_a_2b(fixture: str, request: pytest.FixtureRequest) -> None:
    pdf: bytes = request.getfixturevalue(fixture)
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert document.open_metadata().pdfa_status == "2B"
        assert "/OutputIntents" in document.Root


@pytest.mark.parametrize("fixture", ["letter_pdf", "strategy_pdf"])
def test_every_font_is_embedded(
    fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    fonts = pdf_fonts(request.getfixturevalue(fixture), tmp_path)
    assert fonts
    assert all(font["emb"] == "yes" for font in fonts), fonts
    # The fonts the templates name, not a fallback that happened to be installed.
    names = {font["name"].split("+", 1)[-1] for font in fonts}
    assert names <= {"LiberationSerif", "LiberationSerif-Bold", "Carlito", "Carlito-Bold"}, names


def test_signatures_are_alone_on_the_last_page(letter_pdf: bytes, tmp_path: Path) -> None:
    last = page_count(letter_pdf)
    signature_page = pdf_text(letter_pdf, tmp_path, page=last)
    assert "Podpisy Stron" in signature_page
    for signatory in SIGNATORIES:
        assert signatory.full_name in signature_page
    assert "Postanowienia końcowe" not in signature_page


def test_the_stamp_area_is_empty(letter_pdf: bytes, tmp_path: Path) -> None:
    """templates/README.md promises the right half of each 110 pt row to the stamps."""
    source = tmp_path / "bbox.pdf"
    source.write_bytes(letter_pdf)
    last = str(page_count(letter_pdf))
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", last, "-l", last, str(source), "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    words = [
        (float(x0), float(y0), word)
        for x0, y0, word in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)<', html)
    ]
    tops = [y for x, y, word in words if word in ("1.", "2.") and x < 80]
    assert len(tops) == 2
    assert tops[1] - tops[0] == pytest.approx(110, abs=0.5)
    for x, y, word in words:
        if tops[0] - 2 <= y <= tops[0] + 2 * 110:
            assert x < 297, f"{word!r} at x={x} is inside the stamp area"
