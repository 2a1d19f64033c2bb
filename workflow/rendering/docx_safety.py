"""Refuse uploaded .docx files that could hurt the server before any library opens them.

A .docx is a zip of XML parts. python-docx, docxtpl and LibreOffice will read all of it,
so we check first, cheaply and with hard limits:

- size of the upload, file name, zip structure, member names (no absolute paths, ``..``,
  backslashes or duplicates), encryption, macros;
- zip bombs: the declared (central directory) sizes and compression ratios, and then the
  bytes actually inflated while reading every member, which cannot lie;
- XML parts: well-formed, without DOCTYPE or ENTITY declarations (XXE, billion laughs);
- the parts a Word document must have.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from xml.parsers import expat

from workflow.errors import InvalidInput

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_MEMBERS = 2000
MAX_RATIO = 200  # Word XML compresses 5-20x; a bomb compresses 1000x
_RATIO_FLOOR = 1024 * 1024  # tiny members may compress absurdly without harm
_CHUNK = 64 * 1024

REQUIRED_PARTS = ("[Content_Types].xml", "word/document.xml")
_XML_SUFFIXES = (".xml", ".rels")
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _fail(reason: str) -> InvalidInput:
    return InvalidInput("file", reason)


def check_docx_upload(
    data: bytes,
    *,
    filename: str,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_uncompressed: int = MAX_UNCOMPRESSED_BYTES,
) -> None:
    """Raise ``InvalidInput("file", reason)`` unless ``data`` is a plain, sane .docx."""
    if len(data) > max_bytes:
        raise _fail(f"file is larger than {max_bytes // (1024 * 1024)} MB")
    if not filename.lower().endswith(".docx"):
        raise _fail("not a .docx file name")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise _fail("not a .docx file (not a zip archive)") from None
    with archive:
        members = archive.infolist()
        _check_directory(members, max_uncompressed)
        _check_contents(archive, members, max_uncompressed)


def _check_directory(members: list[zipfile.ZipInfo], max_uncompressed: int) -> None:
    """What the zip directory declares: names, counts, sizes, ratios."""
    if len(members) > MAX_MEMBERS:
        raise _fail(f"archive has more than {MAX_MEMBERS} entries")
    names = set()
    declared_total = 0
    for info in members:
        _check_name(info.filename)
        if info.filename in names:
            raise _fail(f"duplicate entry in archive: {info.filename}")
        names.add(info.filename)
        if info.flag_bits & 0x1:
            raise _fail("archive is encrypted")
        declared_total += info.file_size
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise _fail(f"suspicious compression ratio (zip bomb?): {info.filename}")
    if declared_total > max_uncompressed:
        raise _fail(f"archive expands to more than {max_uncompressed // (1024 * 1024)} MB")
    for part in REQUIRED_PARTS:
        if part not in names:
            raise _fail(f"not a Word document: {part} is missing")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise _fail("document contains macros")


def _check_name(name: str) -> None:
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or re.match(r"[A-Za-z]:", name)
        or any(part in ("..", ".") for part in parts)
    ):
        raise _fail(f"unsafe path in archive: {name!r}")


def _check_contents(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], max_uncompressed: int
) -> None:
    """Inflate every member with a hard budget; parse XML parts safely."""
    budget = max_uncompressed
    for info in members:
        if info.is_dir():
            continue
        is_xml = info.filename.lower().endswith(_XML_SUFFIXES)
        chunks = []
        size = 0
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    budget -= len(chunk)
                    if budget < 0 or size > info.file_size:
                        raise _fail("archive expands beyond its declared size (zip bomb?)")
                    if is_xml:
                        chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
            raise _fail(f"corrupt archive entry: {info.filename}") from None
        if is_xml:
            _check_xml(info.filename, b"".join(chunks))


class _Declaration(Exception):
    """Raised from inside expat as soon as a DOCTYPE or ENTITY declaration starts."""


def _refuse(*_args: object) -> None:
    raise _Declaration


def _check_xml(name: str, content: bytes) -> None:
    """Well-formed and free of DTDs, in any encoding (a UTF-16 DOCTYPE escapes the regex).

    expat stops at the declaration itself, before any entity could be defined or
    expanded; this is the defusedxml approach without the dependency.
    """
    if _DTD.search(content):
        raise _fail(f"{name}: DOCTYPE/ENTITY declarations are not allowed")
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    try:
        parser.Parse(content, True)
    except _Declaration:
        raise _fail(f"{name}: DOCTYPE/ENTITY declarations are not allowed") from None
    except expat.ExpatError:
        raise _fail(f"{name}: not well-formed XML") from None
