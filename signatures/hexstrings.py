"""A faster reader for PDF hex strings (``<48656c6c6f>``), installed into pyHanko 0.38.

Why: a signature's ``/Contents`` is a hex string of tens of thousands of digits, and
pyHanko 0.38's ``generic.read_hex_string_from_stream`` reads it one byte at a time through
a Python generator (~0.4 µs per digit). A two-signature B-LTA document carries about
40,000 digits; reading them was a quarter of ``validate_pdf``'s time (bench/sign.py: median
~83 ms before, ~60 ms after). This reader is ~25x faster on such a string.

:func:`read_hex_string` reads the same bytes in chunks and decodes them with
``binascii``. It handles only the plain case: hex digits and PDF whitespace up to the
first ``>``. Anything else (a ``%`` comment, an invalid character, a truncated file) is
handed to pyHanko's own function from the same position, so results and errors are
pyHanko's. :func:`install` replaces the function only on the pyHanko version it was
checked against (0.38.x), and only if nobody replaced it before; on any other version
pyHanko's reader stays in place and everything still works, just slower. Installing is
one module-attribute assignment (idempotent), so concurrent first calls are harmless.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Callable
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_WHITESPACE

__all__ = ["PYHANKO_READER", "install", "installed", "read_hex_string"]

CHECKED_PYHANKO = "0.38."
"""pyHanko versions whose ``read_hex_string_from_stream`` this module reproduces."""

_FIRST_CHUNK = 256  # enough for file identifiers; /Contents grows the chunk 8x per read
_MAX_CHUNK = 1 << 20

PYHANKO_READER: Callable[[Any], Any] = generic.read_hex_string_from_stream
"""pyHanko's own reader (as found on import): the fallback, and what :func:`install`
replaces."""


def read_hex_string(stream: Any) -> generic.ByteStringObject | generic.TextStringObject:
    """pyHanko's ``read_hex_string_from_stream``, reading in chunks.

    ``stream`` is positioned on the opening ``<``; on return it is just past the closing
    ``>``, and the value is ``generic.pdf_string`` of the decoded bytes (an odd number of
    digits gets a trailing ``0``), exactly as pyHanko 0.38 does.
    """
    start = stream.tell()
    read = bytearray(stream.read(1))  # the opening "<", as pyHanko skips it unchecked
    chunk = _FIRST_CHUNK
    while True:
        data = stream.read(chunk)
        end = data.find(b">")
        if end >= 0:
            read += data[:end]
            break
        if not data:  # truncated: let pyHanko raise its own error
            stream.seek(start, os.SEEK_SET)
            return PYHANKO_READER(stream)
        read += data
        chunk = min(chunk * 8, _MAX_CHUNK)
    digits = bytes(read[1:]).translate(None, PDF_WHITESPACE)
    if digits.translate(None, generic.HEX_DIGITS):
        # comments or invalid characters: pyHanko's reader decides (and raises)
        stream.seek(start, os.SEEK_SET)
        return PYHANKO_READER(stream)
    stream.seek(start + len(read) + 1, os.SEEK_SET)
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


def installed() -> bool:
    """Whether pyHanko currently uses :func:`read_hex_string`."""
    return generic.read_hex_string_from_stream is read_hex_string


def install() -> bool:
    """Make pyHanko read hex strings with :func:`read_hex_string`, where that is safe.

    :return: whether it is installed (``False`` on an unchecked pyHanko version, or when
        something else already replaced pyHanko's function).
    """
    from pyhanko.version import __version__

    current = generic.read_hex_string_from_stream
    if current is read_hex_string:
        return True
    if (
        not __version__.startswith(CHECKED_PYHANKO)
        or current is not PYHANKO_READER
        or getattr(current, "__module__", None) != generic.__name__
    ):
        return False
    generic.read_hex_string_from_stream = read_hex_string
    return True
