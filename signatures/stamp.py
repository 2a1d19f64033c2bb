"""Visible signature stamps: name, function, date and time, document identifier.

Polish text needs an embedded font with the Polish letters. We use DejaVu Sans, once
rescaled to 1000 units per em (fontTools ``scale_upem``: at its native 2048 units pyHanko
renders the text stretched and clipped) and cut down to Latin characters without OpenType
layout tables, so that the per-signature subsetting pyHanko does takes ~3 ms instead of the
~130 ms it takes on the full font. The
prepared font is cached on disk (``$ESTRATEGIA_CACHE_DIR`` or ``~/.cache/estrategia``) and
in memory; one font size is used for both the font engine and the text box.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory

from .pki_config import DEMO_ORGANISATION
from .profiles import Box, SignerProfile

if TYPE_CHECKING:
    from asn1crypto import x509
    from pyhanko.pdf_utils.writer import BasePdfFileWriter
    from pyhanko.stamp import TextStampStyle

__all__ = [
    "DEMO_LINE",
    "STAMP_FONT_SIZE",
    "auto_stamp_box",
    "is_demo_certificate",
    "stamp_style",
    "stamp_text",
    "warsaw",
]

DEMO_LINE = "DEMO – bez mocy prawnej"
"""Shown on the stamp of a signature made with a demo PKI certificate."""

STAMP_FONT_SIZE = 8
SOURCE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

# Basic Latin, Latin-1 Supplement, Latin Extended-A (all Polish letters), typographic
# dashes, quotes, bullet, ellipsis, euro and numero signs.
_UNICODES = [
    *range(0x20, 0x7F),
    *range(0xA0, 0x180),
    *range(0x2010, 0x2027),
    0x20AC,
    0x2116,
]
_lock = threading.Lock()
_font_bytes: dict[Path, bytes] = {}


@functools.cache
def warsaw() -> ZoneInfo:
    """Europe/Warsaw, the time zone stamps show (loaded on first use, not at import)."""
    return ZoneInfo("Europe/Warsaw")


def _cache_dir() -> Path:
    configured = os.environ.get("ESTRATEGIA_CACHE_DIR")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "estrategia"


def _prepare_font(source: Path, target: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.scaleUpem import scale_upem

    font = TTFont(str(source))
    scale_upem(font, 1000)
    options = subset.Options()
    # No OpenType layout (GSUB/GPOS/GDEF): Polish needs no ligatures or mark positioning,
    # and pyHanko's per-signature subsetting is ten times faster without them (3 vs 30 ms).
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "MATH", "FFTM"]
    options.hinting = False  # 8 pt stamps are rendered at print resolution anyway
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=_UNICODES)
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            font.save(out)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def prepared_font(source: Path = SOURCE_FONT) -> bytes:
    """The stamp font (rescaled to 1000 units/em, Latin subset), prepared once."""
    with _lock:
        cached = _font_bytes.get(source)
        if cached is not None:
            return cached
        stat = source.stat()
        tag = hashlib.sha256(f"{source}:{stat.st_size}:{stat.st_mtime_ns}:v2".encode()).hexdigest()
        target = _cache_dir() / "fonts" / f"{source.stem}-upem1000-{tag[:16]}.ttf"
        if not target.exists():
            _prepare_font(source, target)
        data = target.read_bytes()
        _font_bytes[source] = data
        return data


class _PreparedFontFactory(FontEngineFactory):
    """Like pyHanko's ``GlyphAccumulatorFactory``, but from the prepared bytes in memory."""

    def __init__(self, font_size: int) -> None:
        self.font_size = font_size

    def create_font_engine(
        self, writer: BasePdfFileWriter, obj_stream: object = None
    ) -> FontEngine:
        from pyhanko.pdf_utils.font.opentype import GlyphAccumulator

        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(
            writer=writer,
            font_handle=io.BytesIO(prepared_font()),
            font_size=self.font_size,
            bcp47_lang_code="pl",
            obj_stream=obj_stream,
        )


def font_factory(font_size: int = STAMP_FONT_SIZE) -> FontEngineFactory:
    """A pyHanko font engine factory for the prepared DejaVu Sans."""
    return _PreparedFontFactory(font_size)


def stamp_style() -> TextStampStyle:
    """The stamp's look: a thin border, left-aligned text, never scaled."""
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    return TextStampStyle(
        stamp_text="%(body)s",
        text_box_style=TextBoxStyle(
            font=font_factory(STAMP_FONT_SIZE),
            font_size=STAMP_FONT_SIZE,
            leading=STAMP_FONT_SIZE + 2,
        ),
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(5),
            inner_content_scaling=layout.InnerScaling.NO_SCALING,
        ),
        border_width=1,
    )


def is_demo_certificate(cert: x509.Certificate | None) -> bool:
    """Whether ``cert`` was issued to the demo PKI's organisation (subject O)."""
    if cert is None:
        return False
    try:
        return bool(cert.subject.native.get("organization_name") == DEMO_ORGANISATION)
    except (ValueError, KeyError):  # pragma: no cover - malformed names
        return False


def stamp_text(
    profile: SignerProfile, *, signed_at: datetime, document_id: str, demo: bool = False
) -> str:
    """The stamp's lines, in Polish; the time is shown in Europe/Warsaw.

    :param demo: add :data:`DEMO_LINE` (a demo PKI certificate signs).
    """
    local = signed_at.astimezone(warsaw())
    lines = ["Podpisano elektronicznie", profile.full_name]
    if profile.function:
        lines.append(profile.function)
    if profile.on_behalf:
        lines.append(profile.on_behalf)
    lines.append(f"Data: {local:%Y-%m-%d %H:%M:%S} {local.tzname()}")
    lines.append(f"Identyfikator dokumentu: {document_id}")
    if demo:
        lines.append(DEMO_LINE)
    return "\n".join(lines)


STAMP_HEIGHT = 90.0  # room for seven lines of 8 pt text and the margins
_MARGIN = 40.0
_GAP = 12.0


def auto_stamp_box(*, index: int, count: int, page_width: float, bottom: float = 36.0) -> Box:
    """Slot ``index`` of ``count`` equal stamps side by side along the bottom of a page."""
    per_row = min(count, 3)
    row, column = divmod(index, per_row)
    width = (page_width - 2 * _MARGIN - (per_row - 1) * _GAP) / per_row
    x1 = _MARGIN + column * (width + _GAP)
    y1 = bottom + row * (STAMP_HEIGHT + _GAP)
    return (round(x1, 2), round(y1, 2), round(x1 + width, 2), round(y1 + STAMP_HEIGHT, 2))
