"""The voivodeship of a TERYT code: its first two digits."""

from __future__ import annotations

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


def voivodeship_of(teryt: str | None) -> str | None:
    """ "śląskie" for "2473011" (Rybnik); None for no code or an unknown prefix."""
    if not teryt:
        return None
    return VOIVODESHIPS.get(teryt[:2])
