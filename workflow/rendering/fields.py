"""The declared fields of a template, and validation of the values a user enters.

A template (.docx) comes with a schema (JSON) that names every variable the user fills in:

    {"fields": [
      {"name": "goals", "type": "list", "items": {"type": "string", "max_length": 500},
       "required": true, "min_items": 1, "label": "Cele", "label_en": "Goals"},
      {"name": "actions", "type": "table", "label": "Działania", "label_en": "Actions",
       "columns": [{"name": "budget", "type": "decimal", "label": "Budżet",
                    "label_en": "Budget", "required": true}]}]}

Types: ``string`` (one line), ``text`` (several lines), ``date`` (ISO ``yyyy-mm-dd``),
``integer``, ``decimal`` (money, at most 2 decimal places), ``boolean``, ``choice`` (one of
the listed ``options``), ``list`` (of one scalar type, given by ``items``) and ``table``
(rows of scalar ``columns``). A choice is a scalar like the others: a field, a table
column or the items of a list:

    {"name": "unit_kind", "type": "choice", "label": "Rodzaj jednostki", "required": true,
     "options": [{"value": "gmina", "label": "gmina", "label_en": "municipality"},
                 {"value": "powiat", "label": "powiat", "label_en": "county"}]}

The template receives the option's ``value`` (a string), never its label: a template maps
values to its own words if it needs to (``{% if unit_kind == "gmina" %}``); the labels are
for the form and the pages that show values to people.

``FieldSchema.validate`` returns the values coerced to Python types, every declared field
present (``None`` for a missing optional scalar, ``[]`` for a missing optional list or
table) so that templates rendered with strict undefined never trip over an optional field;
the checks of each type are in ``rendering.field_values``.
Errors are ``InvalidInput(path, code, **params)`` with paths like ``goals[2]`` or
``actions[1].budget`` (0-based indices, like JSON paths).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workflow.errors import ErrorCode, InvalidInput
from workflow.rendering.engine import SYSTEM_VARIABLES
from workflow.rendering.field_values import CONTROL_CHARACTERS, validate_field

SCALAR_TYPES = frozenset({"string", "text", "date", "integer", "decimal", "boolean", "choice"})
FIELD_TYPES = SCALAR_TYPES | {"list", "table"}

_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}")
# Jinja's own words (and Python's) cannot name a variable a template can print.
_RESERVED = (
    frozenset(
        {"loop", "self", "super", "varargs", "kwargs", "caller", "true", "false", "none"}
        | {"range", "dict", "lipsum", "cycler", "joiner", "namespace"}
        | set(keyword.kwlist)
    )
    | SYSTEM_VARIABLES
)
MAX_OPTIONS = 200
"""The most options a choice may list (a form's select, not a registry)."""
MAX_OPTION_VALUE = 100
"""The longest value of an option, in characters."""

_FIELD_KEYS = frozenset(
    {"name", "type", "label", "label_en", "required", "max_length", "min_items", "max_items"}
    | {"items", "columns", "options"}
)
_ITEM_KEYS = frozenset({"type", "max_length", "options"})
_OPTION_KEYS = frozenset({"value", "label", "label_en"})


@dataclass(frozen=True)
class Option:
    """One option of a ``choice`` field."""

    value: str
    """What the values hold and the template receives: non-empty, at most 100 characters,
    no surrounding spaces."""
    label: str
    """Polish label shown in the form and wherever the value is shown to people."""
    label_en: str = ""
    """English label; empty when not translated."""

    def label_in(self, lang: str) -> str:
        """The label in ``lang`` (``en`` or ``pl``); Polish when there is no English one."""
        return self.label_en if lang == "en" and self.label_en else self.label

    def to_json(self) -> dict[str, str]:
        data = {"value": self.value, "label": self.label}
        if self.label_en:
            data["label_en"] = self.label_en
        return data


@dataclass(frozen=True)
class Field:
    """One declared variable of a template (or one column of a table field)."""

    name: str
    """Variable name used in the template: lowercase ASCII, digits, underscores."""
    type: str
    """One of ``FIELD_TYPES``; table columns and list items are scalar."""
    label: str
    """Polish label shown in the form."""
    label_en: str = ""
    """English label; empty when not translated."""
    required: bool = False
    """A required scalar must be present and non-empty; a required list must have an item."""
    max_length: int | None = None
    """Maximum characters of a string or text (of each item, for a list)."""
    min_items: int | None = None
    """Minimum number of items of a list or rows of a table."""
    max_items: int | None = None
    """Maximum number of items of a list or rows of a table."""
    items: Field | None = None
    """For a list: the (scalar, unnamed) type of its items."""
    columns: tuple[Field, ...] = ()
    """For a table: its scalar columns, in display order."""
    options: tuple[Option, ...] = ()
    """For a choice: the options, in display order (values unique)."""

    def option(self, value: object) -> Option | None:
        """The option whose value is ``value``; None if there is none (or not a choice)."""
        return next((o for o in self.options if o.value == value), None)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "type": self.type, "label": self.label}
        if self.label_en:
            data["label_en"] = self.label_en
        if self.required:
            data["required"] = True
        for key in ("max_length", "min_items", "max_items"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.items is not None:
            data["items"] = {"type": self.items.type}
            if self.items.max_length is not None:
                data["items"]["max_length"] = self.items.max_length
            if self.items.options:
                data["items"]["options"] = [o.to_json() for o in self.items.options]
        if self.columns:
            data["columns"] = [column.to_json() for column in self.columns]
        if self.options:
            data["options"] = [option.to_json() for option in self.options]
        return data


@dataclass(frozen=True)
class FieldSchema:
    """The declared fields of one template, in form order."""

    fields: tuple[Field, ...]
    title: str = ""
    """Polish name of the template, shown when choosing one."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    def get(self, name: str) -> Field:
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(name)

    @classmethod
    def parse(cls, data: Mapping[str, Any], *, source: str) -> FieldSchema:
        """Build a schema from its JSON form; ``source`` (a file name) is quoted in errors."""
        if not isinstance(data, Mapping):
            raise InvalidInput("schema", ErrorCode.SCHEMA_ENTRY_NOT_OBJECT, source=source)
        _reject_unknown_keys(data, {"fields", "title"}, "schema", source)
        raw_fields = data.get("fields")
        if not isinstance(raw_fields, list):
            raise InvalidInput("schema.fields", ErrorCode.SCHEMA_FIELDS_NOT_LIST, source=source)
        fields = tuple(
            _parse_field(raw, f"schema.fields[{i}]", source, scalar_only=False)
            for i, raw in enumerate(raw_fields)
        )
        _reject_duplicates(fields, "schema.fields", source)
        title = data.get("title", "")
        if not isinstance(title, str):
            raise InvalidInput("schema.title", ErrorCode.SCHEMA_NOT_TEXT, source=source)
        return cls(fields=fields, title=title)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.title:
            data["title"] = self.title
        data["fields"] = [field.to_json() for field in self.fields]
        return data

    def validate(self, values: Mapping[str, object]) -> dict[str, object]:
        """Check and coerce user values; raise ``InvalidInput`` naming the first bad path."""
        if not isinstance(values, Mapping):
            raise InvalidInput("values", ErrorCode.VALUES_NOT_OBJECT)
        known = set(self.names)
        for name in values:
            if name not in known:
                # ascii(): a name with unpaired surrogates must still print in the answer
                raise InvalidInput(ascii(name)[1:-1], ErrorCode.UNKNOWN_FIELD)
        return {field.name: validate_field(field, values.get(field.name)) for field in self.fields}


# -- parsing ----------------------------------------------------------------------------


def _labels(raw: Mapping[str, Any], path: str, source: str) -> tuple[str, str]:
    """The Polish ``label`` (required, not blank) and the English ``label_en`` ("" if none)
    of a field or an option."""
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        raise InvalidInput(f"{path}.label", ErrorCode.SCHEMA_LABEL_REQUIRED, source=source)
    label_en = raw.get("label_en", "")
    if not isinstance(label_en, str):
        raise InvalidInput(f"{path}.label_en", ErrorCode.SCHEMA_NOT_TEXT, source=source)
    return label, label_en


def _parse_field(raw: object, path: str, source: str, *, scalar_only: bool) -> Field:
    if not isinstance(raw, Mapping):
        raise InvalidInput(path, ErrorCode.SCHEMA_ENTRY_NOT_OBJECT, source=source)
    _reject_unknown_keys(raw, _FIELD_KEYS, path, source)
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput(f"{path}.name", ErrorCode.SCHEMA_NAME_INVALID, source=source)
    if name in _RESERVED:
        raise InvalidInput(f"{path}.name", ErrorCode.SCHEMA_NAME_RESERVED, source=source, name=name)
    kind = raw.get("type")
    allowed = SCALAR_TYPES if scalar_only else FIELD_TYPES
    if kind not in allowed:
        raise InvalidInput(
            f"{path}.type", ErrorCode.SCHEMA_TYPE_INVALID, source=source, allowed=sorted(allowed)
        )
    label, label_en = _labels(raw, path, source)
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise InvalidInput(f"{path}.required", ErrorCode.SCHEMA_NOT_BOOLEAN, source=source)
    _check_limits_apply(kind, raw, path, source)
    items = columns = None
    if kind == "list":
        items = _parse_items(raw.get("items"), f"{path}.items", source)
    if kind == "table":
        columns = _parse_columns(raw.get("columns"), f"{path}.columns", source)
    options: tuple[Option, ...] = ()
    if kind == "choice":
        options = _parse_options(raw.get("options"), f"{path}.options", source)
    return Field(
        name=name,
        type=kind,
        label=label,
        label_en=label_en,
        required=required,
        items=items,
        columns=columns or (),
        options=options,
        max_length=_limit(raw, "max_length", path, source),
        min_items=_limit(raw, "min_items", path, source),
        max_items=_limit(raw, "max_items", path, source),
    )


def _parse_items(raw: object, path: str, source: str) -> Field:
    if not isinstance(raw, Mapping):
        raise InvalidInput(path, ErrorCode.SCHEMA_ITEMS_REQUIRED, source=source)
    _reject_unknown_keys(raw, _ITEM_KEYS, path, source)
    kind = raw.get("type")
    if kind not in SCALAR_TYPES:
        raise InvalidInput(
            f"{path}.type",
            ErrorCode.SCHEMA_TYPE_INVALID,
            source=source,
            allowed=sorted(SCALAR_TYPES),
        )
    max_length = _limit(raw, "max_length", path, source)
    if max_length is not None and kind not in ("string", "text"):
        raise _not_applicable(f"{path}.max_length", source, "string", "text")
    if kind != "choice" and "options" in raw:
        raise _not_applicable(f"{path}.options", source, "choice")
    options: tuple[Option, ...] = ()
    if kind == "choice":
        options = _parse_options(raw.get("options"), f"{path}.options", source)
    return Field(
        name="", type=kind, label="", required=True, max_length=max_length, options=options
    )


def _parse_columns(raw: object, path: str, source: str) -> tuple[Field, ...]:
    if not isinstance(raw, list) or not raw:
        raise InvalidInput(path, ErrorCode.SCHEMA_COLUMNS_REQUIRED, source=source)
    columns = tuple(
        _parse_field(column, f"{path}[{i}]", source, scalar_only=True)
        for i, column in enumerate(raw)
    )
    _reject_duplicates(columns, path, source)
    return columns


def _parse_options(raw: object, path: str, source: str) -> tuple[Option, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_OPTIONS:
        raise InvalidInput(
            path, ErrorCode.SCHEMA_OPTIONS_REQUIRED, source=source, max_options=MAX_OPTIONS
        )
    options: list[Option] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        where = f"{path}[{i}]"
        if not isinstance(entry, Mapping):
            raise InvalidInput(where, ErrorCode.SCHEMA_ENTRY_NOT_OBJECT, source=source)
        _reject_unknown_keys(entry, _OPTION_KEYS, where, source)
        value = entry.get("value")
        if (
            not isinstance(value, str)
            or not value
            or value != value.strip()
            or len(value) > MAX_OPTION_VALUE
            or "\n" in value
            or CONTROL_CHARACTERS.search(value)
        ):
            raise InvalidInput(
                f"{where}.value",
                ErrorCode.SCHEMA_OPTION_VALUE_INVALID,
                source=source,
                max_length=MAX_OPTION_VALUE,
            )
        if value in seen:
            raise InvalidInput(
                f"{where}.value", ErrorCode.SCHEMA_DUPLICATE_OPTION, source=source, value=value
            )
        seen.add(value)
        label, label_en = _labels(entry, where, source)
        options.append(Option(value=value, label=label, label_en=label_en))
    return tuple(options)


def _limit(raw: Mapping[str, Any], key: str, path: str, source: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{path}.{key}", ErrorCode.SCHEMA_NOT_POSITIVE_INTEGER, source=source)
    return value


def _check_limits_apply(kind: object, raw: Mapping[str, Any], path: str, source: str) -> None:
    if "max_length" in raw and kind not in ("string", "text"):
        raise _not_applicable(f"{path}.max_length", source, "string", "text")
    for key in ("min_items", "max_items"):
        if key in raw and kind not in ("list", "table"):
            raise _not_applicable(f"{path}.{key}", source, "list", "table")
    if kind != "list" and "items" in raw:
        raise _not_applicable(f"{path}.items", source, "list")
    if kind != "table" and "columns" in raw:
        raise _not_applicable(f"{path}.columns", source, "table")
    if kind != "choice" and "options" in raw:
        raise _not_applicable(f"{path}.options", source, "choice")
    low, high = raw.get("min_items"), raw.get("max_items")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        raise InvalidInput(f"{path}.min_items", ErrorCode.SCHEMA_MIN_ABOVE_MAX, source=source)


def _not_applicable(path: str, source: str, *types: str) -> InvalidInput:
    return InvalidInput(path, ErrorCode.SCHEMA_KEY_NOT_APPLICABLE, source=source, types=list(types))


def _reject_unknown_keys(
    raw: Mapping[str, Any], allowed: frozenset[str] | set[str], path: str, source: str
) -> None:
    for key in raw:
        if key not in allowed:
            raise InvalidInput(f"{path}.{key}", ErrorCode.SCHEMA_UNKNOWN_KEY, source=source)


def _reject_duplicates(fields: Sequence[Field], path: str, source: str) -> None:
    seen: set[str] = set()
    for i, field in enumerate(fields):
        if field.name in seen:
            raise InvalidInput(
                f"{path}[{i}].name",
                ErrorCode.SCHEMA_DUPLICATE_NAME,
                source=source,
                name=field.name,
            )
        seen.add(field.name)
