"""Signature fields: created all at once when a document is frozen for signing.

:func:`prepare_for_signing` adds one signature field per signatory, in signing order, each
with a field lock (``/Lock``) that pyHanko applies when the field is signed:

* field 1 of n: locks every field except the remaining signatories' (the first signature
  is also the certification signature: DocMDP "form filling and signing allowed");
* field k: locks every field except those of signatories k+1..n;
* field n: locks all fields and the document (``/P 1``: no changes, apart from validation
  data and document timestamps).

The order is therefore written in the document itself: a field's lock names exactly the
fields that come after it. :func:`check_can_sign` reads it back before every signature.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from . import hexstrings
from .errors import FieldProblem, UnreadablePdf
from .malformed import MALFORMED_PDF_ERRORS, describe
from .profiles import FieldSpec
from .stamp import auto_stamp_box

__all__ = [
    "SignatureFieldInfo",
    "check_can_sign",
    "document_identifier",
    "list_signature_fields",
    "prepare_for_signing",
    "read_pdf",
]


def read_pdf(pdf: bytes, *, strict: bool = False) -> PdfFileReader:
    """Open PDF bytes with pyHanko, or raise :class:`UnreadablePdf`.

    Safe on hostile bytes: every failure of pyHanko's reader (see
    :mod:`signatures.malformed`) becomes :class:`UnreadablePdf`. The reader stays lazy:
    objects other than the trailer and the catalog are parsed when first used, so callers
    that walk an untrusted document further catch ``MALFORMED_PDF_ERRORS`` themselves
    (as :func:`~signatures.validation.validate_pdf` does).

    The first call makes pyHanko parse hex strings (signature ``/Contents``) with
    :func:`signatures.hexstrings.read_hex_string`: same results, several times faster.
    """
    hexstrings.install()

    if not pdf.lstrip()[:5].startswith(b"%PDF-"):
        raise UnreadablePdf("not a PDF: the %PDF- header is missing")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=strict)
        _ = reader.trailer
        # pyHanko asserts that the catalog is a dictionary; check it without relying on
        # assertions (python -O drops them).
        root = reader.trailer.raw_get("/Root")
        catalog = root.get_object() if isinstance(root, generic.IndirectObject) else root
        if not isinstance(catalog, generic.DictionaryObject):
            raise UnreadablePdf("the document catalog (/Root) is not a dictionary")
        _ = reader.root
        encrypted = reader.encrypted
    except MALFORMED_PDF_ERRORS as exc:
        raise UnreadablePdf(f"cannot read the PDF: {describe(exc)}") from exc
    if encrypted:
        raise UnreadablePdf("encrypted PDFs are not supported")
    return reader


@dataclass(frozen=True)
class SignatureFieldInfo:
    """A signature field found in a document."""

    name: str
    """Fully qualified field name."""

    signed: bool
    """Whether the field holds a signature (or a document timestamp)."""

    position: int | None
    """Zero-based place in the signing order set by :func:`prepare_for_signing`;
    ``None`` for fields that did not come from it (document timestamps, foreign fields)."""

    locks_document: bool
    """Whether signing this field locks the document (the last signatory's field)."""

    later_fields: tuple[str, ...]
    """The fields that must be signed after this one (those its lock leaves open)."""


def _lock_of(field: generic.DictionaryObject) -> generic.DictionaryObject | None:
    lock = field.get("/Lock")
    return lock.get_object() if lock is not None else None


def list_signature_fields(pdf: bytes | PdfFileReader) -> tuple[SignatureFieldInfo, ...]:
    """Signature fields in document order, with what their locks say about signing order."""
    from pyhanko.sign.fields import enumerate_sig_fields

    reader = read_pdf(pdf) if isinstance(pdf, bytes) else pdf
    raw: list[tuple[str, bool, tuple[str, ...] | None, bool]] = []
    for name, value, ref in enumerate_sig_fields(reader):
        field = ref.get_object()
        lock = _lock_of(field)
        later: tuple[str, ...] | None = None
        locks_document = False
        if lock is not None:
            action = str(lock.get("/Action", ""))
            if action == "/Exclude":
                later = tuple(str(f) for f in lock.get("/Fields", ()))
            elif action == "/All":
                later = ()
                locks_document = int(lock.get("/P", 0)) == 1
        raw.append((name, value is not None, later, locks_document))
    ordered = sorted((r for r in raw if r[2] is not None), key=lambda r: -len(r[2] or ()))
    positions = {r[0]: i for i, r in enumerate(ordered)}
    return tuple(
        SignatureFieldInfo(
            name=name,
            signed=signed,
            position=positions.get(name),
            locks_document=locks_document,
            later_fields=later or (),
        )
        for name, signed, later, locks_document in raw
    )


def check_can_sign(reader: PdfFileReader, field_name: str) -> SignatureFieldInfo:
    """Raise :class:`FieldProblem` unless ``field_name`` may be signed now.

    The field must exist and be empty; every field whose lock leaves this one open (the
    earlier signatories') must be signed; the document must not be locked already.
    """
    from pyhanko.sign.fields import MDPPerm
    from pyhanko.sign.validation import read_certification_data

    fields = list_signature_fields(reader)
    by_name = {f.name: f for f in fields}
    target = by_name.get(field_name)
    if target is None:
        names = ", ".join(f.name for f in fields if not f.signed) or "none"
        raise FieldProblem(field_name, f"no such signature field (empty fields: {names})")
    if target.signed:
        raise FieldProblem(field_name, "already signed")
    for other in fields:
        if other.signed and other.locks_document:
            raise FieldProblem(field_name, f"the document was locked by {other.name!r}")
    certification = read_certification_data(reader)
    if certification is not None and certification.permission == MDPPerm.NO_CHANGES:
        raise FieldProblem(field_name, "the certification signature forbids all changes")
    waiting_for = [f.name for f in fields if field_name in f.later_fields and not f.signed]
    if waiting_for:
        raise FieldProblem(
            field_name, f"out of order: {', '.join(waiting_for)} must be signed first"
        )
    return target


def document_identifier(pdf: bytes | PdfFileReader) -> str:
    """A short identifier for stamps and the verification page: ``XXXX-XXXX-XXXX``.

    Taken from the permanent part of the PDF file identifier (trailer ``/ID``, first
    element), which incremental updates (signatures, timestamps) keep unchanged.
    """
    reader = read_pdf(pdf) if isinstance(pdf, bytes) else pdf
    try:
        permanent = bytes(reader.document_id[0])
    except (KeyError, IndexError, TypeError):
        return "----"
    digits = permanent[:6].hex().upper().ljust(12, "0")
    return f"{digits[0:4]}-{digits[4:8]}-{digits[8:12]}"


def prepare_for_signing(pdf: bytes, fields: Sequence[FieldSpec]) -> bytes:
    """Freeze a document for signing: add every signature field, in signing order.

    The result is an incremental update of ``pdf``. Stamps go on the field's page (default:
    the last page); without a box they are laid out side by side along the bottom.

    :raises UnreadablePdf: ``pdf`` is not a readable PDF.
    :raises FieldProblem: no fields, duplicate names, a field that already exists, a page
        that does not exist, or a document that is already signed.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.fields import (
        FieldMDPAction,
        FieldMDPSpec,
        MDPPerm,
        SigFieldSpec,
        append_signature_field,
    )

    if not fields:
        raise FieldProblem("", "at least one signature field is needed")
    names = [f.name for f in fields]
    for name in names:
        if not name or "." in name or names.count(name) > 1:
            raise FieldProblem(name, "field names must be unique, non-empty and without dots")
    reader = read_pdf(pdf)
    existing = list_signature_fields(reader)
    if any(f.signed for f in existing):
        raise FieldProblem(names[0], "the document is already signed")
    for f in existing:
        if f.name in names:
            raise FieldProblem(f.name, "a field with this name already exists")

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    page_count = int(reader.root["/Pages"]["/Count"])
    visible_per_page: dict[int, list[FieldSpec]] = {}
    resolved_pages: list[int] = []
    for spec in fields:
        page = page_count - 1 if spec.page is None else spec.page
        if page < 0:
            page += page_count
        if not 0 <= page < page_count:
            raise FieldProblem(spec.name, f"page {spec.page} does not exist ({page_count} pages)")
        resolved_pages.append(page)
        if spec.visible and spec.box is None:
            visible_per_page.setdefault(page, []).append(spec)

    for index, (spec, page) in enumerate(zip(fields, resolved_pages, strict=True)):
        later = names[index + 1 :]
        if later:
            lock = FieldMDPSpec(action=FieldMDPAction.EXCLUDE, fields=list(later))
            doc_mdp = None
        else:
            lock = FieldMDPSpec(action=FieldMDPAction.ALL)
            doc_mdp = MDPPerm.NO_CHANGES
        box: tuple[float, float, float, float] | None = None
        if spec.visible:
            if spec.box is not None:
                box = spec.box
            else:
                siblings = visible_per_page[page]
                box = auto_stamp_box(
                    index=siblings.index(spec),
                    count=len(siblings),
                    page_width=_page_width(reader, page),
                )
        append_signature_field(
            writer,
            SigFieldSpec(
                sig_field_name=spec.name,
                on_page=page,
                box=box,  # type: ignore[arg-type]  # pyHanko annotates int but accepts floats
                field_mdp_spec=lock,
                doc_mdp_update_value=doc_mdp,
                readable_field_name=f"Podpis {index + 1}",
            ),
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _page_width(reader: PdfFileReader, page: int) -> float:
    """Width of a page's media box (inherited from the page tree if need be)."""
    node: generic.PdfObject | None = reader.find_page_for_modification(page)[0]
    while node is not None:
        node_dict = node.get_object()
        media_box = node_dict.get("/MediaBox")
        if media_box is not None:
            x1, _, x2, _ = (float(v) for v in media_box.get_object())
            return abs(x2 - x1)
        node = node_dict.get("/Parent")
    return 595.0  # A4
