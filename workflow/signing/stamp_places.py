"""Where each signatory's stamp goes: right of their line on the signature page.

The templates end with one 110 pt row per signatory whose right half is left empty for the
stamp (templates/README.md). The rows are found in the rendered PDF by their numbers ("1.",
"2.", ... at the left margin), read with poppler's ``pdftotext -bbox``; a row that cannot be
found gets no box, and the signatures package lays its stamp out along the bottom of the
last page instead.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

STAMP_LEFT, STAMP_RIGHT = 300.0, 522.0
ROW_HEIGHT = 110.0
LEFT_MARGIN_MAX = 120.0

_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">([^<]*)</word>'
)


@dataclass(frozen=True)
class StampPlace:
    page: int
    """Zero-based page index."""
    box: tuple[float, float, float, float]
    """(x1, y1, x2, y2) in PDF points, origin bottom-left."""


def stamp_places(pdf: bytes, count: int) -> list[StampPlace | None]:
    """One place per signatory (in order), or None where the row was not found."""
    try:
        xhtml = subprocess.run(
            ["pdftotext", "-bbox", "-", "-"],  # noqa: S607  # poppler-utils, a declared system package
            input=pdf, capture_output=True, check=True, timeout=60,
        ).stdout.decode("utf-8", "replace")  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return [None] * count
    found: dict[int, StampPlace] = {}
    for page_index, (_, height, body) in enumerate(_PAGE.findall(xhtml)):
        page_height = float(height)
        for x_min, y_min, text in _WORD.findall(body):
            if float(x_min) > LEFT_MARGIN_MAX or not re.fullmatch(r"\d{1,2}\.", text):
                continue
            number = int(text[:-1])
            if not 1 <= number <= count:
                continue
            top = float(y_min) - 2.0
            box = (
                STAMP_LEFT,
                page_height - top - ROW_HEIGHT + 6.0,
                STAMP_RIGHT,
                page_height - top - 2.0,
            )
            # The signature rows come last: later occurrences win over numbered lists above.
            found[number] = StampPlace(page_index, box)
    return [found.get(n) for n in range(1, count + 1)]
