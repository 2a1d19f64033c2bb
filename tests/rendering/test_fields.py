from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from workflow.errors import InvalidInput
from workflow.rendering.fields import FieldSchema

from .sample_data import LETTER_VALUES, STRATEGY_VALUES

SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "title", "type": "string", "label": "Tytuł", "required": True, "max_length": 20},
        {"name": "notes", "type": "text", "label": "Uwagi"},
        {"name": "signed_on", "type": "date", "label": "Data"},
        {"name": "copies", "type": "integer", "label": "Egzemplarze"},
        {"name": "budget", "type": "decimal", "label": "Budżet"},
        {"name": "public", "type": "boolean", "label": "Jawny"},
        {
            "name": "goals",
            "type": "list",
            "items": {"type": "string", "max_length": 30},
            "label": "Cele",
            "label_en": "Goals",
            "required": True,
            "min_items": 2,
        },
        {
            "name": "actions",
            "type": "table",
            "label": "Działania",
            "columns": [
                {"name": "action", "type": "string", "label": "Działanie", "required": True},
                {"name": "budget", "type": "decimal", "label": "Budżet", "required": True},
                {"name": "deadline", "type": "date", "label": "Termin"},
            ],
        },
    ]
}
VALID = {"title": "List", "goals": ["a", "b"]}


@pytest.fixture
def schema() -> FieldSchema:
    return FieldSchema.parse(SCHEMA, source="test.schema.json")


def refused(schema: FieldSchema, values: dict[str, object]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        schema.validate(values)
    return caught.value


def test_the_real_schemas_accept_the_sample_data(
    letter_schema: FieldSchema, strategy_schema: FieldSchema
) -> None:
    letter = letter_schema.validate(LETTER_VALUES)
    assert letter["valid_until"] == date(2028, 12, 31)
    strategy = strategy_schema.validate(STRATEGY_VALUES)
    actions = strategy["actions"]
    assert isinstance(actions, list)
    assert [row["budget"] for row in actions] == [
        Decimal("1250000.00"),
        Decimal("340000.00"),
        Decimal("415500.50"),
    ]
    assert letter_schema.names[0] == "strategy_name"


def test_schema_round_trips_through_json(schema: FieldSchema) -> None:
    again = FieldSchema.parse(schema.to_json(), source="again")
    assert again == schema
    assert schema.names == (
        "title",
        "notes",
        "signed_on",
        "copies",
        "budget",
        "public",
        "goals",
        "actions",
    )


def test_values_are_coerced_and_optional_fields_filled(schema: FieldSchema) -> None:
    values = schema.validate(
        {
            "title": "  List  ",
            "notes": "a\r\nb",
            "signed_on": "2026-11-25",
            "copies": "2",
            "budget": 1234.5,
            "public": False,
            "goals": ["jeden", "dwa"],
            "actions": [{"action": "Szkolenia", "budget": "100"}],
        }
    )
    assert values == {
        "title": "List",
        "notes": "a\nb",
        "signed_on": date(2026, 11, 25),
        "copies": 2,
        "budget": Decimal("1234.50"),
        "public": False,
        "goals": ["jeden", "dwa"],
        "actions": [{"action": "Szkolenia", "budget": Decimal("100.00"), "deadline": None}],
    }
    minimal = schema.validate(VALID)
    assert minimal["notes"] is None
    assert minimal["actions"] == []


@pytest.mark.parametrize(
    ("values", "field", "reason"),
    [
        ({**VALID, "titel": "x"}, "titel", "unknown field"),
        ({"goals": ["a", "b"]}, "title", "is required"),
        ({**VALID, "title": "   "}, "title", "is required"),
        ({**VALID, "title": 12}, "title", "must be text"),
        ({**VALID, "title": "x" * 21}, "title", "too long"),
        ({**VALID, "title": "a\nb"}, "title", "single line"),
        ({**VALID, "notes": "bell\x07"}, "notes", "control character"),
        ({**VALID, "signed_on": "25.11.2026"}, "signed_on", "yyyy-mm-dd"),
        ({**VALID, "signed_on": "2026-02-30"}, "signed_on", "not a calendar date"),
        ({**VALID, "copies": 2.5}, "copies", "whole number"),
        ({**VALID, "copies": True}, "copies", "whole number"),
        ({**VALID, "budget": "12,50"}, "budget", "amount like"),
        ({**VALID, "budget": "0.001"}, "budget", "more than 2 decimal places"),
        ({**VALID, "budget": "NaN"}, "budget", "amount like"),
        ({**VALID, "public": "tak"}, "public", "true or false"),
        ({**VALID, "goals": []}, "goals", "is required"),
        ({**VALID, "goals": ["a"]}, "goals", "at least 2"),
        ({**VALID, "goals": "a, b"}, "goals", "must be a list"),
        ({**VALID, "goals": ["a", "b", ""]}, "goals[2]", "must not be empty"),
        ({**VALID, "goals": ["a", "b", "x" * 31]}, "goals[2]", "too long"),
        (
            {**VALID, "actions": [{"action": "a", "budget": 1}, {"action": "b"}]},
            "actions[1].budget",
            "is required",
        ),
        (
            {**VALID, "actions": [{"action": "a", "budget": "1.234"}]},
            "actions[0].budget",
            "decimal places",
        ),
        (
            {**VALID, "actions": [{"action": "a", "budget": 1, "cost": 2}]},
            "actions[0].cost",
            "unknown column",
        ),
        ({**VALID, "actions": ["a"]}, "actions[0]", "must be an object"),
    ],
)
def test_invalid_values_name_the_path(
    schema: FieldSchema, values: dict[str, object], field: str, reason: str
) -> None:
    error = refused(schema, values)
    assert error.field == field
    assert reason in error.reason


def _bad(mutate: Any) -> InvalidInput:
    data = copy.deepcopy(SCHEMA)
    mutate(data)
    with pytest.raises(InvalidInput) as caught:
        FieldSchema.parse(data, source="bad.schema.json")
    assert caught.value.reason.startswith("bad.schema.json: ")
    return caught.value


def test_bad_schemas_name_the_bad_key() -> None:
    assert _bad(lambda d: d["fields"][3].update(type="money")).field == "schema.fields[3].type"
    assert _bad(lambda d: d["fields"][0].update(name="Tytuł")).field == "schema.fields[0].name"
    assert _bad(lambda d: d["fields"][0].update(name="document")).field == "schema.fields[0].name"
    assert _bad(lambda d: d["fields"][0].update(name="loop")).field == "schema.fields[0].name"
    assert _bad(lambda d: d["fields"][1].update(name="title")).field == "schema.fields[1].name"
    assert _bad(lambda d: d["fields"][0].pop("label")).field == "schema.fields[0].label"
    assert _bad(lambda d: d["fields"][0].update(lenght=3)).field == "schema.fields[0].lenght"
    assert (
        _bad(lambda d: d["fields"][3].update(max_length=3)).field == "schema.fields[3].max_length"
    )
    assert _bad(lambda d: d["fields"][6].pop("items")).field == "schema.fields[6].items"
    assert _bad(lambda d: d["fields"][6]["items"].update(type="list")).field == (
        "schema.fields[6].items.type"
    )
    assert _bad(lambda d: d["fields"][7]["columns"][1].update(type="table")).field == (
        "schema.fields[7].columns[1].type"
    )
    assert _bad(lambda d: d.update(fields={})).field == "schema.fields"
