"""What an archive record says about its agreement: the metadata an archivist gives (or the
defaults give) when a document is archived or an agreement imported, checked field by field.

Categories (domain.md): A kept forever (no years), B+n destroyed after n years, BE+n the
state archive decides after n years, BC short-lived. The n years count from 1 January of
the year after the case closes (``retention_end``). A BC record without years may go from
1 January of the year after closing: that is e-Izba's reading of "short-lived" and the
archivist may give years instead.

Every error is ``InvalidInput(field, code)`` naming the wrong field, e.g. ``retention_years``
for "B without years", ``parties[1].teryt`` for a bad TERYT code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from workflow.errors import ErrorCode, InvalidInput
from workflow.polish.teryt import is_terc, voivodeship_of

CATEGORIES = ("A", "B", "BE", "BC")
MAX_RETENTION_YEARS = 200


_JRWA = re.compile(r"\d{1,4}")
_TEXT_LIMITS = {"kind": 64, "title": 300, "party": 300, "legal_hold_reason": 500}


def check_teryt(teryt: str, *, field: str = "teryt") -> str:
    """``teryt`` if it is a TERC code (2, 4 or 7 digits, a real voivodeship), else an error."""
    if not is_terc(teryt):
        raise InvalidInput(field, ErrorCode.TERYT_INVALID, value=teryt)
    return teryt


def retention_end(category: str, years: int | None, closed_on: date) -> date | None:
    """When a record may be disposed of: 1 January of the year after ``closed_on`` plus
    ``years``; ``None`` for category A (kept forever). Checks the combination."""
    check_retention(category, years)
    if category == "A":
        return None
    return date(closed_on.year + 1 + (years or 0), 1, 1)


def check_retention(category: str, years: int | None) -> None:
    if category not in CATEGORIES:
        raise InvalidInput(
            "category", ErrorCode.ARCHIVE_CATEGORY_UNKNOWN, value=category, expected=CATEGORIES
        )
    if category == "A":
        if years is not None:
            raise InvalidInput("retention_years", ErrorCode.ARCHIVE_YEARS_FOR_A, years=years)
        return
    if years is None:
        if category != "BC":
            raise InvalidInput(
                "retention_years", ErrorCode.ARCHIVE_YEARS_REQUIRED, category=category
            )
        return
    whole = isinstance(years, int) and not isinstance(years, bool)
    if not whole or not 0 < years <= MAX_RETENTION_YEARS:
        raise InvalidInput(
            "retention_years", ErrorCode.ARCHIVE_YEARS_OUT_OF_RANGE, maximum=MAX_RETENTION_YEARS
        )


@dataclass(frozen=True)
class PartyMeta:
    """A party of the agreement as archived (a local government, e-Izba or another body)."""

    name: str
    teryt: str | None = None
    voivodeship: str | None = None
    """Derived from the TERYT code when not given."""
    organisation_id: int | None = None


@dataclass(frozen=True)
class ArchiveMetadata:
    """Checked on construction: an instance is always valid (see the module docstring)."""

    kind: str
    title: str
    jrwa_symbol: str
    category: str
    retention_years: int | None
    case_closed_on: date
    parties: tuple[PartyMeta, ...] = ()
    legal_hold: bool = False
    legal_hold_reason: str | None = None

    def __post_init__(self) -> None:
        _text("kind", self.kind)
        _text("title", self.title)
        if not isinstance(self.jrwa_symbol, str) or not _JRWA.fullmatch(self.jrwa_symbol):
            raise InvalidInput(
                "jrwa_symbol", ErrorCode.ARCHIVE_JRWA_INVALID, value=str(self.jrwa_symbol)
            )
        check_retention(self.category, self.retention_years)
        if not isinstance(self.case_closed_on, date):
            raise InvalidInput("case_closed_on", ErrorCode.NOT_A_DATE)
        checked = tuple(_party(i, p) for i, p in enumerate(self.parties, start=1))
        object.__setattr__(self, "parties", checked)
        if self.legal_hold and not (self.legal_hold_reason or "").strip():
            raise InvalidInput("legal_hold_reason", ErrorCode.ARCHIVE_HOLD_REASON_REQUIRED)
        if self.legal_hold_reason is not None:
            _text("legal_hold_reason", self.legal_hold_reason)

    @property
    def retention_ends_on(self) -> date | None:
        return retention_end(self.category, self.retention_years, self.case_closed_on)

    def with_overrides(self, overrides: dict[str, Any]) -> ArchiveMetadata:
        """This metadata with the fields of ``overrides`` (JSON values) replaced, checked."""
        return from_json({**self.to_json(), **overrides})

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "jrwa_symbol": self.jrwa_symbol,
            "category": self.category,
            "retention_years": self.retention_years,
            "case_closed_on": self.case_closed_on.isoformat(),
            "parties": [
                {
                    "name": p.name,
                    "teryt": p.teryt,
                    "voivodeship": p.voivodeship,
                    "organisation_id": p.organisation_id,
                }
                for p in self.parties
            ],
            "legal_hold": self.legal_hold,
            "legal_hold_reason": self.legal_hold_reason,
        }


def _text(field: str, value: object, limit_key: str | None = None) -> None:
    limit = _TEXT_LIMITS[limit_key or field]
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, ErrorCode.TEXT_REQUIRED, max_length=limit)
    if len(value) > limit:
        raise InvalidInput(field, ErrorCode.TEXT_TOO_LONG, length=len(value), max_length=limit)
    if any(ord(c) < 32 and c not in "\t" for c in value):
        raise InvalidInput(field, ErrorCode.CONTROL_CHARACTERS)


def _party(position: int, party: object) -> PartyMeta:
    field = f"parties[{position}]"
    if not isinstance(party, PartyMeta):
        raise InvalidInput(field, ErrorCode.WRONG_TYPE)
    _text(f"{field}.name", party.name, "party")
    if party.teryt is None:
        return party
    teryt = check_teryt(party.teryt, field=f"{field}.teryt")
    return replace(party, voivodeship=party.voivodeship or voivodeship_of(teryt))


_FIELDS = {
    "kind",
    "title",
    "jrwa_symbol",
    "category",
    "retention_years",
    "case_closed_on",
    "parties",
    "legal_hold",
    "legal_hold_reason",
}
_PARTY_FIELDS = {"name", "teryt", "voivodeship", "organisation_id"}


def from_json(data: object) -> ArchiveMetadata:
    """``ArchiveMetadata`` from a JSON object (``--meta FILE.json``, an API body); every
    problem names its field."""
    if not isinstance(data, dict):
        raise InvalidInput("meta", ErrorCode.DATA_NOT_OBJECT)
    for key in data:
        if key not in _FIELDS:
            raise InvalidInput(str(key), ErrorCode.UNKNOWN_FIELD)
    for key in ("kind", "title", "jrwa_symbol", "category", "case_closed_on"):
        if data.get(key) is None:
            raise InvalidInput(key, ErrorCode.VALUE_REQUIRED)
    years = data.get("retention_years")
    if years is not None and (isinstance(years, bool) or not isinstance(years, int)):
        raise InvalidInput("retention_years", ErrorCode.NOT_AN_INTEGER)
    hold = data.get("legal_hold", False)
    if not isinstance(hold, bool):
        raise InvalidInput("legal_hold", ErrorCode.NOT_A_BOOLEAN, got=_type(hold))
    return ArchiveMetadata(
        kind=_str("kind", data["kind"]),
        title=_str("title", data["title"]),
        jrwa_symbol=_str("jrwa_symbol", data["jrwa_symbol"]),
        category=_str("category", data["category"]).upper(),
        retention_years=years,
        case_closed_on=parse_date("case_closed_on", data["case_closed_on"]),
        parties=_parties(data.get("parties", [])),
        legal_hold=hold,
        legal_hold_reason=_optional_str("legal_hold_reason", data.get("legal_hold_reason")),
    )


def parse_date(field: str, value: object) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise InvalidInput(field, ErrorCode.NOT_A_DATE)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, ErrorCode.NOT_A_CALENDAR_DATE, value=value) from None


def _str(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, ErrorCode.NOT_TEXT, got=_type(value))
    return value


def _type(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _optional_str(field: str, value: object) -> str | None:
    return None if value is None else _str(field, value)


def _parties(value: object) -> tuple[PartyMeta, ...]:
    if not isinstance(value, list):
        raise InvalidInput("parties", ErrorCode.NOT_A_LIST, got=_type(value))
    parties = []
    for position, item in enumerate(value, start=1):
        field = f"parties[{position}]"
        if not isinstance(item, dict):
            raise InvalidInput(field, ErrorCode.ROW_NOT_OBJECT, got=_type(item))
        for key in item:
            if key not in _PARTY_FIELDS:
                raise InvalidInput(f"{field}.{key}", ErrorCode.UNKNOWN_FIELD)
        org = item.get("organisation_id")
        if org is not None and (isinstance(org, bool) or not isinstance(org, int)):
            raise InvalidInput(f"{field}.organisation_id", ErrorCode.NOT_AN_INTEGER)
        parties.append(
            PartyMeta(
                name=_str(f"{field}.name", item.get("name")),
                teryt=_optional_str(f"{field}.teryt", item.get("teryt")),
                voivodeship=_optional_str(f"{field}.voivodeship", item.get("voivodeship")),
                organisation_id=org,
            )
        )
    return tuple(parties)
