"""Two versions of a document side by side: what changed in the field values, and a
word-level redline of the rendered text.

The pure parts are separate and testable on their own:

``diff_values(old, new)``
    A structured diff of two values dicts: one ``ValueChange`` per changed, added or
    removed leaf, named by its path as the API names fields (``goals[1]``,
    ``actions[0].owner``). Lists are aligned item by item (``difflib.SequenceMatcher``),
    so an item inserted in the middle is one ``added``, not a change of every item after.
``docx_text(docx)``
    The text of a rendered DOCX: its body's paragraphs and tables in document order, one
    line per paragraph, table cells separated by " | ".
``redline(old_text, new_text)``
    The word-level difference: ``Segment``s that are equal, deleted or inserted; words are
    compared as tokens, line breaks are tokens of their own so paragraphs stay paragraphs.
``redline_html(segments)``
    The segments as HTML, every text escaped, deletions in ``<del>``, insertions in ``<ins>``.

``compare_versions(rt, ...)`` is the use-case: it reads the two versions the actor may see
and returns a ``Comparison`` of plain values.
"""

from __future__ import annotations

import difflib
import html
import io
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from workflow.db import transaction
from workflow.documents.access import load_visible
from workflow.documents.reading import version_of
from workflow.identity.actors import Actor
from workflow.registry.directory import people_by_id
from workflow.runtime import Runtime

# -- values -----------------------------------------------------------------------------


class ChangeKind(StrEnum):
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True)
class ValueChange:
    path: str
    """Where, as the API names fields: ``strategy_name``, ``goals[1]``, ``actions[0].owner``."""
    kind: ChangeKind
    old: Any = None
    """The value before (None when added)."""
    new: Any = None
    """The value after (None when removed)."""


