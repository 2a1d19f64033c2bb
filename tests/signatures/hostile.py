"""Hostile PDFs, for tests: what a prober sends to a public verification endpoint.

Everything here writes raw PDF syntax by hand (objects, classic xref tables, xref
streams), so that the files can be as wrong as an attacker makes them: a ``/Root`` that is
an integer, arrays nested hundreds deep, ``/Prev`` chains that loop, object streams that
contain themselves. Real signed files are broken the same way through incremental updates
(:func:`append_update`), so the signatures stay in front of the damage.
"""

from __future__ import annotations

import io
import random
import re
import struct
import zlib
from collections.abc import Iterator, Mapping

__all__ = [
    "append_update",
    "bit_flips",
    "catalog_with",
    "minimal_pdf",
    "nested",
    "objstm_containing_itself",
    "reference_chain",
    "truncations",
    "xref_loop_pair",
    "xref_loop_self",
]

CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"


def _xref_table(offsets: Mapping[int, int]) -> bytes:
    """One classic xref section: object 0 plus one subsection per run of numbers."""
    out = bytearray(b"xref\n0 1\n0000000000 65535 f \n")
    numbers = sorted(offsets)
    run: list[int] = []
    for n in [*numbers, -1]:
        if run and n != run[-1] + 1:
            out += b"%d %d\n" % (run[0], len(run))
            out += b"".join(b"%010d 00000 n \n" % offsets[m] for m in run)
            run = []
        if n >= 0:
            run.append(n)
    return bytes(out)


def minimal_pdf(
    objects: Mapping[int, bytes] | None = None,
    *,
    root: bytes = b"1 0 R",
    trailer_extra: bytes = b"",
    pages: bool = True,
) -> bytes:
    """A one-page PDF with a classic xref table; ``objects`` replace or add objects
    (``{1: catalog, 2: pages, 3: page}`` by default; only ``objects`` if not ``pages``)
    and ``root`` is written as is."""
    bodies: dict[int, bytes] = {1: CATALOG, 2: PAGES, 3: PAGE} if pages else {}
    bodies.update(objects or {})
    out = bytearray(b"%PDF-1.7\n")
    offsets: dict[int, int] = {}
    for number in sorted(bodies):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, bodies[number])
    startxref = len(out)
    out += _xref_table(offsets)
    size = max(bodies) + 1
    out += b"trailer\n<< /Size %d /Root %s%s >>\n" % (size, root, trailer_extra)
    out += b"startxref\n%d\n%%%%EOF\n" % startxref
    return bytes(out)


def nested(depth: int, *, kind: str = "array") -> bytes:
    """``[[[...]]]`` or ``<< /A << /A ... >> >>``, ``depth`` levels deep."""
    if kind == "array":
        return b"[" * depth + b"]" * depth
    return b"<< /A " * depth + b"null" + b" >>" * depth


def reference_chain(length: int, *, first: int = 10) -> dict[int, bytes]:
    """Objects ``first`` .. ``first+length-1``, each only a reference to the next; the last
    one refers back to the first (a cycle of indirect references)."""
    last = first + length - 1
    return {n: b"%d 0 R" % (n + 1 if n < last else first) for n in range(first, last + 1)}


def _last_startxref(pdf: bytes) -> int:
    found = re.findall(rb"startxref\s+(\d+)", pdf[-1024:])
    return int(found[-1])


