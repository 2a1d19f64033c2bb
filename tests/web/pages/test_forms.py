"""The form module: a schema renders as inputs, a posted form parses back into the values
the schema validates, with the same names both ways; errors are worded in Polish."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from workflow.errors import InvalidInput
from workflow.rendering.fields import FieldSchema
from workflow.web.pages.forms import (
    all_errors,
    apply_row_command,
    build_form,
    error_text,
    label_of,
    raw_from_form,
    raw_from_values,
    row_command,
    values_from_raw,
)

TEMPLATES = Path(__file__).parents[3] / "templates"


def schema_of(name: str) -> FieldSchema:
    data = json.loads((TEMPLATES / f"{name}.schema.json").read_text("utf-8"))
    return FieldSchema.parse(data, source=name)


LETTER = schema_of("list_intencyjny")
STRATEGY = schema_of("e_strategia")


def test_a_posted_letter_parses_into_values_the_schema_accepts() -> None:
    posted = [
        ("csrf_token", "x"),
        ("strategy_name", " e-Strategia Rybnika "),
        ("preamble", "Strony postanawiają…\r\nwspółpracować."),
        ("goals-1", "drugi cel"),
        ("goals-0", "pierwszy cel"),
        ("cooperation_forms-0", "warsztaty"),
        ("valid_until", "31.12.2028"),
        ("additional_provisions", ""),
    ]
    values, _ = values_from_raw(LETTER, raw_from_form(LETTER, posted))
    clean = LETTER.validate(values)
    assert clean["goals"] == ["pierwszy cel", "drugi cel"]
    assert clean["valid_until"] == date(2028, 12, 31)
    assert clean["additional_provisions"] is None
    assert clean["strategy_name"] == "e-Strategia Rybnika"


def test_table_rows_parse_with_polish_money_and_blank_rows_dropped() -> None:
    posted = [
        ("actions-0-action", "Portal"),
        ("actions-0-owner", "Wydział IT"),
        ("actions-0-deadline", "2027-06-30"),
        ("actions-0-budget", "1 234,50 zł"),
        ("actions-1-action", ""),
        ("actions-1-owner", " "),
        ("actions-2-action", "Szkolenia"),
        ("actions-2-owner", "Wydział Edukacji"),
        ("actions-2-deadline", "2027-09-30"),
        ("actions-2-budget", "abc"),
    ]
    raw = raw_from_form(STRATEGY, posted)
    assert len(raw["actions"]) == 3
    values, where = values_from_raw(STRATEGY, raw)
    actions = values["actions"]
    assert isinstance(actions, list) and len(actions) == 2
    assert actions[0]["budget"] == "1234.50"
    before_actions = {"period_from": 2027, "period_to": 2030, "diagnosis": "d", "vision": "v",
                      "strategic_goals": ["g"]}  # fmt: skip
    with pytest.raises(InvalidInput) as caught:
        STRATEGY.validate({**before_actions, "actions": actions})
    assert caught.value.field == "actions[1].budget"
    # the error points at the row the person typed it in: row 2 of the form
    assert where(caught.value.field) == "actions[2].budget"
    assert where("actions[0].budget") == "actions[0].budget"


def test_the_form_round_trips_stored_values() -> None:
    stored = {
        "period_from": 2027,
        "period_to": 2030,
        "actions": [
            {"action": "A", "owner": "B", "deadline": "2027-01-31", "budget": "100.00"},
        ],
        "strategic_goals": ["x", "y"],
    }
    raw = raw_from_values(STRATEGY, stored)
    assert raw["period_from"] == "2027"
    assert raw["actions"] == [
        {"action": "A", "owner": "B", "deadline": "2027-01-31", "budget": "100.00"}
    ]
    form = build_form(STRATEGY, raw, errors={}, lang="pl")
    pairs = [
        (i.name, i.value)
        for f in form.fields
        for i in ([f.input] if f.input else [i for r in f.rows for i in r.inputs])
    ]
    assert raw_from_form(STRATEGY, pairs) == {
        **raw,
        "kpis": [{"indicator": "", "baseline": "", "target": "", "target_year": ""}],
    }


def test_build_form_describes_each_kind_of_field() -> None:
    form = build_form(
        STRATEGY,
        raw_from_values(STRATEGY, {"strategic_goals": ["a", "b"]}),
        errors={"strategic_goals[1]": "Błąd", "kpis": "Dodaj co najmniej jedną pozycję."},
        lang="pl",
    )
    by_name = {f.name: f for f in form.fields}
    assert by_name["period_from"].input is not None
    assert by_name["period_from"].input.input == "integer"
    assert by_name["diagnosis"].input is not None
    assert by_name["diagnosis"].input.input == "textarea"
    goals = by_name["strategic_goals"]
    assert [r.inputs[0].name for r in goals.rows] == ["strategic_goals-0", "strategic_goals-1"]
    assert goals.rows[1].inputs[0].error == "Błąd"
    assert goals.can_add and goals.can_remove
    actions = by_name["actions"]
    assert [i.name for i in actions.rows[0].inputs] == [
        "actions-0-action", "actions-0-owner", "actions-0-deadline", "actions-0-budget",
    ]  # fmt: skip
    assert [i.input for i in actions.rows[0].inputs] == ["line", "text", "date", "money"]
    assert actions.columns[3] == ("budget", "Budżet (zł)")
    assert by_name["kpis"].error == "Dodaj co najmniej jedną pozycję."
    english = build_form(STRATEGY, {}, errors={}, lang="en")
    assert english.fields[0].label == "First year"


def test_rows_are_added_and_removed_by_the_button_pressed() -> None:
    raw = raw_from_form(LETTER, [("goals-0", "a"), ("goals-1", "b"), ("goals-2", "c")])
    assert row_command([("add", "goals"), ("x", "y")]) == ("goals", None)
    added = apply_row_command(LETTER, raw, add="goals")
    assert added["goals"] == ["a", "b", "c", ""]
    assert raw["goals"] == ["a", "b", "c"]  # untouched
    removed = apply_row_command(LETTER, raw, remove="goals-1")
    assert removed["goals"] == ["a", "c"]
    assert apply_row_command(LETTER, raw, add="strategy_name") == raw  # not a list
    assert apply_row_command(LETTER, raw, remove="goals-9") == raw
    full = {"goals": [str(i) for i in range(12)]}
    assert len(apply_row_command(LETTER, full, add="goals")["goals"]) == 12  # max_items
    empty_table = apply_row_command(STRATEGY, {"actions": []}, add="actions")
    assert len(empty_table["actions"]) == 2  # the blank row shown, and the new one


@pytest.mark.parametrize(
    ("value", "path", "words"),
    [
        ("2027-02-30", "valid_until", ("2027-02-30",)),
        ("jutro", "valid_until", ("RRRR-MM-DD",)),
        ("", "strategy_name", ("wymagane",)),
    ],
)
def test_errors_are_worded_in_polish_next_to_the_field(
    value: str, path: str, words: tuple[str, ...]
) -> None:
    valid = {"strategy_name": "x", "preamble": "y", "goals": ["g"], "cooperation_forms": ["f"],
             "valid_until": "2027-01-01"}  # fmt: skip
    raw = raw_from_values(LETTER, valid)
    raw[path] = value
    values, where = values_from_raw(LETTER, raw)
    with pytest.raises(InvalidInput) as caught:
        LETTER.validate(values)
    assert where(caught.value.field) == path
    label = label_of(LETTER, path, "pl")
    polish = error_text(caught.value, "pl", label=label)
    assert all(w.lower() in polish.lower() for w in words), polish
    assert path not in polish  # the label names the field, not its path
    assert polish != error_text(caught.value, "en", label=label_of(LETTER, path, "en"))


def test_labels_of_paths() -> None:
    assert label_of(LETTER, "goals[1]", "pl") == "Cele współpracy 2"
    assert label_of(STRATEGY, "actions[0].budget", "pl") == "Budżet (zł), wiersz 1"
    assert label_of(STRATEGY, "actions[0].budget", "en") == "Budget (PLN), row 1"
    assert label_of(LETTER, "nope", "pl") is None


def test_an_empty_required_list_asks_for_an_item() -> None:
    raw = raw_from_form(LETTER, [("goals-0", "  ")])
    values, _ = values_from_raw(LETTER, raw)
    assert values["goals"] == []
    with pytest.raises(InvalidInput) as caught:
        LETTER.validate({**values, "strategy_name": "x", "preamble": "y"})
    assert caught.value.field == "goals"
    text = error_text(caught.value, "pl", label=label_of(LETTER, "goals", "pl"))
    assert "pozycj" in text and "goals" not in text


def test_a_long_one_line_field_is_a_wrapping_box_whose_line_breaks_are_spaces() -> None:
    raw = raw_from_form(LETTER, [("goals-0", "pierwszy\r\n  cel"), ("strategy_name", "a\nb")])
    values, _ = values_from_raw(LETTER, raw)
    assert values["goals"] == ["pierwszy cel"]
    assert values["strategy_name"] == "a b"  # 200 characters: shown as a box too
    form = build_form(LETTER, raw, errors={}, lang="pl")
    goals = next(f for f in form.fields if f.name == "goals")
    assert goals.rows[0].inputs[0].input == "line"


def test_money_and_unknown_names() -> None:
    raw = raw_from_form(
        STRATEGY,
        [("actions-0-budget", "2 000"), ("actions-0-nope", "x"), ("nope-0", "x"),
         ("actions-999-owner", "x"), ("period_from", "2027")],
    )  # fmt: skip
    assert raw["actions"] == [{"action": "", "owner": "", "deadline": "", "budget": "2 000"}]
    values, _ = values_from_raw(STRATEGY, raw)
    assert values["actions"] == [{"action": None, "owner": None, "deadline": None,
                                  "budget": "2000"}]  # fmt: skip
    assert Decimal("2000") == Decimal(str(values["actions"][0]["budget"]))


def test_all_errors_names_every_bad_field_and_row_at_once() -> None:
    raw = raw_from_form(
        STRATEGY,
        [("period_from", "dwa tysiące"), ("actions-0-action", "A"), ("actions-0-owner", "B"),
         ("actions-0-deadline", "2027-02-30"), ("actions-0-budget", "1"),
         ("actions-1-action", "C"), ("actions-1-owner", "D"), ("actions-1-deadline", "2027-01-01"),
         ("actions-1-budget", "1,234")],
    )  # fmt: skip
    values, _ = values_from_raw(STRATEGY, raw)
    paths = [e.field for e in all_errors(STRATEGY, values)]
    assert paths == [
        "period_from", "period_to", "diagnosis", "vision", "strategic_goals",
        "actions[0].deadline", "actions[1].budget", "kpis", "monitoring",
    ]  # fmt: skip
    assert all_errors(LETTER, values_from_raw(LETTER, raw_from_values(LETTER, {
        "strategy_name": "x", "preamble": "y", "goals": ["g"], "cooperation_forms": ["f"],
        "valid_until": "2027-01-01"}))[0]) == []  # fmt: skip


UNIT_KINDS = [
    {"value": "gmina", "label": "gmina", "label_en": "municipality"},
    {"value": "powiat", "label": "powiat", "label_en": "county"},
    {"value": "miasto_npp", "label": "miasto na prawach powiatu"},
]
CHOICES = FieldSchema.parse(
    {"fields": [
        {"name": "unit_kind", "type": "choice", "label": "Rodzaj jednostki",
         "label_en": "Kind of unit", "required": True, "options": UNIT_KINDS},
        {"name": "second_kind", "type": "choice", "label": "Drugi rodzaj", "options": UNIT_KINDS},
        {"name": "kinds", "type": "list", "label": "Rodzaje",
         "items": {"type": "choice", "options": UNIT_KINDS}},
        {"name": "partners", "type": "table", "label": "Partnerzy", "columns": [
            {"name": "partner", "type": "string", "label": "Partner"},
            {"name": "kind", "type": "choice", "label": "Rodzaj", "label_en": "Kind",
             "required": True, "options": UNIT_KINDS},
        ]},
    ]},
    source="choices",
)  # fmt: skip


def test_a_choice_is_a_select_with_labels_in_the_page_language() -> None:
    empty = build_form(CHOICES, raw_from_values(CHOICES, {}), errors={}, lang="en")
    unit_kind = empty.fields[0].input
    assert unit_kind is not None and unit_kind.input == "select"
    assert unit_kind.options == (
        ("gmina", "municipality"),
        ("powiat", "county"),
        ("miasto_npp", "miasto na prawach powiatu"),  # no English label: the Polish one
    )
    assert unit_kind.blank_option  # required, but nothing chosen yet
    cell = empty.fields[3].rows[0].inputs[1]
    assert (cell.name, cell.input, cell.label) == ("partners-0-kind", "select", "Kind")
    assert cell.blank_option  # a new row starts blank (and stays dropped if left so)
    item = empty.fields[2].rows[0].inputs[0]
    assert (item.name, item.input, item.blank_option) == ("kinds-0", "select", True)

    stored = {"unit_kind": "powiat", "second_kind": "gmina",
              "partners": [{"partner": "Gliwice", "kind": "miasto_npp"}]}  # fmt: skip
    form = build_form(CHOICES, raw_from_values(CHOICES, stored), errors={}, lang="pl")
    unit_kind, second = form.fields[0].input, form.fields[1].input
    assert unit_kind is not None and second is not None
    assert unit_kind.value == "powiat" and not unit_kind.blank_option  # required, chosen
    assert second.value == "gmina" and second.blank_option  # optional: can be unset
    assert unit_kind.options[0] == ("gmina", "gmina")
    assert form.fields[3].rows[0].inputs[1].value == "miasto_npp"
    # a value that is not an option (posted by hand) is still shown, as itself
    bad = build_form(CHOICES, {"unit_kind": "wieś"}, errors={"unit_kind": "zła"}, lang="pl")
    shown = bad.fields[0].input
    assert shown is not None and shown.options[-1] == ("wieś", "wieś") and shown.error == "zła"


def test_a_posted_choice_parses_into_its_value_and_blank_rows_are_dropped() -> None:
    posted = [
        ("unit_kind", "gmina"),
        ("second_kind", ""),
        ("kinds-0", "powiat"),
        ("kinds-1", ""),
        ("partners-0-partner", ""),
        ("partners-0-kind", ""),
        ("partners-1-partner", "Gliwice"),
        ("partners-1-kind", "miasto_npp"),
    ]
    raw = raw_from_form(CHOICES, posted)
    values, where = values_from_raw(CHOICES, raw)
    assert CHOICES.validate(values) == {
        "unit_kind": "gmina",
        "second_kind": None,
        "kinds": ["powiat"],
        "partners": [{"partner": "Gliwice", "kind": "miasto_npp"}],
    }
    added = apply_row_command(CHOICES, raw, add="partners")
    assert added["partners"][-1] == {"partner": "", "kind": ""}
    # a value that is not an option: the error names the field by its label, in Polish
    values, where = values_from_raw(
        CHOICES, raw_from_form(CHOICES, [*posted[:-1], ("partners-1-kind", "miasto")])
    )
    (error,) = all_errors(CHOICES, values)
    assert where(error.field) == "partners[1].kind"
    label = label_of(CHOICES, where(error.field), "pl")
    assert error_text(error, "pl", label=label) == (
        "Pole „Rodzaj, wiersz 2” musi mieć jedną z wartości: gmina, powiat, miasto_npp."
    )
