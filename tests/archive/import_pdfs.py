"""PDFs for the import tests: a text letter, the same signed with the test PKI, a scan."""

from __future__ import annotations

import io
from pathlib import Path

from tests.signatures.sample import make_sample_pdf
from workflow.runtime import Runtime

__all__ = ["SCAN_LINES", "scan_pdf", "signed_pdf", "text_pdf"]

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # fonts-dejavu-core

SCAN_LINES = (
    "LIST INTENCYJNY",
    "w sprawie wdrożenia e-strategii",
    "zawarty w Rybniku pomiędzy Izbą Gospodarki",
    "Elektronicznej a Miastem Rybnik, reprezentowanym",
    "przez Prezydenta Miasta Rybnika.",
    "Samorząd województwa śląskiego.",
)


def text_pdf(*pages: str) -> bytes:
    """A PDF with a text layer (the sample letter, or the given pages)."""
    return make_sample_pdf(pages) if pages else make_sample_pdf()


def signed_pdf(rt: Runtime, pdf: bytes | None = None, *, key_id: str = "prezes") -> bytes:
    """``pdf`` (the sample letter) signed at PAdES B-LT with the key of ``key_id`` from the
    test PKI and its TSA/OCSP, validation data embedded: valid offline, as an agreement
    signed elsewhere with a qualified signature would be."""
    from signatures import FieldSpec, PadesLevel, prepare_for_signing, sign_pdf

    pki = rt.signing.demo_pki
    assert pki is not None
    prepared = prepare_for_signing(pdf or text_pdf(), [FieldSpec("podpis-e-izba")])
    return sign_pdf(
        prepared,
        key=pki.key(key_id),
        field_name="podpis-e-izba",
        profile=pki.signatory(key_id).profile(),
        trust=rt.signing.trust,
        level=PadesLevel.B_LT,
        services=rt.signing.services,
    )


def scan_pdf(lines: tuple[str, ...] = SCAN_LINES, *, pages: int = 1) -> bytes:
    """An image-only PDF, as a scanner makes: the lines drawn on an A4 page at 300 dpi
    (Pillow, DejaVu Sans), no text layer at all."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), 44)
    images = []
    for _ in range(pages):
        image = Image.new("L", (2480, 3508), 255)
        draw = ImageDraw.Draw(image)
        for i, line in enumerate(lines):
            draw.text((200, 300 + i * 90), line, font=font, fill=0)
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=300.0, save_all=True, append_images=images[1:])
    return out.getvalue()
