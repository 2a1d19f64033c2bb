"""Build the business's .docx templates with python-docx.

    .venv/bin/python scripts/build_templates.py

Writes templates/list_intencyjny.docx and templates/e_strategia.docx (their schemas,
*.schema.json, are written by hand beside them). The output is byte-for-byte reproducible:
fixed document properties and fixed zip timestamps, so a rebuild shows no diff unless the
content changed.

Layout rules both templates follow (see templates/README.md):
- A4, 2.5 cm margins, fonts with metric-compatible free versions installed on the server
  (Liberation Serif = Times New Roman, Carlito = Calibri), so LibreOffice lays the page
  out as Word does and embeds real Polish glyphs;
- template tags are written in one run each (python-docx ``add_run``), so docxtpl never has
  to stitch a tag split by Word;
- the signature blocks sit on their own final page, one table row of fixed height per
  signatory, the right half of each row left empty for the visible signature stamp.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FIXED_TIME = dt.datetime(2026, 1, 1, 0, 0, 0, tzinfo=dt.UTC)
STAMP_ROW_HEIGHT = Pt(110)  # documented in templates/README.md; the signatures module relies on it
COLUMN = Cm(8)  # two columns of 8 cm = the 16 cm text width of A4 with 2.5 cm margins
BLACK = RGBColor(0, 0, 0)


# -- document set-up --------------------------------------------------------------------


def new_document(*, font: str, size: float, title: str, subject: str) -> DocxDocument:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.5))
    section.footer_distance = Cm(1.2)
    _force_font(doc, font)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(size)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    for name, points in (("Title", 18), ("Heading 1", 14), ("Heading 2", 12)):
        style = doc.styles[name]
        style.font.size = Pt(points)
        style.font.bold = True
        style.font.color.rgb = BLACK
        style.paragraph_format.space_before = Pt(12)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.keep_with_next = True
    title_style = doc.styles["Title"]
    title_style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # The default Title style draws a coloured rule under the text; a letter has none.
    for border in title_style.element.pPr.findall(qn("w:pBdr")):
        title_style.element.pPr.remove(border)
    props = doc.core_properties
    props.author = "Izba Gospodarki Elektronicznej"
    props.last_modified_by = "Izba Gospodarki Elektronicznej"
    props.title, props.subject = title, subject
    props.language = "pl-PL"
    props.comments = ""
    props.keywords = "e-strategia"
    props.created = props.modified = FIXED_TIME.replace(tzinfo=None)
    props.revision = 1
    return doc


def _force_font(doc: DocxDocument, font: str) -> None:
    """Replace theme fonts (Calibri/Cambria via the theme) with one named font everywhere."""
    styles = doc.styles.element
    for rfonts in styles.iter(qn("w:rFonts")):
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            rfonts.attrib.pop(qn(attr), None)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            rfonts.set(qn(attr), font)
    for lang in styles.iter(qn("w:lang")):
        lang.set(qn("w:val"), "pl-PL")
        lang.set(qn("w:eastAsia"), "pl-PL")


def para(
    container: Any,  # Document, table cell or footer: python-docx has no common type
    text: str = "",
    *,
    style: str | None = None,
    bold: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None,
    size: float | None = None,
    space_after: float | None = None,
    hanging: float | None = None,
    keep_with_next: bool = False,
) -> Any:
    paragraph = container.add_paragraph(style=style)
    if text:
        run = paragraph.add_run(text)
        run.bold = bold or None
        if size:
            run.font.size = Pt(size)
    fmt = paragraph.paragraph_format
    if align is not None:
        fmt.alignment = align
    if space_after is not None:
        fmt.space_after = Pt(space_after)
    if hanging is not None:
        fmt.left_indent, fmt.first_line_indent = Cm(hanging), Cm(-hanging)
    if keep_with_next:
        fmt.keep_with_next = True
    return paragraph


def justified(doc: DocxDocument, text: str) -> None:
    para(doc, text, align=WD_ALIGN_PARAGRAPH.JUSTIFY)


def section_heading(doc: DocxDocument, number: str, title: str) -> None:
    """A centred "§ n" over its title, the way Polish agreements are set."""
    para(
        doc, number, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0, keep_with_next=True
    )
    para(doc, title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, keep_with_next=True)


def loop_paragraphs(
    doc: DocxDocument, opening: str, body: str, closing: str, *, hanging: float
) -> None:
    """A docxtpl paragraph loop: ``{%p ... %}`` paragraphs vanish, the body repeats."""
    para(doc, opening)
    para(doc, body, hanging=hanging, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=3)
    para(doc, closing)


def add_field(paragraph: Any, instruction: str) -> None:
    """A simple Word field (PAGE, NUMPAGES) that LibreOffice evaluates at layout."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), f" {instruction} ")
    run = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "18")  # 9 pt, as the footer text around it
    properties.append(size)
    run.append(properties)
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def footer(doc: DocxDocument) -> None:
    paragraph = doc.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(
        "Znak: {{ document.reference }} · wersja {{ document.version }} · strona "
    )
    run.font.size = Pt(9)
    add_field(paragraph, "PAGE")
    paragraph.add_run(" z ").font.size = Pt(9)
    add_field(paragraph, "NUMPAGES")


