"""A template's field schema as an HTML form, and a posted form back as field values.

One module renders and parses, so that the names the page writes are the names it reads:

    raw = raw_from_values(schema, version.field_values)     # stored values -> form text
    form = build_form(schema, raw, errors={}, lang="pl")    # -> what the template draws
    raw = raw_from_form(schema, request_form.multi_items()) # posted -> form text again
    values, where = values_from_raw(schema, raw)            # -> what FieldSchema.validate takes

HTML names: a scalar field is its name (``valid_until``); the items of a list are
``goals-0``, ``goals-1``...; the cells of a table are ``actions-0-owner``. Row numbers are
the order of the form; gaps (a row removed by hand) close up. A list item or table row left
entirely blank is dropped before validation, so that "add a row" and then saving does not
complain about the empty row; ``where(path)`` maps an error path of the validated values
(``goals[1]``, ``actions[2].budget``) back to the form row it came from.

Without JavaScript rows are added and removed by the submit button pressed:
``name="add" value="goals"`` appends an empty row, ``name="remove" value="goals-1"``
removes that row (:func:`apply_row_command`). With htmx the same buttons post the same form
and the page swaps the fields in place.

:func:`error_text` words an error for the person reading the form, naming the field by its
label (:func:`label_of`: "Cele współpracy 2") rather than its path.

Everything here is pure: no database, no request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, Final

from workflow.errors import EstrategiaError, InvalidInput
from workflow.i18n import render_message, ui_text
from workflow.rendering.fields import Field, FieldSchema

RawScalar = str
RawRow = dict[str, str]
RawValue = str | list[str] | list[RawRow]
RawValues = dict[str, RawValue]
"""Form text of each field: a string, a list of strings (list), or rows of strings (table)."""

ADD: Final = "add"
REMOVE: Final = "remove"

_INPUTS: Final = {
    "string": "text",
    "text": "textarea",
    "date": "date",
    "integer": "integer",
    "decimal": "money",
    "boolean": "checkbox",
    "choice": "select",
}
_ROW_NAME = re.compile(
    r"(?P<field>[a-z][a-z0-9_]*)-(?P<row>\d{1,4})(?:-(?P<column>[a-z][a-z0-9_]*))?"
)
LONG_LINE: Final = 150
"""A one-line field longer than this is shown as a wrapping text box (``line``)."""
_MAX_ROWS: Final = 200
"""A form can post no more rows than this per field (the schema's own limit is lower)."""


# -- what a page draws ------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """One input element."""

    name: str
    """HTML name: ``valid_until``, ``goals-1``, ``actions-0-owner``."""
    path: str
    """Schema path of the value: ``valid_until``, ``goals[1]``, ``actions[0].owner``."""
    input: str
    """``text``, ``line`` (one line, wrapped), ``textarea``, ``date``, ``integer``, ``money``,
    ``checkbox`` or ``select``."""
    value: str
    label: str
    required: bool
    max_length: int | None
    error: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    """For a select: (value, label in the page's language) of each option, in order. A
    value the options do not have (posted by hand, or kept from an older template version)
    is listed too, as itself, so that what the error names is still what is chosen."""
    blank_option: bool = False
    """For a select: it starts with an empty "— choose —" option (the field is optional,
    or nothing is chosen yet)."""

    @property
    def id(self) -> str:
        return f"f-{self.name}"


@dataclass(frozen=True)
class Row:
    """One item of a list (one input) or one row of a table (an input per column)."""

    name: str
    """``goals-1``: the value of the remove button."""
    inputs: tuple[Input, ...]
    error: str | None = None
    """An error about the row as a whole (``actions[1]``)."""


@dataclass(frozen=True)
class FormField:
    """One field of the schema as the form shows it."""

    name: str
    kind: str
    """``scalar``, ``list`` or ``table``."""
    label: str
    required: bool
    input: Input | None = None
    """For a scalar."""
    rows: tuple[Row, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()
    """For a table: (column name, label), for the header."""
    can_add: bool = False
    can_remove: bool = False
    error: str | None = None
    """An error about the field as a whole (``goals``: at least one item)."""

    @property
    def id(self) -> str:
        return f"f-{self.name}"


@dataclass(frozen=True)
class Form:
    fields: tuple[FormField, ...]
    errors: Mapping[str, str] = field(default_factory=dict)
    """Every error by schema path (``goals[1]``), already worded."""

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)


def _label(f: Field, lang: str) -> str:
    return f.label_en if lang == "en" and f.label_en else f.label


def build_form(
    schema: FieldSchema, raw: Mapping[str, RawValue], *, errors: Mapping[str, str], lang: str
) -> Form:
    """The form of ``schema`` filled with ``raw``; ``errors`` (by schema path, worded) are
    put next to their input, row or field. A list or table shows at least one row."""
    shown: list[FormField] = []
    for f in schema.fields:
        label = _label(f, lang)
        value = raw.get(f.name)
        if f.type not in ("list", "table"):
            text = value if isinstance(value, str) else ""
            shown.append(
                FormField(
                    f.name, "scalar", label, f.required,
                    input=_input(f, f.name, f.name, text, label, errors, lang),
                )
            )  # fmt: skip
            continue
        rows_raw: list[object] = list(value) if isinstance(value, list) else []
        if not rows_raw:
            rows_raw = [{} if f.type == "table" else ""]
        rows = []
        for i, item in enumerate(rows_raw):
            row_name, row_path = f"{f.name}-{i}", f"{f.name}[{i}]"
            if f.type == "list":
                assert f.items is not None  # noqa: S101 - a parsed list has items
                inputs: tuple[Input, ...] = (
                    _input(f.items, row_name, row_path, str(item) if isinstance(item, str) else "",
                           f"{label} {i + 1}", errors, lang),
                )  # fmt: skip
            else:
                cells = item if isinstance(item, Mapping) else {}
                inputs = tuple(
                    _input(c, f"{row_name}-{c.name}", f"{row_path}.{c.name}",
                           str(cells.get(c.name, "")), _label(c, lang), errors, lang)
                    for c in f.columns
                )  # fmt: skip
            rows.append(Row(row_name, inputs, errors.get(row_path)))
        limit = f.max_items if f.max_items is not None else _MAX_ROWS
        shown.append(
            FormField(
                f.name, f.type, label, f.required, rows=tuple(rows),
                columns=tuple((c.name, _label(c, lang)) for c in f.columns),
                can_add=len(rows) < limit, can_remove=len(rows) > 1 or bool(_filled(rows_raw)),
                error=errors.get(f.name),
            )
        )  # fmt: skip
    return Form(tuple(shown), dict(errors))


def _filled(rows: Sequence[object]) -> list[object]:
    return [r for r in rows if not _blank_item(r)]


def _input(
    f: Field, name: str, path: str, value: str, label: str, errors: Mapping[str, str], lang: str
) -> Input:
    kind = _INPUTS[f.type]
    if f.type == "string" and (f.max_length or 0) > LONG_LINE:
        kind = "line"  # one line of text, shown wrapped over two (see values_from_raw)
    options: tuple[tuple[str, str], ...] = ()
    if f.type == "choice":
        options = tuple((o.value, o.label_in(lang)) for o in f.options)
        if value.strip() and f.option(value.strip()) is None:
            options += ((value, value),)
    return Input(
        name=name,
        path=path,
        input=kind,
        value=value,
        label=label,
        required=f.required,
        max_length=f.max_length,
        error=errors.get(path),
        options=options,
        blank_option=f.type == "choice" and (not f.required or not value.strip()),
    )


# -- stored values -> form text ---------------------------------------------------------


def raw_from_values(schema: FieldSchema, values: Mapping[str, object]) -> RawValues:
    """The form text of stored (JSON) or validated values."""
    raw: RawValues = {}
    for f in schema.fields:
        value = values.get(f.name)
        if f.type == "list":
            raw[f.name] = [_text(v) for v in value] if isinstance(value, list) else []
        elif f.type == "table":
            rows = value if isinstance(value, list) else []
            raw[f.name] = [
                {c.name: _text(r.get(c.name)) for c in f.columns}
                for r in rows
                if isinstance(r, Mapping)
            ]
        else:
            raw[f.name] = "on" if value is True else _text(value)
    return raw


def _text(value: object) -> str:
    if value is None or value is False:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


# -- posted form -> form text -----------------------------------------------------------


def raw_from_form(schema: FieldSchema, pairs: Iterable[tuple[str, object]]) -> RawValues:
    """The form text of a posted form (``form.multi_items()``); unknown names are ignored
    (the CSRF token, the buttons). Rows keep the order of their numbers."""
    scalars: dict[str, str] = {}
    rows: dict[str, dict[int, object]] = {}
    types = {f.name: f for f in schema.fields}
    for name, value in pairs:
        if not isinstance(value, str):
            continue  # an uploaded file where text was expected: ignored
        f = types.get(name)
        if f is not None and f.type not in ("list", "table"):
            scalars[name] = value
            continue
        match = _ROW_NAME.fullmatch(name)
        if match is None:
            continue
        f = types.get(match["field"])
        if f is None or int(match["row"]) >= _MAX_ROWS:
            continue
        index, column = int(match["row"]), match["column"]
        if f.type == "list" and column is None:
            rows.setdefault(f.name, {})[index] = value
        elif f.type == "table" and column in {c.name for c in f.columns}:
            cells = rows.setdefault(f.name, {}).setdefault(index, {})
            if isinstance(cells, dict):
                cells[column] = value
    raw: RawValues = {}
    for f in schema.fields:
        if f.type == "list":
            raw[f.name] = [str(v) for _, v in sorted(rows.get(f.name, {}).items())]
        elif f.type == "table":
            raw[f.name] = [
                {c.name: str(cells.get(c.name, "")) for c in f.columns}
                for _, cells in sorted(rows.get(f.name, {}).items())
                if isinstance(cells, dict)
            ]
        else:
            raw[f.name] = scalars.get(f.name, "")
    return raw


def apply_row_command(
    schema: FieldSchema,
    raw: Mapping[str, RawValue],
    *,
    add: str | None = None,
    remove: str | None = None,
) -> RawValues:
    """``add="goals"`` appends an empty row; ``remove="goals-1"`` removes that row. Names
    that do not fit the schema change nothing. A new dict; ``raw`` is left as it was."""
    result: dict[str, Any] = {k: (list(v) if isinstance(v, list) else v) for k, v in raw.items()}
    if add:
        try:
            f: Field | None = schema.get(add)
        except KeyError:
            f = None
        if f is not None and f.type in ("list", "table"):
            rows: list[Any] = result.setdefault(f.name, [])
            if not rows:
                rows.append(_empty(f))  # the one blank row the form showed
            if len(rows) < (f.max_items or _MAX_ROWS):
                rows.append(_empty(f))
    if remove:
        match = _ROW_NAME.fullmatch(remove)
        if match is not None and match["column"] is None:
            rows_value = result.get(match["field"])
            index = int(match["row"])
            if isinstance(rows_value, list) and index < len(rows_value):
                del rows_value[index]
    return result


def _empty(f: Field) -> str | RawRow:
    return {c.name: "" for c in f.columns} if f.type == "table" else ""


def row_command(pairs: Iterable[tuple[str, object]]) -> tuple[str | None, str | None]:
    """The (add, remove) button a posted form was sent with, if any."""
    add = remove = None
    for name, value in pairs:
        if name == ADD and isinstance(value, str):
            add = value
        elif name == REMOVE and isinstance(value, str):
            remove = value
    return add, remove


# -- form text -> values ----------------------------------------------------------------


def values_from_raw(
    schema: FieldSchema, raw: Mapping[str, RawValue]
) -> tuple[dict[str, object], Callable[[str], str]]:
    """What ``FieldSchema.validate`` takes, and ``where(path)``: the form path an error
    path of those values points at (blank rows are dropped, so indices may shift).

    Blank scalars become None (a missing optional field); a checkbox is True when posted;
    money may be written the Polish way (``1 234,50``); dates also as ``31.12.2027``."""
    values: dict[str, object] = {}
    moved: dict[str, str] = {}
    for f in schema.fields:
        value = raw.get(f.name)
        if f.type == "boolean":
            values[f.name] = value == "on" or value == "true"
            continue
        if f.type not in ("list", "table"):
            values[f.name] = _scalar(f, value if isinstance(value, str) else "")
            continue
        items = value if isinstance(value, list) else []
        kept: list[object] = []
        for index, item in enumerate(items):
            if _blank_item(item):
                continue
            if len(kept) != index:
                moved[f"{f.name}[{len(kept)}]"] = f"{f.name}[{index}]"
            if f.type == "list":
                assert f.items is not None  # noqa: S101 - a parsed list has items
                kept.append(_scalar(f.items, item if isinstance(item, str) else ""))
            else:
                cells = item if isinstance(item, Mapping) else {}
                kept.append({c.name: _cell(c, cells.get(c.name, "")) for c in f.columns})
        values[f.name] = kept

    def where(path: str) -> str:
        for clean, original in moved.items():
            if path == clean or path.startswith(clean + "."):
                return original + path[len(clean) :]
        return path

    return values, where


def _cell(column: Field, value: object) -> object:
    if column.type == "boolean":
        return value in ("on", "true")
    return _scalar(column, value if isinstance(value, str) else "")


def _blank_item(item: object) -> bool:
    if isinstance(item, Mapping):
        return all(not str(v).strip() for v in item.values())
    return not str(item).strip()


_PL_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def _scalar(f: Field, text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if f.type == "date":
        match = _PL_DATE.fullmatch(text)
        if match:
            return f"{match[3]}-{int(match[2]):02d}-{int(match[1]):02d}"
    if f.type == "decimal":
        compact = re.sub(r"[\s\u00a0]", "", text.removesuffix("zł"))
        if "," in compact and "." not in compact:
            compact = compact.replace(",", ".")  # 1 234,50 zł, the Polish way
        return compact
    if f.type == "string" and (f.max_length or 0) > LONG_LINE:
        return " ".join(text.split())  # a wrapped box: a line break typed in it is a space
    return text


# -- errors, worded ---------------------------------------------------------------------


def all_errors(schema: FieldSchema, values: Mapping[str, object]) -> list[InvalidInput]:
    """Every field's error at once (``FieldSchema.validate`` stops at the first), and in a
    list or table every bad item or row, so that one submit shows all there is to fix."""
    errors: list[InvalidInput] = []
    for f in schema.fields:
        value = values.get(f.name)
        try:
            FieldSchema(fields=(f,)).validate({f.name: value})
        except InvalidInput as exc:
            if not (isinstance(value, list) and exc.field.startswith(f"{f.name}[")):
                errors.append(exc)
                continue
            loose = FieldSchema(
                fields=(replace(f, required=False, min_items=None, max_items=None),)
            )
            for index, item in enumerate(value):
                try:
                    loose.validate({f.name: [item]})
                except InvalidInput as item_error:
                    path = f"{f.name}[{index}]" + item_error.field[len(f"{f.name}[0]") :]
                    errors.append(_moved_error(item_error, path))
    return errors


def _moved_error(error: InvalidInput, path: str) -> InvalidInput:
    params = {k: v for k, v in error.params.items() if k != "field"}
    return InvalidInput(path, error.code, **params)


def error_text(error: EstrategiaError, lang: str, *, label: str | None = None) -> str:
    """The sentence shown next to the field ``error`` concerns, in ``lang``; ``label``
    (:func:`label_of`) names the field in it instead of its path."""
    if label is not None and isinstance(error, InvalidInput):
        return render_message(str(error.code), {**error.params, "field": label}, lang)
    return error.message(lang)


_PATH = re.compile(r"(?P<field>[a-z][a-z0-9_]*)(?:\[(?P<row>\d+)\](?:\.(?P<column>[a-z0-9_]+))?)?")


def label_of(schema: FieldSchema, path: str, lang: str) -> str | None:
    """How the form names ``path``: ``Cele współpracy 2``, ``Budżet (zł), wiersz 1``."""
    match = _PATH.fullmatch(path)
    if match is None:
        return None
    try:
        f = schema.get(match["field"])
    except KeyError:
        return None
    label = _label(f, lang)
    if match["row"] is None:
        return label
    number = int(match["row"]) + 1
    if match["column"] is None:
        return f"{label} {number}"
    column = next((c for c in f.columns if c.name == match["column"]), None)
    if column is None:
        return None
    return ui_text("{column}, row {row}", lang).format(column=_label(column, lang), row=number)
