"""Hostile bytes: how pyHanko fails on a malformed PDF, and the one error that says so.

Anyone may send a PDF to be validated, so :func:`~signatures.fields.read_pdf` and
:func:`~signatures.validation.validate_pdf` parse and walk bytes written by an attacker.
pyHanko's reader is lazy and was written for honest files: on a malformed one it fails
with whatever the line that tripped raises. Found by fuzzing (tests/signatures/
test_reader_fuzz.py): ``PdfReadError``/``PdfStreamError`` (syntax), ``AssertionError``
(a ``/Root`` that is not a dictionary), ``AttributeError``/``TypeError``/``KeyError``/
``IndexError`` (an entry of the wrong type), ``ValueError`` (asn1crypto on a garbled CMS
blob; pyHanko's CMS errors derive from it), ``RecursionError`` (arrays nested hundreds
deep, indirect objects or object streams that refer to themselves), ``zlib.error`` and
``NotImplementedError`` (broken or unsupported stream filters).

:data:`MALFORMED_PDF_ERRORS` names them, and only the two places where untrusted bytes
are parsed and walked catch them, turning them into :class:`~signatures.errors.UnreadablePdf`
with :func:`describe` as the reason (one line, never a traceback).

Recursion is bounded by Python's own limit (1000 frames by default), which is not raised:
pyHanko's reader spends about three frames per level of nesting, so a document nested
deeper than about 300 levels is refused, while real documents nest a few dozen at most.
Raising the limit would only move the failure from a ``RecursionError`` to a crash of the
thread's C stack.
"""

from __future__ import annotations

import traceback
import zlib
from pathlib import PurePath

from pyhanko.pdf_utils.misc import PdfError

__all__ = ["MALFORMED_PDF_ERRORS", "describe", "where"]

MALFORMED_PDF_ERRORS: tuple[type[Exception], ...] = (
    PdfError,
    AssertionError,
    RecursionError,
    AttributeError,
    TypeError,
    LookupError,  # KeyError, IndexError
    ValueError,  # also UnicodeDecodeError, binascii.Error, pyHanko's CMS and DSS errors
    ArithmeticError,  # OverflowError, ZeroDivisionError on absurd numbers
    zlib.error,
    NotImplementedError,  # pyHanko on stream filters it does not support
)
"""What pyHanko raises while reading or validating a malformed PDF."""

_MAX_REASON = 200


def describe(exc: BaseException) -> str:
    """A one-line reason for refusing a file, from the exception that refused it."""
    if isinstance(exc, RecursionError):
        return "objects nested too deeply, or referring to themselves"
    text = " ".join(str(exc).split())
    if not text:
        return f"malformed structure ({type(exc).__name__})"
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"


def where(exc: BaseException) -> str:
    """``package/module.py:line`` of the innermost frame that raised ``exc``, for a log
    line that lets a developer find the spot without a traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{'/'.join(PurePath(last.filename).parts[-3:])}:{last.lineno}"
