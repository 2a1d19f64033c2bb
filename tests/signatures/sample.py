"""A small two-page letter of intent in Polish, written with pyHanko's own PDF writer."""

from __future__ import annotations

import io
from typing import Any

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


def signed_sample(signing_env: Any, level: Any) -> bytes:
    """The sample letter signed once in its field ``podpis`` by the first signatory of the
    application's demo PKI (``signing_env``: a ``workflow.signing.trust.SigningEnvironment``),
    at ``level`` (a ``signatures.PadesLevel``; B-LTA embeds what validation needs)."""
    from signatures import FieldSpec, prepare_for_signing, sign_pdf

    pki = signing_env.demo_pki
    assert pki is not None
    key_id = pki.signatories[0].key_id
    key = pki.key(key_id)
    try:
        return sign_pdf(
            prepare_for_signing(make_sample_pdf(), [FieldSpec("podpis")]),
            key=key, field_name="podpis", profile=pki.signatory(key_id).profile(),
            trust=signing_env.trust, level=level, services=signing_env.services,
        )  # fmt: skip
    finally:
        key.close()
