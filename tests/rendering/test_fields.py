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


# -- choice -----------------------------------------------------------------------------

UNIT_KINDS = [
    {"value": "gmina", "label": "gmina", "label_en": "municipality"},
    {"value": "powiat", "label": "powiat", "label_en": "county"},
    {"value": "miasto_npp", "label": "miasto na prawach powiatu"},
]
CHOICE_SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "unit_kind", "type": "choice", "label": "Rodzaj jednostki",
         "label_en": "Kind of unit", "required": True, "options": UNIT_KINDS},
        {"name": "second_kind", "type": "choice", "label": "Drugi rodzaj", "options": UNIT_KINDS},
        {"name": "kinds", "type": "list", "label": "Rodzaje",
         "items": {"type": "choice", "options": UNIT_KINDS}},
        {"name": "partners", "type": "table", "label": "Partnerzy", "columns": [
            {"name": "partner", "type": "string", "label": "Partner", "required": True},
            {"name": "kind", "type": "choice", "label": "Rodzaj", "required": True,
             "options": UNIT_KINDS},
            {"name": "role", "type": "choice", "label": "Rola",
             "options": [{"value": "lider", "label": "lider"}]},
        ]},
    ]
}  # fmt: skip


@pytest.fixture
def choices() -> FieldSchema:
    return FieldSchema.parse(CHOICE_SCHEMA, source="choice.schema.json")


def test_a_choice_round_trips_through_json_with_its_options(choices: FieldSchema) -> None:
    assert FieldSchema.parse(choices.to_json(), source="again") == choices
    unit_kind = choices.get("unit_kind")
    assert [(o.value, o.label, o.label_en) for o in unit_kind.options] == [
        ("gmina", "gmina", "municipality"),
        ("powiat", "powiat", "county"),
        ("miasto_npp", "miasto na prawach powiatu", ""),
    ]
    assert choices.to_json()["fields"][0]["options"] == UNIT_KINDS  # no empty label_en added
    assert choices.to_json()["fields"][2]["items"] == {"type": "choice", "options": UNIT_KINDS}
    column = choices.get("partners").columns[1]
    assert column.type == "choice" and column.option("powiat") == column.options[1]
    assert column.option("county") is None  # a label is not a value
    assert unit_kind.options[2].label_in("en") == "miasto na prawach powiatu"  # no English
    assert unit_kind.options[0].label_in("en") == "municipality"


def test_a_choice_holds_the_value_of_one_of_its_options(choices: FieldSchema) -> None:
    values = choices.validate(
        {
            "unit_kind": " powiat ",
            "kinds": ["gmina", "miasto_npp"],
            "partners": [{"partner": "Gliwice", "kind": "miasto_npp"}],
        }
    )
    assert values == {
        "unit_kind": "powiat",  # the value, not its label: templates get the value
        "second_kind": None,  # an optional choice left out
        "kinds": ["gmina", "miasto_npp"],
        "partners": [{"partner": "Gliwice", "kind": "miasto_npp", "role": None}],
    }
    assert choices.validate({"unit_kind": "gmina", "second_kind": ""})["second_kind"] is None
    for missing in ({}, {"unit_kind": None}, {"unit_kind": "  "}):
        error = refused(choices, missing)
        assert (error.field, error.code) == ("unit_kind", E.VALUE_REQUIRED)
    error = refused(choices, {"unit_kind": "gmina", "partners": [{"partner": "Gliwice"}]})
    assert (error.field, error.code) == ("partners[0].kind", E.VALUE_REQUIRED)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"unit_kind": "wieś"}, "unit_kind"),
        ({"unit_kind": "county"}, "unit_kind"),  # the English label
        ({"unit_kind": "Gmina"}, "unit_kind"),  # values are exact
        ({"unit_kind": 1}, "unit_kind"),
        ({"unit_kind": ["gmina"]}, "unit_kind"),
        ({"unit_kind": "gmina", "second_kind": "województwo"}, "second_kind"),
        ({"unit_kind": "gmina", "kinds": ["gmina", "wieś"]}, "kinds[1]"),
        (
            {"unit_kind": "gmina", "partners": [{"partner": "Gliwice", "kind": "miasto"}]},
            "partners[0].kind",
        ),
    ],
)
def test_a_value_that_is_not_an_option_is_refused_naming_the_allowed_ones(
    choices: FieldSchema, values: dict[str, object], field: str
) -> None:
    error = refused(choices, values)
    assert (error.field, error.code) == (field, E.NOT_AN_OPTION)
    assert error.params["allowed"] == ["gmina", "powiat", "miasto_npp"]
    assert error.message("pl") == (
        f"Pole „{field}” musi mieć jedną z wartości: gmina, powiat, miasto_npp."
    )
    assert error.message("en") == f"The field '{field}' must be one of: gmina, powiat, miasto_npp."


def _bad_choice(mutate: Any) -> InvalidInput:
    data = copy.deepcopy(CHOICE_SCHEMA)
    mutate(data)
    with pytest.raises(InvalidInput) as caught:
        FieldSchema.parse(data, source="bad.schema.json")
    assert caught.value.message("pl").startswith("Schemat pól bad.schema.json: ")
    assert caught.value.message("en").startswith("Field schema bad.schema.json: ")
    return caught.value


