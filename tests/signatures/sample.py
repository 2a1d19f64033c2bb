"""A small two-page letter of intent in Polish, written with pyHanko's own PDF writer."""

from __future__ import annotations

import io

PAGES = (
    (
        "LIST INTENCYJNY\n"
        "w sprawie wdrożenia e-strategii dla Miasta Rybnika\n"
        "\n"
        "zawarty w Rybniku pomiędzy Izbą Gospodarki Elektronicznej (e-Izba),\n"
        "reprezentowaną przez Prezesa Zarządu, a Miastem Rybnik,\n"
        "reprezentowanym przez Prezydenta Miasta Rybnika.\n"
        "\n"
        "§ 1. Strony deklarują współpracę w ramach programu\n"
        "„Polska Regionalna Gospodarka Cyfrowa”.\n"
        "Zażółć gęślą jaźń — ĄĆĘŁŃÓŚŹŻ ąćęłńóśźż."
    ),
    (
        "§ 2. e-Izba wesprze Miasto w przygotowaniu e-strategii,\n"
        "w szkoleniach mieszkańców i w konferencjach\n"
        "„Cyfryzacja w samorządzie”.\n"
        "\n"
        "§ 3. List intencyjny nie rodzi zobowiązań finansowych.\n"
        "\n"
        "Podpisy stron:"
    ),
)


def make_sample_pdf(pages: tuple[str, ...] = PAGES) -> bytes:
    """A4 pages with the given text, DejaVu Sans embedded (Polish letters, ToUnicode)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.content import PdfResources
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.text import TextBox, TextBoxStyle
    from pyhanko.pdf_utils.writer import PdfFileWriter

    from signatures.stamp import font_factory

    writer = PdfFileWriter(stream_xrefs=False)
    style = TextBoxStyle(font=font_factory(12), font_size=12, leading=18)
    for text in pages:
        resources = PdfResources()
        box = TextBox(style, writer=writer, resources=resources)
        box.content = text
        data = b"q 1 0 0 1 60 560 cm " + box.render() + b" Q"
        contents = writer.add_object(generic.StreamObject(stream_data=data))
        page = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Page"),
                pdf_name("/MediaBox"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (0, 0, 595, 842)]
                ),
                pdf_name("/Contents"): contents,
                pdf_name("/Resources"): resources.as_pdf_object(),
            }
        )
        writer.insert_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
