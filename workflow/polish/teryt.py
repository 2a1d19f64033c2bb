"""TERYT, the official register of Poland's territorial division (GUS): the TERC codes of
units — WW a voivodeship, WWPP a county (powiat), WWPPGGT a gmina, T its type (1 urban,
2 rural, 3 urban-rural, 4-5 the town and the rural area of an urban-rural gmina, 8-9
districts of Warsaw and delegations) — and the voivodeships' names."""

from __future__ import annotations

import re

VOIVODESHIPS: dict[str, str] = {
    "02": "dolnośląskie",
    "04": "kujawsko-pomorskie",
    "06": "lubelskie",
    "08": "lubuskie",
    "10": "łódzkie",
    "12": "małopolskie",
    "14": "mazowieckie",
    "16": "opolskie",
    "18": "podkarpackie",
    "20": "podlaskie",
    "22": "pomorskie",
    "24": "śląskie",
    "26": "świętokrzyskie",
    "28": "warmińsko-mazurskie",
    "30": "wielkopolskie",
    "32": "zachodniopomorskie",
}
"""TERYT voivodeship codes (WW) and the voivodeships' names."""

_TERC = re.compile(r"\d{2}(?:\d{2}(?:\d{2}[1-589])?)?")


def is_terc(code: str) -> bool:
    """A TERC code of 2, 4 or 7 digits whose first two name a real voivodeship."""
    return bool(_TERC.fullmatch(code)) and code[:2] in VOIVODESHIPS


def voivodeship_of(teryt: str | None) -> str | None:
    """ "śląskie" for "2473011" (Rybnik); None for no code or an unknown prefix."""
    return VOIVODESHIPS.get(teryt[:2]) if teryt else None
