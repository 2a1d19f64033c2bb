"""Refuse uploaded .docx files that could hurt the server before any library opens them.

A .docx is a zip of XML parts. python-docx, docxtpl and LibreOffice will read all of it,
so we check first, cheaply and with hard limits:

- size of the upload, file name, zip structure, member names (no absolute paths, ``..``,
  backslashes or duplicates), encryption, macros;
- zip bombs: the declared (central directory) sizes and compression ratios, and then the
  bytes actually inflated while reading every member, which cannot lie;
- XML parts: well-formed, without DOCTYPE or ENTITY declarations (XXE, billion laughs);
- the parts a Word document must have;
- nothing that makes the converter reach out (``find_external_references``): LibreOffice
  fetches an image relationship with ``TargetMode="External"`` from ``http://`` (server-side
  request forgery) and embeds a ``file:///`` one from the server's disk. Refused: any
  external relationship but a hyperlink to http(s)/mailto (a clickable link, which the
  converter does not load), fields that load things (INCLUDEPICTURE, INCLUDETEXT, LINK,
  DDE...), altChunk, subDoc, linked OLE objects, attached templates, mail-merge sources,
  frames and VML ``o:href`` links.

``strip_external_references`` removes the same things from a rendered .docx: the second
line of defence, for templates stored before this check and for field instructions that a
template fills from field values (``<w:instrText>{{ x }}</w:instrText>``). The third line
is the converter's own LibreOffice profile (``converter.write_profile_settings``).
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from xml.parsers import expat

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type stubs

from workflow.errors import ErrorCode, InvalidInput

log = logging.getLogger(__name__)

_Element = Any  # an lxml element: lxml ships no type stubs

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_MEMBERS = 2000
MAX_RATIO = 200  # Word XML compresses 5-20x; a bomb compresses 1000x
_RATIO_FLOOR = 1024 * 1024  # tiny members may compress absurdly without harm
_CHUNK = 64 * 1024

REQUIRED_PARTS = ("[Content_Types].xml", "word/document.xml")
_XML_SUFFIXES = (".xml", ".rels")
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _fail(code: ErrorCode, **params: object) -> InvalidInput:
    return InvalidInput("file", code, **params)


def _megabytes(size: int) -> str:
    return f"{size // (1024 * 1024)} MB"


def check_docx_upload(
    data: bytes,
    *,
    filename: str,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_uncompressed: int = MAX_UNCOMPRESSED_BYTES,
) -> None:
    """Raise ``InvalidInput("file", code, ...)`` unless ``data`` is a plain, sane .docx."""
    if len(data) > max_bytes:
        raise _fail(ErrorCode.FILE_TOO_LARGE, limit=max_bytes)
    if not filename.lower().endswith(".docx"):
        raise _fail(ErrorCode.DOCX_NAME_REQUIRED)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise _fail(ErrorCode.DOCX_NOT_ZIP) from None
    with archive:
        members = archive.infolist()
        _check_directory(members, max_uncompressed)
        _check_contents(archive, members, max_uncompressed)


def _check_directory(members: list[zipfile.ZipInfo], max_uncompressed: int) -> None:
    """What the zip directory declares: names, counts, sizes, ratios."""
    if len(members) > MAX_MEMBERS:
        raise _fail(ErrorCode.DOCX_TOO_MANY_ENTRIES, limit=MAX_MEMBERS)
    names = set()
    declared_total = 0
    for info in members:
        _check_name(info.filename)
        if info.filename in names:
            raise _fail(ErrorCode.DOCX_DUPLICATE_ENTRY, entry=info.filename)
        names.add(info.filename)
        if info.flag_bits & 0x1:
            raise _fail(ErrorCode.DOCX_ENCRYPTED)
        declared_total += info.file_size
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise _fail(ErrorCode.DOCX_ZIP_BOMB, entry=info.filename)
    if declared_total > max_uncompressed:
        raise _fail(ErrorCode.DOCX_UNPACKS_TOO_LARGE, limit=_megabytes(max_uncompressed))
    for part in REQUIRED_PARTS:
        if part not in names:
            raise _fail(ErrorCode.DOCX_PART_MISSING, part=part)
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise _fail(ErrorCode.DOCX_MACROS)


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
        raise _fail(ErrorCode.DOCX_UNSAFE_PATH, entry=repr(name))


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
                        raise _fail(ErrorCode.DOCX_ZIP_BOMB, entry=info.filename)
                    if is_xml:
                        chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
            raise _fail(ErrorCode.DOCX_CORRUPT_ENTRY, entry=info.filename) from None
        if is_xml:
            content = b"".join(chunks)
            _check_xml(info.filename, content)
            for found in _part_findings(info.filename, content):
                part, _, what = found.what.partition(": ")
                raise _fail(ErrorCode.DOCX_EXTERNAL_REFERENCE, part=part, what=what)


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
        raise _fail(ErrorCode.DOCX_DTD, part=name)
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    try:
        parser.Parse(content, True)
    except _Declaration:
        raise _fail(ErrorCode.DOCX_DTD, part=name) from None
    except expat.ExpatError:
        raise _fail(ErrorCode.DOCX_XML_INVALID, part=name) from None


# -- external references -------------------------------------------------------------------

#: Field types that make Word or LibreOffice load something from outside the document.
LOADING_FIELDS = frozenset(
    {
        "INCLUDEPICTURE",
        "INCLUDETEXT",
        "INCLUDE",
        "LINK",
        "DDE",
        "DDEAUTO",
        "IMPORT",
        "DATABASE",
        "RD",
    }
)
#: Elements refused wherever they appear (matched by local name: transitional and strict).
_LOADING_ELEMENTS = {
    "altChunk": "altChunk (imported content)",
    "subDoc": "subDoc (subdocument)",
    "attachedTemplate": "attachedTemplate (linked template and styles)",
    "mailMerge": "mailMerge (external data source)",
    "frameset": "frameset (frames loaded from other files)",
}
_O_NS = "urn:schemas-microsoft-com:office:office"
_HYPERLINK_SCHEMES = frozenset({"http", "https", "mailto"})
_URL_LIKE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*:|//|\\\\)")
# A UTF-8/ASCII XML part without any of these words holds nothing that could load anything.
_HINTS = re.compile(
    rb"External|instr|altChunk|subDoc|attachedTemplate|mailMerge|OLEObject|href|frameset"
)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True)
class Finding:
    """One thing in one part that would make the converter load something from outside."""

    what: str
    """Names the part and the thing: "word/document.xml: INCLUDEPICTURE field"."""
    remove: Callable[[], None] = field(compare=False, repr=False)
    """Removes it from the parsed part (used by ``strip_external_references``)."""


def find_external_references(docx: bytes) -> list[str]:
    """Describe every external reference in a .docx (which must be a readable zip)."""
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        return [
            found.what
            for info in archive.infolist()
            if info.filename.lower().endswith(_XML_SUFFIXES)
            for found in _part_findings(info.filename, archive.read(info))
        ]


def strip_external_references(docx: bytes) -> bytes:
    """Return ``docx`` without anything that loads from outside; the same bytes if clean.

    Parts with a finding are parsed, cleaned and rewritten; every other member is copied
    as it is. A field that loads things keeps its last result as plain text.
    """
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        cleaned: dict[str, bytes] = {}
        for info in archive.infolist():
            if not info.filename.lower().endswith(_XML_SUFFIXES):
                continue
            root, findings = _parse_and_find(info.filename, archive.read(info))
            if findings:
                for found in findings:
                    found.remove()
                log.warning("removed from a rendered document: %s", [f.what for f in findings])
                cleaned[info.filename] = etree.tostring(
                    root, xml_declaration=True, encoding="UTF-8", standalone=True
                )
        if not cleaned:
            return docx
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for info in archive.infolist():
                target.writestr(
                    info, cleaned.get(info.filename) or archive.read(info), info.compress_type
                )
    return out.getvalue()


def _part_findings(name: str, content: bytes) -> list[Finding]:
    return _parse_and_find(name, content)[1]


def _parse_and_find(name: str, content: bytes) -> tuple[_Element, list[Finding]]:
    ascii_compatible = content.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"<"
    if ascii_compatible and not _HINTS.search(content) and not name.endswith(".rels"):
        return None, []
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError:
        raise _fail(ErrorCode.DOCX_XML_INVALID, part=name) from None
    if name.lower().endswith(".rels"):
        return root, list(_relationship_findings(name, root))
    return root, [*_element_findings(name, root), *_field_findings(name, root)]


def _local(element: _Element) -> str:
    tag = getattr(element, "tag", None)
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _attribute(element: _Element, local_name: str) -> str | None:
    for key, value in element.attrib.items():
        if etree.QName(key).localname == local_name:
            return str(value)
    return None


def _remover(element: _Element) -> Callable[[], None]:
    def remove() -> None:
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)

    return remove


def _relationship_findings(name: str, root: _Element) -> Iterator[Finding]:
    for rel in root.iter():
        if _local(rel) != "Relationship":
            continue
        target = rel.get("Target", "")
        external = rel.get("TargetMode", "").lower() == "external"
        if not external and not _URL_LIKE.match(target):
            continue
        kind = rel.get("Type", "").rsplit("/", 1)[-1] or "untyped"
        if kind == "hyperlink" and urlsplit(target).scheme.lower() in _HYPERLINK_SCHEMES:
            continue  # a clickable link in the PDF; the converter does not load it
        shown = target if len(target) <= 80 else target[:77] + "..."
        yield Finding(f"{name}: external {kind} relationship to {shown!r}", _remover(rel))


def _element_findings(name: str, root: _Element) -> Iterator[Finding]:
    for element in root.iter():
        local = _local(element)
        if local in _LOADING_ELEMENTS:
            yield Finding(f"{name}: {_LOADING_ELEMENTS[local]}", _remover(element))
        elif local == "OLEObject" and (_attribute(element, "Type") or "").lower() == "link":
            yield Finding(f"{name}: linked OLE object", _remover(element))
        elif local == "fldSimple" and _loading_field(_attribute(element, "instr") or ""):
            kind = _loading_field(_attribute(element, "instr") or "")
            yield Finding(f"{name}: {kind} field (fldSimple)", _unwrapper(element))
        href = f"{{{_O_NS}}}href"
        if isinstance(element.tag, str) and element.get(href) is not None:
            yield Finding(f"{name}: linked VML image (o:href)", _attribute_remover(element, href))


def _loading_field(instruction: str) -> str | None:
    match = re.match(r"\s*([A-Za-z]+)", instruction)
    kind = match.group(1).upper() if match else ""
    return kind if kind in LOADING_FIELDS else None


def _unwrapper(element: _Element) -> Callable[[], None]:
    """Replace a ``w:fldSimple`` by its result runs."""

    def unwrap() -> None:
        parent = element.getparent()
        if parent is None:
            return
        index = parent.index(element)
        for offset, child in enumerate(list(element)):
            parent.insert(index + offset, child)
        parent.remove(element)

    return unwrap


def _attribute_remover(element: _Element, key: str) -> Callable[[], None]:
    def remove() -> None:
        element.attrib.pop(key, None)

    return remove


@dataclass
class _Field:
    """A complex field: ``fldChar`` begin, ``instrText`` runs, separate, result, end."""

    marks: list[_Element]
    instructions: list[_Element] = field(default_factory=list)
    in_code: bool = True


def _field_findings(name: str, root: _Element) -> Iterator[Finding]:
    """Complex fields, whose instruction may be split over many runs (and nested fields)."""
    stack: list[_Field] = []
    done: list[_Field] = []
    for element in root.iter():
        local = _local(element)
        if local == "fldChar":
            kind = _attribute(element, "fldCharType")
            if kind == "begin":
                stack.append(_Field([element]))
            elif stack and kind == "separate":
                stack[-1].marks.append(element)
                stack[-1].in_code = False
            elif stack and kind == "end":
                stack[-1].marks.append(element)
                done.append(stack.pop())
        elif local in ("instrText", "delInstrText"):
            if stack and stack[-1].in_code:
                stack[-1].instructions.append(element)
            else:  # an instruction outside any field: judge it on its own
                done.append(_Field([], [element]))
    for found in [*done, *stack]:
        instruction = "".join(e.text or "" for e in found.instructions)
        kind = _loading_field(instruction)
        if kind:
            removers = [_remover(e) for e in (*found.marks, *found.instructions)]
            yield Finding(f"{name}: {kind} field", _all(removers))


def _all(actions: list[Callable[[], None]]) -> Callable[[], None]:
    def run() -> None:
        for action in actions:
            action()

    return run
