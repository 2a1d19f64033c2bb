"""Constrained values of the API's edge: ids that fit a database integer, text without
control characters or unpaired surrogates (which JSON can carry but XML, PDF and the
database's text cannot), so bad input is a 422 naming the field, never a 500 later."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

MAX_DB_INT = 2**63 - 1

# C0 controls but tab and newline, DEL, unpaired surrogates, and the two non-characters.
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _db_id(value: int) -> int:
    if not 1 <= value <= MAX_DB_INT:
        raise ValueError(f"must be between 1 and {MAX_DB_INT}")
    return value


def _count(value: int) -> int:
    if not 0 <= value <= MAX_DB_INT:
        raise ValueError(f"must be between 0 and {MAX_DB_INT}")
    return value


def check_text(value: str) -> str:
    """Multi-line text: tabs and newlines are fine, other control characters are not."""
    if _NOT_TEXT.search(value):
        raise ValueError("contains control characters or unpaired surrogates")
    return value


def check_line(value: str) -> str:
    """One line of text: no newline either."""
    if "\n" in value or "\t" in value:
        raise ValueError("must be a single line")
    return check_text(value)


DbId = Annotated[int, AfterValidator(_db_id)]
"""An id of a row: 1 .. 2**63-1."""
Count = Annotated[int, AfterValidator(_count)]
"""A lock version, an offset: 0 .. 2**63-1."""
Text = Annotated[str, AfterValidator(check_text)]
Line = Annotated[str, AfterValidator(check_line)]