def _trailer_size(pdf: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return int(PdfFileReader(io.BytesIO(pdf), strict=False).trailer["/Size"])


def append_update(
    pdf: bytes,
    objects: Mapping[int, bytes],
    *,
    trailer: bytes | None = None,
) -> bytes:
    """An incremental update of ``pdf`` that (re)defines ``objects``, with a classic xref
    section and ``/Prev`` to the previous one. ``trailer`` replaces the trailer dictionary's
    content (``/Size``, ``/Prev`` and the old ``/Root`` and ``/ID`` by default)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    root_ref = reader.trailer.raw_get("/Root")
    doc_id = reader.trailer.raw_get("/ID") if "/ID" in reader.trailer else None
    prev = _last_startxref(pdf)
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    startxref = len(out)
    out += _xref_table(offsets)
    if trailer is None:
        size = max(_trailer_size(pdf), max(objects) + 1)
        ident = b""
        if doc_id is not None:
            ident = b" /ID [<%s> <%s>]" % (
                doc_id[0].original_bytes.hex().encode(),
                doc_id[1].original_bytes.hex().encode(),
            )
        trailer = b"/Size %d /Root %d %d R /Prev %d%s" % (
            size,
            root_ref.idnum,
            root_ref.generation,
            prev,
            ident,
        )
    out += b"trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n" % (trailer, startxref)
    return bytes(out)


def catalog_with(pdf: bytes, **entries: bytes) -> bytes:
    """An incremental update of ``pdf`` whose catalog has ``entries`` (raw PDF syntax,
    key without the slash) instead of what it had; everything else is kept."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    root_ref = reader.trailer.raw_get("/Root")
    catalog = reader.root
    stream = io.BytesIO()
    stream.write(b"<<")
    for key in catalog:
        if key[1:] in entries:
            continue
        stream.write(b" " + key.encode("latin-1") + b" ")
        catalog.raw_get(key).write_to_stream(stream)
    for key, value in entries.items():
        stream.write(b" /" + key.encode("ascii") + b" " + value)
    stream.write(b" >>")
    return append_update(pdf, {root_ref.idnum: stream.getvalue()})


def xref_loop_self() -> bytes:
    """A second xref section whose ``/Prev`` names its own offset."""
    base = minimal_pdf()
    out = bytearray(base)
    startxref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    out += b"trailer\n<< /Size 4 /Root 1 0 R /Prev %d >>\n" % startxref
    out += b"startxref\n%d\n%%%%EOF\n" % startxref
    return bytes(out)


def xref_loop_pair() -> bytes:
    """Two xref sections whose ``/Prev`` entries name each other."""
    base = minimal_pdf()
    out = bytearray(base)
    first = len(out)
    # The offset of the second section is fixed by the length of the first: pad to it.
    second = first + 200
    section = b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 4 /Root 1 0 R /Prev %d >>\n"
    block = section % second
    out += block + b" " * (second - first - len(block))
    out += section % first
    out += b"startxref\n%d\n%%%%EOF\n" % second
    return bytes(out)


def objstm_containing_itself() -> bytes:
    """An xref stream that says the catalog lives in object stream 4, and that object 4
    itself lives in object stream 4."""
    out = bytearray(b"%PDF-1.7\n")
    offsets: dict[int, int] = {}
    for number, body in ((2, PAGES), (3, PAGE)):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    # Object stream 4 would hold object 1 (the catalog); it is never written as a
    # plain object: the xref stream claims it is inside itself.
    xref_at = len(out)
    rows = [
        (0, 0, 255),  # 0: free
        (2, 4, 0),  # 1: in object stream 4, index 0
        (1, offsets[2], 0),
        (1, offsets[3], 0),
        (2, 4, 1),  # 4: in object stream 4 (itself), index 1
        (1, xref_at, 0),  # 5: the xref stream
    ]
    data = b"".join(struct.pack(">BIH", *row) for row in rows)
    packed = zlib.compress(data)
    out += (
        b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode "
        b"/Length %d >>\nstream\n" % len(packed)
    )
    out += packed + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def truncations(pdf: bytes, count: int, *, seed: int) -> Iterator[tuple[int, bytes]]:
    """``pdf`` cut short at ``count`` offsets, each time with its last 1 KiB (xref and
    trailer) put back, so the reader gets past ``startxref`` to offsets that now point into
    the wrong bytes."""
    rng = random.Random(seed)  # noqa: S311  # reproducible mutations, not a secret
    tail = pdf[-1024:]
    for _ in range(count):
        at = rng.randrange(16, len(pdf) - 1024)
        yield at, pdf[:at] + tail


def bit_flips(pdf: bytes, count: int, *, seed: int) -> Iterator[tuple[int, bytes]]:
    """``pdf`` with one bit flipped, at ``count`` offsets."""
    rng = random.Random(seed)  # noqa: S311  # reproducible mutations, not a secret
    for _ in range(count):
        at = rng.randrange(len(pdf))
        data = bytearray(pdf)
        data[at] ^= 1 << rng.randrange(8)
        yield at, bytes(data)
