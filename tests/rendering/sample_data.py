"""Realistic Polish data for the templates: the letter of intent signed in Rybnik."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from workflow.rendering.engine import DocumentInfo, Party, Signatory

E_IZBA = Party(
    name="Izba Gospodarki Elektronicznej",
    short_name="e-Izba",
    kind_label="izba gospodarcza",
    head_title="Prezes Zarządu",
    representative_name="Patrycja Sass-Staniszewska",
    representative_function="Prezes Zarządu",
    seat="ul. Stawki 3A lok. 9, 00-193 Warszawa",
)
RYBNIK = Party(
    name="Miasto Rybnik",
    short_name="Miasto",
    kind_label="miasto na prawach powiatu, województwo śląskie",
    head_title="Prezydent Miasta Rybnika",
    representative_name="Piotr Kuczera",
    representative_function="Prezydent Miasta Rybnika",
    seat="ul. Bolesława Chrobrego 2, 44-200 Rybnik",
    teryt="2473011",
)
PARTIES = (E_IZBA, RYBNIK)
SIGNATORIES = (
    Signatory(1, "Patrycja Sass-Staniszewska", "Prezes Zarządu", "Izba Gospodarki Elektronicznej"),
    Signatory(2, "Piotr Kuczera", "Prezydent Miasta Rybnika", "Miasto Rybnik"),
)
SIGNING_DATE = date(2026, 11, 25)


def letter_document() -> DocumentInfo:
    return DocumentInfo(
        reference="IGE/PRGC/RYB/2026/014",
        title="List intencyjny w sprawie wdrożenia e-strategii Miasta Rybnika",
        kind="list_intencyjny",
        place="Rybnik",
        date=SIGNING_DATE,
        version=3,
    )


def strategy_document() -> DocumentInfo:
    return DocumentInfo(
        reference="IGE/PRGC/RYB/2026/021",
        title="e-Strategia Miasta Rybnika",
        kind="e_strategia",
        place="Rybnik",
        date=SIGNING_DATE,
        version=1,
    )


LETTER_VALUES: dict[str, object] = {
    "strategy_name": "e-Strategia Miasta Rybnika na lata 2027–2030",
    "preamble": (
        "Mając na uwadze rozwój gospodarki cyfrowej w regionie oraz otwarcie w Rybniku "
        "pierwszego, śląskiego oddziału regionalnego Izby Gospodarki Elektronicznej, Strony "
        "wyrażają wolę wspólnego działania na rzecz cyfryzacji usług publicznych, podnoszenia "
        "kompetencji cyfrowych mieszkańców (zażółć gęślą jaźń) oraz wspierania lokalnych "
        "przedsiębiorców, w tym współpracy z firmą „Kowalski & Partnerzy <sp. z o.o.>”."
    ),
    "goals": [
        "opracowanie i przyjęcie e-strategii Miasta Rybnika",
        "podniesienie kompetencji cyfrowych mieszkańców, w szczególności seniorów i uczniów",
        "rozwój elektronicznych usług publicznych świadczonych przez Urząd Miasta Rybnika",
        "wsparcie lokalnych przedsiębiorców w sprzedaży internetowej",
    ],
    "cooperation_forms": [
        "wspólne warsztaty, szkolenia i konferencje z cyklu „Cyfryzacja w samorządzie”",
        "wymiana wiedzy i dobrych praktyk z członkami Izby",
        "udział ekspertów e-Izby w pracach zespołu ds. e-strategii",
    ],
    "valid_until": "2028-12-31",
    "additional_provisions": (
        "Koordynatorem współpracy ze strony Miasta jest Wydział Informatyki Urzędu Miasta "
        "Rybnika.\nKoordynatorem ze strony e-Izby jest menedżer ds. rozwoju regionalnego."
    ),
}

STRATEGY_VALUES: dict[str, object] = {
    "period_from": 2027,
    "period_to": 2030,
    "resolution_reference": "Załącznik do uchwały nr 512/XXXV/2026 Rady Miasta Rybnika",
    "diagnosis": (
        "Rybnik świadczy 46 usług w formie elektronicznej; z e-usług korzysta 38% dorosłych "
        "mieszkańców. Bariery to niskie kompetencje cyfrowe części seniorów (zażółć gęślą "
        "jaźń) i rozproszenie systemów dziedzinowych."
    ),
    "vision": "Rybnik 2030: miasto, w którym każdą sprawę urzędową można załatwić przez internet.",
    "strategic_goals": [
        "Cyfrowy urząd: wszystkie usługi o wysokim wolumenie dostępne online",
        "Kompetentni mieszkańcy: 5000 osób przeszkolonych z usług cyfrowych",
        "Otwarte dane: publikacja zbiorów danych miejskich w standardzie API",
    ],
    "actions": [
        {
            "action": "Wdrożenie platformy e-usług zintegrowanej z ePUAP i mObywatelem",
            "owner": "Wydział Informatyki",
            "deadline": "2027-12-31",
            "budget": "1250000.00",
        },
        {
            "action": "Program szkoleń „Senior w sieci” w dzielnicach",
            "owner": "Miejski Ośrodek Pomocy Społecznej",
            "deadline": "2028-06-30",
            "budget": 340000,
        },
        {
            "action": "Portal otwartych danych",
            "owner": "Biuro Strategii i Rozwoju",
            "deadline": "2029-03-31",
            "budget": "415500.50",
        },
    ],
    "kpis": [
        {
            "indicator": "Odsetek spraw załatwianych online",
            "baseline": "38%",
            "target": "75%",
            "target_year": 2030,
        },
        {
            "indicator": "Liczba przeszkolonych mieszkańców",
            "baseline": "0",
            "target": "5000",
            "target_year": 2029,
        },
    ],
    "monitoring": (
        "Zespół ds. e-strategii przygotowuje coroczny raport z realizacji wskaźników i "
        "przedstawia go Prezydentowi Miasta Rybnika do 31 marca następnego roku."
    ),
}

STRATEGY_TOTAL = Decimal("2005500.50")
