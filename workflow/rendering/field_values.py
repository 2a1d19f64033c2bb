"""Validation of the values a user enters for a template's declared fields.

``validate_field(field, value)`` checks one value against its ``Field`` (see
``rendering.fields``, whose ``FieldSchema.validate`` calls it for every field) and returns
it coerced to its Python type: ``str`` for ``string``, ``text`` and ``choice`` (the option's
value), ``date``, ``int``, ``Decimal`` (money, two places), ``bool``, a list for a ``list``
and a list of dicts for a ``table``; ``None`` for a missing optional scalar, ``[]`` for a
missing optional list or table. Errors are ``InvalidInput(path, code, **params)`` naming the
first bad path (``goals[2]``, ``actions[1].budget``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from workflow.errors import ErrorCode, InvalidInput

if TYPE_CHECKING:
    from workflow.rendering.fields import Field

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"-?\d{1,18}")
_DECIMAL = re.compile(r"-?\d{1,15}(\.\d+)?")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
"""What XML cannot carry (tab and newline are fine), nor UTF-8 (unpaired surrogates)."""
_GROSZ = Decimal("0.01")  # money has at most two decimal places
_MAX_AMOUNT = Decimal(10) ** 15


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_field(field: Field, value: object, path: str | None = None) -> object:
    path = path or field.name
    if field.type in ("list", "table"):
        return _validate_sequence(field, value, path)
    if _is_blank(value):
        if field.required:
            raise InvalidInput(path, ErrorCode.VALUE_REQUIRED)
        return None
    return _coerce_scalar(field, value, path)


def _validate_sequence(field: Field, value: object, path: str) -> list[object]:
    if value is None:
        value = []
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise InvalidInput(path, ErrorCode.NOT_A_LIST, got=_kind(value))
    if field.required and not value:
        raise InvalidInput(path, ErrorCode.LIST_REQUIRED)
    if field.min_items is not None and value and len(value) < field.min_items:
        raise InvalidInput(
            path, ErrorCode.TOO_FEW_ITEMS, min_items=field.min_items, count=len(value)
        )
    if field.max_items is not None and len(value) > field.max_items:
        raise InvalidInput(
            path, ErrorCode.TOO_MANY_ITEMS, max_items=field.max_items, count=len(value)
        )
    if field.type == "list":
        assert field.items is not None  # noqa: S101 - parse() guarantees items for a list
        item = field.items
        result: list[object] = []
        for i, element in enumerate(value):
            if _is_blank(element):
                raise InvalidInput(f"{path}[{i}]", ErrorCode.ITEM_EMPTY)
            result.append(_coerce_scalar(item, element, f"{path}[{i}]"))
        return result
    return [_validate_row(field, row, f"{path}[{i}]") for i, row in enumerate(value)]


def _validate_row(field: Field, row: object, path: str) -> dict[str, object]:
    if not isinstance(row, Mapping):
        raise InvalidInput(path, ErrorCode.ROW_NOT_OBJECT, got=_kind(row))
    names = {column.name for column in field.columns}
    for key in row:
        if key not in names:
            raise InvalidInput(f"{path}.{key}", ErrorCode.UNKNOWN_COLUMN)
    return {
        column.name: validate_field(column, row.get(column.name), f"{path}.{column.name}")
        for column in field.columns
    }


def _coerce_scalar(field: Field, value: object, path: str) -> object:
    kind = field.type
    if kind in ("string", "text"):
        return _coerce_text(field, value, path)
    if kind == "date":
        return _coerce_date(value, path)
    if kind == "integer":
        return _coerce_integer(value, path)
    if kind == "decimal":
        return _coerce_decimal(value, path)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InvalidInput(path, ErrorCode.NOT_A_BOOLEAN, got=_kind(value))
        return value
    if kind == "choice":
        return _coerce_choice(field, value, path)
    raise AssertionError(f"unhandled field type {kind}")  # parse() admits no other type


def _coerce_text(field: Field, value: object, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(path, ErrorCode.NOT_TEXT, got=_kind(value))
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if field.type == "string" and "\n" in text:
        raise InvalidInput(path, ErrorCode.NOT_SINGLE_LINE)
    if CONTROL_CHARACTERS.search(text):
        raise InvalidInput(path, ErrorCode.CONTROL_CHARACTERS)
    if field.max_length is not None and len(text) > field.max_length:
        raise InvalidInput(
            path, ErrorCode.TEXT_TOO_LONG, length=len(text), max_length=field.max_length
        )
    return text


def _coerce_choice(field: Field, value: object, path: str) -> str:
    """The option's value (surrounding spaces ignored, as in any text); an option's label
    is not accepted for its value."""
    text = value.strip() if isinstance(value, str) else value
    if field.option(text) is None:
        raise InvalidInput(
            path, ErrorCode.NOT_AN_OPTION, allowed=[option.value for option in field.options]
        )
    assert isinstance(text, str)  # noqa: S101 - every option's value is a str
    return text


def _coerce_date(value: object, path: str) -> date:
    if isinstance(value, datetime):
        raise InvalidInput(path, ErrorCode.DATE_WITH_TIME)
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
        raise InvalidInput(path, ErrorCode.NOT_A_DATE)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(path, ErrorCode.NOT_A_CALENDAR_DATE, value=value.strip()) from None


def _coerce_integer(value: object, path: str) -> int:
    if isinstance(value, bool):
        raise InvalidInput(path, ErrorCode.NOT_AN_INTEGER)
    if isinstance(value, int):
        if abs(value) >= 10**18:
            raise InvalidInput(path, ErrorCode.INTEGER_TOO_LARGE, max_digits=18)
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    raise InvalidInput(path, ErrorCode.NOT_AN_INTEGER)


def _coerce_decimal(value: object, path: str) -> Decimal:
    if isinstance(value, bool):
        raise InvalidInput(path, ErrorCode.NOT_AN_AMOUNT)
    if isinstance(value, float):
        value = repr(value)  # the shortest decimal that round-trips: 0.1 -> "0.1"
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            raise InvalidInput(path, ErrorCode.NOT_AN_AMOUNT) from None
    else:
        raise InvalidInput(path, ErrorCode.NOT_AN_AMOUNT)
    if not amount.is_finite():
        raise InvalidInput(path, ErrorCode.NOT_AN_AMOUNT)
    if abs(amount) >= _MAX_AMOUNT:
        raise InvalidInput(path, ErrorCode.AMOUNT_TOO_LARGE, max_digits=15)
    rounded = amount.quantize(_GROSZ)
    if rounded != amount:
        raise InvalidInput(path, ErrorCode.AMOUNT_TOO_PRECISE)
    return rounded


def _kind(value: object) -> str:
    names = {str: "text", bool: "a boolean", int: "a number", float: "a number"}
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return names.get(type(value), type(value).__name__)