def _options(d: dict[str, Any], i: int = 0) -> list[Any]:
    options: list[Any] = d["fields"][i]["options"]
    return options


@pytest.mark.parametrize(
    ("mutate", "field", "code"),
    [
        (lambda d: d["fields"][0].pop("options"), "schema.fields[0].options",
         E.SCHEMA_OPTIONS_REQUIRED),
        (lambda d: d["fields"][0].update(options=[]), "schema.fields[0].options",
         E.SCHEMA_OPTIONS_REQUIRED),
        (lambda d: d["fields"][0].update(options="gmina, powiat"), "schema.fields[0].options",
         E.SCHEMA_OPTIONS_REQUIRED),
        (lambda d: d["fields"][0].update(
            options=[{"value": f"v{i}", "label": f"v{i}"} for i in range(201)]),
         "schema.fields[0].options", E.SCHEMA_OPTIONS_REQUIRED),
        (lambda d: d["fields"][0].update(max_length=5), "schema.fields[0].max_length",
         E.SCHEMA_KEY_NOT_APPLICABLE),
        (lambda d: d["fields"][0].update(type="string"), "schema.fields[0].options",
         E.SCHEMA_KEY_NOT_APPLICABLE),
        (lambda d: _options(d).append("gmina"), "schema.fields[0].options[3]",
         E.SCHEMA_ENTRY_NOT_OBJECT),
        (lambda d: _options(d)[1].update(color="red"), "schema.fields[0].options[1].color",
         E.SCHEMA_UNKNOWN_KEY),
        (lambda d: _options(d)[1].update(value=""), "schema.fields[0].options[1].value",
         E.SCHEMA_OPTION_VALUE_INVALID),
        (lambda d: _options(d)[1].pop("value"), "schema.fields[0].options[1].value",
         E.SCHEMA_OPTION_VALUE_INVALID),
        (lambda d: _options(d)[1].update(value=2), "schema.fields[0].options[1].value",
         E.SCHEMA_OPTION_VALUE_INVALID),
        (lambda d: _options(d)[1].update(value=" powiat"), "schema.fields[0].options[1].value",
         E.SCHEMA_OPTION_VALUE_INVALID),
        (lambda d: _options(d)[1].update(value="a\nb"), "schema.fields[0].options[1].value",
         E.SCHEMA_OPTION_VALUE_INVALID),
        (lambda d: _options(d)[1].update(value="x" * 101), "schema.fields[0].options[1].value",
         E.SCHEMA_OPTION_VALUE_INVALID),
        (lambda d: _options(d)[2].update(value="gmina"), "schema.fields[0].options[2].value",
         E.SCHEMA_DUPLICATE_OPTION),
        (lambda d: _options(d)[1].pop("label"), "schema.fields[0].options[1].label",
         E.SCHEMA_LABEL_REQUIRED),
        (lambda d: _options(d)[1].update(label=" "), "schema.fields[0].options[1].label",
         E.SCHEMA_LABEL_REQUIRED),
        (lambda d: _options(d)[1].update(label_en=None), "schema.fields[0].options[1].label_en",
         E.SCHEMA_NOT_TEXT),
        (lambda d: d["fields"][2]["items"].pop("options"), "schema.fields[2].items.options",
         E.SCHEMA_OPTIONS_REQUIRED),
        (lambda d: d["fields"][2]["items"].update(type="string"),
         "schema.fields[2].items.options", E.SCHEMA_KEY_NOT_APPLICABLE),
        (lambda d: d["fields"][3]["columns"][2]["options"][0].update(value=""),
         "schema.fields[3].columns[2].options[0].value", E.SCHEMA_OPTION_VALUE_INVALID),
        (lambda d: d["fields"][3]["columns"][1].pop("options"),
         "schema.fields[3].columns[1].options", E.SCHEMA_OPTIONS_REQUIRED),
        (lambda d: d["fields"][3].update(options=UNIT_KINDS), "schema.fields[3].options",
         E.SCHEMA_KEY_NOT_APPLICABLE),
    ],
)  # fmt: skip
def test_bad_choices_are_refused_naming_the_path(mutate: Any, field: str, code: E) -> None:
    error = _bad_choice(mutate)
    assert (error.field, error.code) == (field, code)
    assert f"„{field}”" in error.message("pl")


def test_the_most_options_and_the_longest_value_are_accepted() -> None:
    data = copy.deepcopy(CHOICE_SCHEMA)
    data["fields"][0]["options"] = [{"value": f"{i:0100d}", "label": str(i)} for i in range(200)]
    schema = FieldSchema.parse(data, source="big.schema.json")
    assert schema.validate({"unit_kind": f"{199:0100d}"})["unit_kind"] == f"{199:0100d}"


def test_a_duplicate_option_is_named_in_the_message() -> None:
    error = _bad_choice(lambda d: _options(d)[2].update(value="gmina"))
    assert "„gmina”" in error.message("pl") and "'gmina'" in error.message("en")
