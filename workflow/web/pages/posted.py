"""What a posted form says, for the pages that read their forms themselves (``drafting``,
``new_document``): a text field, a number, and the field errors worded for the form.

``where`` maps a value's path back to the form path it came from (``forms.values_from_raw``:
a blank row dropped moves the rows after it), so an error lands next to its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

from workflow.errors import InvalidInput
from workflow.rendering.fields import FieldSchema
from workflow.web.pages.forms import all_errors, error_text, label_of


def form_text(form: FormData, name: str) -> str:
    """The text of field ``name``; "" if missing or a file."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def worded(
    exc: InvalidInput, schema: FieldSchema | None, lang: str, where: Any = None
) -> dict[str, str]:
    """``{form path: sentence}`` for an error, the path moved back to the row it came from."""
    path = where(exc.field) if where is not None else exc.field
    label = label_of(schema, path, lang) if schema is not None else None
    return {path: error_text(exc, lang, label=label)}


def every_error(
    schema: FieldSchema, values: Mapping[str, object], lang: str, where: Any
) -> dict[str, str]:
    """Every field error of the form at once, worded, by form path."""
    errors: dict[str, str] = {}
    for problem in all_errors(schema, values):
        errors.update(worded(problem, schema, lang, where))
    return errors