def _key(value: Any) -> str:
    """A hashable, order-stable stand-in for any JSON value (to align list items)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _diff(prefix: str, old: Any, new: Any) -> Iterator[ValueChange]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        # the newer version's field order, then the fields it no longer has
        for key in [*new, *(k for k in old if k not in new)]:
            path = _join(prefix, str(key))
            if key not in new:
                yield ValueChange(path, ChangeKind.REMOVED, old=old[key])
            elif key not in old:
                yield ValueChange(path, ChangeKind.ADDED, new=new[key])
            else:
                yield from _diff(path, old[key], new[key])
        return
    if _is_list(old) and _is_list(new):
        yield from _diff_list(prefix, old, new)
        return
    if _key(old) != _key(new):
        yield ValueChange(prefix, ChangeKind.CHANGED, old=old, new=new)


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _diff_list(prefix: str, old: Sequence[Any], new: Sequence[Any]) -> Iterator[ValueChange]:
    matcher = difflib.SequenceMatcher(
        None, [_key(v) for v in old], [_key(v) for v in new], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            # A replaced item is a change of that item (its fields, for table rows); it is
            # named by its index in the newer version.
            yield from _diff(f"{prefix}[{j1 + k}]", old[i1 + k], new[j1 + k])
        for i in range(i1 + paired, i2):
            yield ValueChange(f"{prefix}[{i}]", ChangeKind.REMOVED, old=old[i])
        for j in range(j1 + paired, j2):
            yield ValueChange(f"{prefix}[{j}]", ChangeKind.ADDED, new=new[j])


def diff_values(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[ValueChange]:
    """Every leaf that differs between two values dicts, in the newer version's field order
    (removed fields last)."""
    return list(_diff("", old, new))


# -- rendered text ----------------------------------------------------------------------


def docx_text(docx: bytes) -> str:
    """The text of a DOCX body: paragraphs and table rows in document order, one a line
    (cells of a row joined by " | "; a cell's own paragraphs by spaces)."""
    import docx as python_docx  # python-docx: loaded only when text is asked for
    from docx.table import Table

    document = python_docx.Document(io.BytesIO(docx))
    lines: list[str] = []

    def table_lines(table: Table) -> None:
        for row in table.rows:
            cells: list[str] = []
            for cell in row.cells:
                text = " ".join(p.text for p in cell.paragraphs if p.text.strip())
                if text and (not cells or text != cells[-1]):  # merged cells repeat
                    cells.append(text)
            lines.append(" | ".join(cells))
            for cell in row.cells:
                for inner in cell.tables:
                    table_lines(inner)

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            table_lines(block)
        else:
            lines.append(block.text)
    return "\n".join(line.strip() for line in lines if line.strip())


class SegmentKind(StrEnum):
    EQUAL = "equal"
    DELETED = "del"
    INSERTED = "ins"


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    text: str


NEWLINE: Final = "\n"
_TOKEN = re.compile(r"(?P<space>\s*)(?P<token>\w+|[^\w\s]+)")


def _tokens(line: str) -> list[tuple[str, bool]]:
    """The words and runs of punctuation of one line, each with whether a space stood
    before it."""
    return [(m["token"], bool(m["space"])) for m in _TOKEN.finditer(line)]


Tagged = list[tuple[SegmentKind, str, bool]]
"""(kind, token, whether a space stands before it)."""

_LINE_CUTOFF: Final = 0.6
"""Two lines at least this similar are one line changed, shown word by word; a less
similar line is a line removed or added (ndiff's rule of thumb)."""
_PAIRING_LIMIT: Final = 40_000
"""Above this many line pairs in one replaced block, words are compared without pairing."""


def _split_lines(text: str) -> list[str]:
    normalised = re.sub(r"[ \t\r\f\v]*\n\s*", NEWLINE, text.strip())
    return normalised.split(NEWLINE) if normalised else []


def _words(old: Sequence[str], new: Sequence[str]) -> Tagged:
    """Word-level tags of two runs of lines (each line ends with a newline token)."""
    a = [tok for line in old for tok in (*_tokens(line), (NEWLINE, False))]
    b = [tok for line in new for tok in (*_tokens(line), (NEWLINE, False))]
    tagged: Tagged = []
    matcher = difflib.SequenceMatcher(None, [t for t, _ in a], [t for t, _ in b], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            # spaced if either side has a space there (the side views drop what is extra)
            tagged += [
                (SegmentKind.EQUAL, t, sp or a[i1 + k][1]) for k, (t, sp) in enumerate(b[j1:j2])
            ]
        else:
            tagged += [(SegmentKind.DELETED, t, sp) for t, sp in a[i1:i2]]
            tagged += [(SegmentKind.INSERTED, t, sp) for t, sp in b[j1:j2]]
    return tagged


def _whole(kind: SegmentKind, lines: Sequence[str]) -> Tagged:
    return [(kind, t, sp) for line in lines for t, sp in (*_tokens(line), (NEWLINE, False))]


def _replaced(old: Sequence[str], new: Sequence[str]) -> Tagged:
    """Lines replaced by others: the most similar pair is one changed line (word by word),
    and the lines before and after it are paired the same way; a line like none of the
    other side is removed or added whole."""
    if not old or not new:
        return _whole(SegmentKind.DELETED, old) + _whole(SegmentKind.INSERTED, new)
    if len(old) == len(new) == 1 or len(old) * len(new) > _PAIRING_LIMIT:
        return _words(old, new)
    best, where = _LINE_CUTOFF, None
    matcher = difflib.SequenceMatcher(autojunk=False)
    for j, line_b in enumerate(new):
        matcher.set_seq2(line_b)
        for i, line_a in enumerate(old):
            matcher.set_seq1(line_a)
            if (
                matcher.real_quick_ratio() > best
                and matcher.quick_ratio() > best
                and matcher.ratio() > best
            ):
                best, where = matcher.ratio(), (i, j)
    if where is None:
        return _whole(SegmentKind.DELETED, old) + _whole(SegmentKind.INSERTED, new)
    i, j = where
    return (
        _replaced(old[:i], new[:j])
        + _words(old[i : i + 1], new[j : j + 1])
        + _replaced(old[i + 1 :], new[j + 1 :])
    )


def redline(old_text: str, new_text: str) -> list[Segment]:
    """The word-level difference of two texts. Lines (paragraphs) are aligned first, so a
    paragraph added between two others is one insertion; lines that changed are compared
    word by word: words and punctuation are tokens (``kota.`` -> ``psa.`` changes the word,
    not the full stop), spaced as in the text they come from. A replacement is a deletion
    then an insertion; adjacent tokens of one kind are one segment, and a space between two
    segments goes with the unchanged text next to it."""
    a, b = _split_lines(old_text), _split_lines(new_text)
    tagged: Tagged = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            tagged += _whole(SegmentKind.EQUAL, b[j1:j2])
        else:
            tagged += _replaced(a[i1:i2], b[j1:j2])
    while tagged and tagged[-1][1] == NEWLINE:
        tagged.pop()
    kinds: list[SegmentKind] = []
    texts: list[str] = []
    previous: str | None = None
    for kind, token, spaced in tagged:
        sep = "" if previous is None or not spaced or NEWLINE in (previous, token) else " "
        previous = token
        if kinds and kinds[-1] == kind:
            texts[-1] += sep + token
            continue
        if sep and kinds and kinds[-1] == SegmentKind.EQUAL:
            texts[-1] += sep
        elif sep and kind == SegmentKind.EQUAL:
            token = sep + token
        elif sep:
            kinds.append(SegmentKind.EQUAL)
            texts.append(sep)
        kinds.append(kind)
        texts.append(token)
    return [Segment(k, t) for k, t in zip(kinds, texts, strict=True)]


def redline_html(segments: Sequence[Segment], side: str = "both") -> str:
    """The segments as HTML: each text escaped, deletions in ``<del>``, insertions in
    ``<ins>``; line breaks stay ``\\n`` (show it with ``white-space: pre-wrap``).
    ``side``: "both" (one text with both marks), "old" (the older text, its deletions
    marked) or "new" (the newer text, its insertions marked)."""
    skip = {"old": SegmentKind.INSERTED, "new": SegmentKind.DELETED}.get(side)
    parts: list[str] = []
    previous = ""
    for i, seg in enumerate(segments):
        if seg.kind == skip:
            continue
        beside = {s.kind for s in segments[max(0, i - 1) : i + 2 : 2] if i + 2 > 1}
        if skip in beside and seg.kind == SegmentKind.EQUAL and not seg.text.strip(" "):
            continue  # the space between a deletion and an insertion: one side's only
        raw = seg.text
        if previous[-1:] in ("", " ", NEWLINE) and raw[:1] == " ":
            raw = raw[1:]  # the space that stood beside a segment of the other side
        if not raw:
            continue
        previous = raw
        text = html.escape(raw, quote=False)
        if seg.kind == SegmentKind.EQUAL:
            parts.append(text)
        else:
            parts.append(f"<{seg.kind.value}>{text}</{seg.kind.value}>")
    return "".join(parts)


_PATH = re.compile(r"(?P<field>[^.\[]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<column>.+))?")


def split_path(path: str) -> tuple[str, int | None, str | None]:
    """``actions[2].owner`` -> ("actions", 2, "owner"); ``title`` -> ("title", None, None)."""
    match = _PATH.fullmatch(path)
    if match is None:
        return path, None, None
    index = match["index"]
    return match["field"], int(index) if index is not None else None, match["column"]


def schema_labels(schema: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """(Polish, English) label of each field (``goals``) and table column (``actions.owner``)
    of a template's field schema."""

    def pair(spec: Mapping[str, Any]) -> tuple[str, str]:
        pl = str(spec.get("label") or spec["name"])
        return pl, str(spec.get("label_en") or pl)

    return {key: pair(spec) for key, spec in _schema_specs(schema)}


def schema_types(schema: Mapping[str, Any]) -> dict[str, str]:
    """The type of each field (``goals``: list) and table column (``actions.budget``:
    decimal); a list field's items under ``goals[]``."""
    types = {key: str(spec.get("type", "")) for key, spec in _schema_specs(schema)}
    for f in schema.get("fields", []):
        if isinstance(f, Mapping) and isinstance(f.get("items"), Mapping) and "name" in f:
            types[f"{f['name']}[]"] = str(f["items"].get("type", ""))
    return types


def schema_options(schema: Mapping[str, Any]) -> dict[str, dict[str, tuple[str, str]]]:
    """The options of each choice, keyed as ``schema_types`` keys types (``unit_kind``,
    ``partners.kind``, ``kinds[]``): value -> (Polish, English) label, so that a changed
    value is shown to people by its label."""
    specs = list(_schema_specs(schema))
    for f in schema.get("fields", []):
        if isinstance(f, Mapping) and isinstance(f.get("items"), Mapping) and "name" in f:
            specs.append((f"{f['name']}[]", f["items"]))
    found: dict[str, dict[str, tuple[str, str]]] = {}
    for key, spec in specs:
        if spec.get("type") != "choice" or not isinstance(spec.get("options"), list):
            continue
        labels: dict[str, tuple[str, str]] = {}
        for option in spec["options"]:
            if isinstance(option, Mapping) and isinstance(option.get("value"), str):
                pl = str(option.get("label") or option["value"])
                labels[option["value"]] = (pl, str(option.get("label_en") or pl))
        found[key] = labels
    return found


def _schema_specs(schema: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for f in schema.get("fields", []):
        if not isinstance(f, Mapping) or "name" not in f:
            continue
        yield str(f["name"]), f
        for c in f.get("columns", []):
            if isinstance(c, Mapping) and "name" in c:
                yield f"{f['name']}.{c['name']}", c


# -- the use-case -----------------------------------------------------------------------


@dataclass(frozen=True)
class ComparedVersion:
    number: int
    author_name: str
    author_function: str | None
    created_at: datetime
    note: str | None


@dataclass(frozen=True)
class Comparison:
    document_id: int
    reference: str
    title: str
    old: ComparedVersion
    new: ComparedVersion
    changes: list[ValueChange]
    segments: list[Segment]
    """The redline of the rendered text, old to new."""
    labels: dict[str, tuple[str, str]]
    """(Polish, English) labels of fields and columns (``schema_labels``)."""
    types: dict[str, str]
    """Types of fields, list items and columns (``schema_types``)."""
    options: dict[str, dict[str, tuple[str, str]]]
    """Labels of the options of choices (``schema_options``)."""

    def type_of(self, path: str) -> str:
        """The type of the value at ``path`` (``actions[0].budget``: decimal)."""
        return self.types.get(self._key_of(path), "")

    def options_of(self, path: str) -> dict[str, tuple[str, str]]:
        """value -> (Polish, English) label of the choice at ``path``; {} if not a choice."""
        return self.options.get(self._key_of(path), {})

    def _key_of(self, path: str) -> str:
        field, index, column = split_path(path)
        if column is not None:
            return f"{field}.{column}"
        if index is not None and f"{field}[]" in self.types:
            return f"{field}[]"
        return field

    def redline_html(self, side: str = "both") -> str:
        return redline_html(self.segments, side)

    @property
    def text_changed(self) -> bool:
        return any(s.kind != SegmentKind.EQUAL for s in self.segments)


_TEXT_CACHE_SIZE: Final = 64
_text_cache: OrderedDict[str, str] = OrderedDict()
_text_cache_lock = threading.Lock()


def _version_text(rt: Runtime, docx_sha256: str) -> str:
    """The text of a stored DOCX, kept for the last few: stored files are write-once, so
    the text of a sha256 never changes (comparing v3 with v4, then v4 with v5...)."""
    with _text_cache_lock:
        if docx_sha256 in _text_cache:
            _text_cache.move_to_end(docx_sha256)
            return _text_cache[docx_sha256]
    text = docx_text(rt.blobs.get(docx_sha256))
    with _text_cache_lock:
        _text_cache[docx_sha256] = text
        while len(_text_cache) > _TEXT_CACHE_SIZE:
            _text_cache.popitem(last=False)
    return text


def compare_versions(
    rt: Runtime, *, actor: Actor, document_id: int, old: int, new: int
) -> Comparison:
    """Version ``old`` against version ``new`` of a document the actor may see (NotFound
    otherwise, and for a version the document does not have)."""
    with transaction(rt.read_sessions) as session:
        doc = load_visible(session, actor, document_id)
        before, after = version_of(doc, old), version_of(doc, new)
        people = people_by_id(
            session, viewer=actor, user_ids=(before.created_by_id, after.created_by_id)
        )
        summary = {}
        for v in (before, after):
            person = people.get(v.created_by_id)
            summary[v.number] = ComparedVersion(
                v.number,
                person.full_name if person else f"#{v.created_by_id}",
                person.function_title if person else None,
                v.created_at,
                v.note,
            )
        values = (dict(before.field_values), dict(after.field_values))
        shas = (before.docx_sha256, after.docx_sha256)
        reference, title = doc.reference or str(doc.id), doc.title
        labels = schema_labels(doc.template_version.field_schema)
        types = schema_types(doc.template_version.field_schema)
        options = schema_options(doc.template_version.field_schema)
    texts = [_version_text(rt, sha) for sha in shas]  # outside the read transaction
    return Comparison(
        document_id=document_id,
        reference=reference,
        title=title,
        old=summary[old],
        new=summary[new],
        changes=diff_values(*values),
        segments=redline(texts[0], texts[1]),
        labels=labels,
        types=types,
        options=options,
    )
