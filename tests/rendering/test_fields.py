from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from workflow.errors import ErrorCode as E
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
    ("values", "field", "code"),
    [
        ({**VALID, "titel": "x"}, "titel", E.UNKNOWN_FIELD),
        ({"goals": ["a", "b"]}, "title", E.VALUE_REQUIRED),
        ({**VALID, "title": "   "}, "title", E.VALUE_REQUIRED),
        ({**VALID, "title": 12}, "title", E.NOT_TEXT),
        ({**VALID, "title": "x" * 21}, "title", E.TEXT_TOO_LONG),
        ({**VALID, "title": "a\nb"}, "title", E.NOT_SINGLE_LINE),
        ({**VALID, "notes": "bell\x07"}, "notes", E.CONTROL_CHARACTERS),
        ({**VALID, "signed_on": "25.11.2026"}, "signed_on", E.NOT_A_DATE),
        ({**VALID, "signed_on": "2026-02-30"}, "signed_on", E.NOT_A_CALENDAR_DATE),
        ({**VALID, "copies": 2.5}, "copies", E.NOT_AN_INTEGER),
        ({**VALID, "copies": True}, "copies", E.NOT_AN_INTEGER),
        ({**VALID, "budget": "12,50"}, "budget", E.NOT_AN_AMOUNT),
        ({**VALID, "budget": "0.001"}, "budget", E.AMOUNT_TOO_PRECISE),
        ({**VALID, "budget": "NaN"}, "budget", E.NOT_AN_AMOUNT),
        ({**VALID, "public": "tak"}, "public", E.NOT_A_BOOLEAN),
        ({**VALID, "goals": []}, "goals", E.LIST_REQUIRED),
        ({**VALID, "goals": ["a"]}, "goals", E.TOO_FEW_ITEMS),
        ({**VALID, "goals": "a, b"}, "goals", E.NOT_A_LIST),
        ({**VALID, "goals": ["a", "b", ""]}, "goals[2]", E.ITEM_EMPTY),
        ({**VALID, "goals": ["a", "b", "x" * 31]}, "goals[2]", E.TEXT_TOO_LONG),
        (
            {**VALID, "actions": [{"action": "a", "budget": 1}, {"action": "b"}]},
            "actions[1].budget",
            E.VALUE_REQUIRED,
        ),
        (
            {**VALID, "actions": [{"action": "a", "budget": "1.234"}]},
            "actions[0].budget",
            E.AMOUNT_TOO_PRECISE,
        ),
        (
            {**VALID, "actions": [{"action": "a", "budget": 1, "cost": 2}]},
            "actions[0].cost",
            E.UNKNOWN_COLUMN,
        ),
        ({**VALID, "actions": ["a"]}, "actions[0]", E.ROW_NOT_OBJECT),
    ],
)
def test_invalid_values_name_the_path(
    schema: FieldSchema, values: dict[str, object], field: str, code: E
) -> None:
    error = refused(schema, values)
    assert (error.field, error.code) == (field, code)
    assert error.params["field"] == field
    assert f"„{field}”" in error.message("pl")


def _bad(mutate: Any) -> InvalidInput:
    data = copy.deepcopy(SCHEMA)
    mutate(data)
    with pytest.raises(InvalidInput) as caught:
        FieldSchema.parse(data, source="bad.schema.json")
    assert caught.value.params["source"] == "bad.schema.json"
    assert caught.value.message("pl").startswith("Schemat pól bad.schema.json: ")
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