def _cell_paragraph(cell: Any, text: str, *, bold: bool = False, align: Any = None) -> None:
    paragraph = cell.paragraphs[0] if not cell.paragraphs[0].text else cell.add_paragraph()
    run = paragraph.add_run(text)
    run.bold = bold or None
    paragraph.paragraph_format.space_after = Pt(2)
    if align is not None:
        paragraph.alignment = align


def _shade(cell: Any, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _row_flag(row: Any, tag: str) -> None:
    """Set a row property such as w:cantSplit or w:tblHeader."""
    row._tr.get_or_add_trPr().append(OxmlElement(tag))


def data_table(
    doc: DocxDocument,
    headers: list[tuple[str, float]],
    loop: str,
    cells: list[str],
    *,
    right_aligned: frozenset[int] = frozenset(),
    total: list[str] | None = None,
) -> None:
    """A grid table with a header row and one docxtpl ``{%tr for %}`` row loop."""
    rows = 4 + (1 if total else 0)
    table = doc.add_table(rows=rows, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for index, (label, width) in enumerate(headers):
        table.columns[index].width = Cm(width)  # LibreOffice lays out from w:gridCol
        for row in table.rows:
            row.cells[index].width = Cm(width)
        _cell_paragraph(table.rows[0].cells[index], label, bold=True)
        _shade(table.rows[0].cells[index], "D9D9D9")
    _row_flag(table.rows[0], "w:tblHeader")
    _cell_paragraph(table.rows[1].cells[0], f"{{%tr for {loop} %}}")
    for index, text in enumerate(cells):
        align = WD_ALIGN_PARAGRAPH.RIGHT if index in right_aligned else None
        _cell_paragraph(table.rows[2].cells[index], text, align=align)
    _row_flag(table.rows[2], "w:cantSplit")
    _cell_paragraph(table.rows[3].cells[0], "{%tr endfor %}")
    if total:
        for index, text in enumerate(total):
            align = WD_ALIGN_PARAGRAPH.RIGHT if index in right_aligned else None
            _cell_paragraph(table.rows[4].cells[index], text, bold=True, align=align)
    para(doc, "", space_after=6)


def signature_page(doc: DocxDocument, heading: str, intro: str) -> None:
    """Final page: one fixed-height row per signatory; the right half stays empty for a stamp."""
    title = para(doc, heading, style="Heading 1")
    title.paragraph_format.page_break_before = True
    para(doc, "{{ document.place }}, {{ document.date|data_pl }}", space_after=6)
    para(doc, intro, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=12)
    table = doc.add_table(rows=3, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    for column in table.columns:
        column.width = COLUMN
    for row in table.rows:
        row.cells[0].width = row.cells[1].width = COLUMN
    _cell_paragraph(table.rows[0].cells[0], "{%tr for signatory in signatories %}")
    block = table.rows[1]
    block.height, block.height_rule = STAMP_ROW_HEIGHT, WD_ROW_HEIGHT_RULE.EXACTLY
    _row_flag(block, "w:cantSplit")
    left = block.cells[0]
    _cell_paragraph(left, "{{ signatory.position }}. {{ signatory.organisation_name }}")
    _cell_paragraph(left, "{{ signatory.full_name }}", bold=True)
    _cell_paragraph(left, "{{ signatory.function }}")
    _cell_paragraph(table.rows[2].cells[0], "{%tr endfor %}")


def save(doc: DocxDocument, path: Path) -> None:
    """Save with fixed zip timestamps and order, so the bytes depend only on the content."""
    raw = io.BytesIO()
    doc.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    path.write_bytes(out.getvalue())
    print(f"wrote {path.relative_to(TEMPLATES.parent)} ({len(out.getvalue())} bytes)")


# -- the letter of intent -----------------------------------------------------------------


def letter_of_intent() -> DocxDocument:
    doc = new_document(
        font="Liberation Serif",
        size=12,
        title="List intencyjny w sprawie wdrożenia e-strategii",
        subject="Szablon listu intencyjnego e-Izby i jednostki samorządu terytorialnego",
    )
    footer(doc)
    para(doc, "{{ document.place }}, {{ document.date|data_pl }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    para(doc, "Znak: {{ document.reference }}", size=10, space_after=18)
    para(doc, "LIST INTENCYJNY", style="Title", space_after=0)
    para(
        doc,
        "w sprawie wdrożenia e-strategii",
        bold=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        space_after=0,
    )
    para(doc, "„{{ strategy_name }}”", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=18)
    para(doc, "zawarty pomiędzy:")
    para(doc, "{%p for party in parties %}")
    para(
        doc,
        "{{ party.name }}{% if party.teryt %} (TERYT: {{ party.teryt }}){% endif %},",
        bold=True,
        space_after=0,
    )
    para(doc, "{{ party.kind_label }}, siedziba: {{ party.seat }},", space_after=0)
    para(
        doc,
        "osoba reprezentująca: {{ party.representative_name }} – "
        "{{ party.representative_function }},",
        space_after=0,
    )
    para(doc, "dalej: „{{ party.short_name }}”,")
    para(doc, "{%p if not loop.last %}")
    para(doc, "a")
    para(doc, "{%p endif %}")
    para(doc, "{%p endfor %}")
    para(doc, "dalej łącznie: „Strony”, a każda z osobna: „Strona”.", space_after=12)

    section_heading(doc, "§ 1", "Preambuła")
    justified(doc, "{{ preamble }}")

    section_heading(doc, "§ 2", "Przedmiot i cele współpracy")
    justified(
        doc,
        "Przedmiotem listu jest wyrażenie woli współpracy Stron przy opracowaniu i wdrożeniu "
        "e-strategii „{{ strategy_name }}” w ramach programu „Polska Regionalna Gospodarka "
        "Cyfrowa”. Celem współpracy jest w szczególności:",
    )
    loop_paragraphs(
        doc,
        "{%p for goal in goals %}",
        "{{ loop.index }})\t{{ goal }}",
        "{%p endfor %}",
        hanging=0.75,
    )

    section_heading(doc, "§ 3", "Formy współpracy")
    justified(doc, "Strony deklarują współpracę w szczególności w następujących formach:")
    loop_paragraphs(
        doc,
        "{%p for form in cooperation_forms %}",
        "{{ loop.index }})\t{{ form }}",
        "{%p endfor %}",
        hanging=0.75,
    )

    section_heading(doc, "§ 4", "Czas obowiązywania")
    justified(
        doc,
        "List intencyjny obowiązuje od dnia jego podpisania przez ostatnią ze Stron do dnia "
        "{{ valid_until|data_pl }} Każda ze Stron może zakończyć współpracę, informując o tym "
        "pozostałe Strony na piśmie lub w postaci elektronicznej.",
    )

    section_heading(doc, "§ 5", "Charakter listu")
    justified(
        doc,
        "List nie rodzi zobowiązań finansowych ani prawnych dla żadnej ze Stron. Stanowi wyraz "
        "woli współpracy, a szczegółowe zasady realizacji poszczególnych przedsięwzięć, w tym "
        "ich finansowania, Strony mogą określić w odrębnych umowach.",
    )

    section_heading(doc, "§ 6", "Postanowienia końcowe")
    justified(
        doc,
        "List intencyjny sporządzono w postaci elektronicznej i opatrzono kwalifikowanymi "
        "podpisami elektronicznymi osób reprezentujących Strony.",
    )
    para(doc, "{%p if additional_provisions %}")
    justified(doc, "{{ additional_provisions }}")
    para(doc, "{%p endif %}")

    signature_page(doc, "Podpisy Stron", "Za Strony podpisują, w podanej kolejności:")
    return doc


# -- the e-strategy -----------------------------------------------------------------------


def e_strategy() -> DocxDocument:
    doc = new_document(
        font="Carlito",
        size=11,
        title="e-Strategia",
        subject="Szablon e-strategii jednostki samorządu terytorialnego",
    )
    footer(doc)
    para(doc, "{{ document.title }}", style="Title", space_after=6)
    para(
        doc,
        "Strategia cyfryzacji na lata {{ period_from }}–{{ period_to }}",
        bold=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        space_after=6,
    )
    para(doc, "{%p if resolution_reference %}")
    para(doc, "{{ resolution_reference }}", align=WD_ALIGN_PARAGRAPH.CENTER)
    para(doc, "{%p endif %}")
    para(
        doc,
        "Opracowanie: {% for party in parties %}{{ party.name }}{% if not loop.last %}, "
        "{% endif %}{% endfor %}",
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    para(
        doc,
        "{{ document.place }}, {{ document.date|data_pl }}",
        align=WD_ALIGN_PARAGRAPH.CENTER,
        space_after=18,
    )

    para(doc, "1. Diagnoza stanu cyfryzacji", style="Heading 1")
    justified(doc, "{{ diagnosis }}")
    para(doc, "2. Wizja", style="Heading 1")
    justified(doc, "{{ vision }}")
    para(doc, "3. Cele strategiczne", style="Heading 1")
    loop_paragraphs(
        doc,
        "{%p for goal in strategic_goals %}",
        "Cel {{ loop.index }}.\t{{ goal }}",
        "{%p endfor %}",
        hanging=1.5,
    )

    para(doc, "4. Plan działań", style="Heading 1")
    data_table(
        doc,
        [
            ("Lp.", 1.0),
            ("Działanie", 5.5),
            ("Odpowiedzialny", 3.4),
            ("Termin", 2.9),
            ("Budżet", 3.2),
        ],
        "action in actions",
        [
            "{{ loop.index }}.",
            "{{ action.action }}",
            "{{ action.owner }}",
            "{{ action.deadline|data_pl }}",
            "{{ action.budget|kwota }}",
        ],
        right_aligned=frozenset({4}),
        total=["", "Razem", "", "", "{{ actions|sum(attribute='budget')|kwota }}"],
    )

    para(doc, "5. Wskaźniki realizacji (KPI)", style="Heading 1")
    data_table(
        doc,
        [
            ("Lp.", 1.0),
            ("Wskaźnik", 7.4),
            ("Wartość bazowa", 2.8),
            ("Wartość docelowa", 2.8),
            ("Rok", 2.0),
        ],
        "kpi in kpis",
        [
            "{{ loop.index }}.",
            "{{ kpi.indicator }}",
            "{{ kpi.baseline }}",
            "{{ kpi.target }}",
            "{{ kpi.target_year }}",
        ],
    )

    para(doc, "6. Monitorowanie i ewaluacja", style="Heading 1")
    justified(doc, "{{ monitoring }}")

    signature_page(
        doc,
        "Zatwierdzenie dokumentu",
        "Dokument zatwierdzają, w podanej kolejności, kwalifikowanymi podpisami elektronicznymi:",
    )
    return doc


def main() -> None:
    save(letter_of_intent(), TEMPLATES / "list_intencyjny.docx")
    save(e_strategy(), TEMPLATES / "e_strategia.docx")


if __name__ == "__main__":
    main()
