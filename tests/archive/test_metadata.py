"""Archive metadata: every wrong value is refused with an error naming its field."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from workflow.archive.metadata import from_json, voivodeship_of
from workflow.errors import ErrorCode, InvalidInput

GOOD: dict[str, Any] = {
    "kind": "letter_of_intent",
    "title": "List intencyjny z Gminą Gaszowice",
    "jrwa_symbol": "0170",
    "category": "B",
    "retention_years": 10,
    "case_closed_on": "2026-05-01",
    "parties": [{"name": "Gmina Gaszowice", "teryt": "2412022"}],
}


def test_good_metadata_is_read_with_the_voivodeship_from_teryt() -> None:
    meta = from_json(GOOD)
    assert meta.case_closed_on == date(2026, 5, 1)
    assert meta.retention_ends_on == date(2037, 1, 1)
    assert meta.parties[0].voivodeship == "śląskie"
    assert from_json(meta.to_json()) == meta
    assert from_json({**GOOD, "category": "a", "retention_years": None}).retention_ends_on is None
    assert voivodeship_of("1465011") == "mazowieckie"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"category": "C"}, "category", ErrorCode.ARCHIVE_CATEGORY_UNKNOWN),
        ({"retention_years": None}, "retention_years", ErrorCode.ARCHIVE_YEARS_REQUIRED),
        ({"category": "BE", "retention_years": None}, "retention_years",
         ErrorCode.ARCHIVE_YEARS_REQUIRED),
        ({"category": "A"}, "retention_years", ErrorCode.ARCHIVE_YEARS_FOR_A),
        ({"retention_years": 0}, "retention_years", ErrorCode.ARCHIVE_YEARS_OUT_OF_RANGE),
        ({"retention_years": "10"}, "retention_years", ErrorCode.NOT_AN_INTEGER),
        ({"case_closed_on": "2026-02-30"}, "case_closed_on", ErrorCode.NOT_A_CALENDAR_DATE),
        ({"case_closed_on": "1.05.2026"}, "case_closed_on", ErrorCode.NOT_A_DATE),
        ({"jrwa_symbol": "01-7"}, "jrwa_symbol", ErrorCode.ARCHIVE_JRWA_INVALID),
        ({"title": "  "}, "title", ErrorCode.TEXT_REQUIRED),
        ({"title": "x" * 301}, "title", ErrorCode.TEXT_TOO_LONG),
        ({"kind": None}, "kind", ErrorCode.VALUE_REQUIRED),
        ({"colour": "red"}, "colour", ErrorCode.UNKNOWN_FIELD),
        ({"legal_hold": True}, "legal_hold_reason", ErrorCode.ARCHIVE_HOLD_REASON_REQUIRED),
        ({"legal_hold": "yes"}, "legal_hold", ErrorCode.NOT_A_BOOLEAN),
        ({"parties": [{"name": "Rybnik", "teryt": "9973011"}]}, "parties[1].teryt",
         ErrorCode.TERYT_INVALID),
        ({"parties": [{"name": "Rybnik", "teryt": "24730"}]}, "parties[1].teryt",
         ErrorCode.TERYT_INVALID),
        ({"parties": [{"name": "Rybnik", "teryt": "2473016"}]}, "parties[1].teryt",
         ErrorCode.TERYT_INVALID),
        ({"parties": [{"teryt": "2473011"}]}, "parties[1].name", ErrorCode.NOT_TEXT),
        ({"parties": [GOOD["parties"][0], {"name": ""}]}, "parties[2].name",
         ErrorCode.TEXT_REQUIRED),
        ({"parties": {"name": "Rybnik"}}, "parties", ErrorCode.NOT_A_LIST),
    ],
)  # fmt: skip
def test_each_wrong_value_names_its_field(
    change: dict[str, Any], field: str, code: ErrorCode
) -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json({**GOOD, **change})
    assert (caught.value.field, caught.value.code) == (field, code)
    assert field in caught.value.message("en") or code == ErrorCode.UNKNOWN_FIELD
    assert caught.value.message("pl") != str(code)  # a Polish sentence, not the raw code


def test_not_an_object() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(["kind"])
    assert caught.value.code == ErrorCode.DATA_NOT_OBJECT
