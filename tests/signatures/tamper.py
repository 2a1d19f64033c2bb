"""Ways to tamper with a signed PDF, for tests: what an attacker (or a careless tool) does."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyhanko.sign.signers import Signer


def flip_byte_in_signed_content(pdf: bytes) -> bytes:
    """Change one byte inside the first signature's byte range (in the page content)."""
    marker = pdf.index(b"stream\n") + len(b"stream\n") + 40  # inside the first content stream
    data = bytearray(pdf)
    data[marker] ^= 0x01
    return bytes(data)


def add_page_text(pdf: bytes, text: bytes = b"ANEKS: kwota 1 000 000 zl") -> bytes:
    """An incremental update that draws extra text on the first page."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    font = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/Type1"),
            pdf_name("/BaseFont"): pdf_name("/Helvetica"),
        }
    )
    stream = generic.StreamObject(stream_data=b"BT /FX9 18 Tf 60 300 Td (" + text + b") Tj ET")
    writer.add_stream_to_page(
        0,
        writer.add_object(stream),
        resources=generic.DictionaryObject(
            {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/FX9"): font})}
        ),
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def sign_new_field_with_pyhanko(pdf: bytes, signer: Signer, field_name: str = "dopisek") -> bytes:
    """Add a brand-new signature field and sign it with plain pyHanko (no order checks)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    out: io.BytesIO = signers.sign_pdf(
        writer,
        signers.PdfSignatureMetadata(
            field_name=field_name, subfilter=fields.SigSeedSubFilter.PADES
        ),
        signer=signer,
        new_field_spec=fields.SigFieldSpec(field_name, box=(40, 200, 240, 260)),
    )
    return out.getvalue()
