"""Writes ``corpus.json``: Polish paragraphs about letters of intent, each labelled with the
places and offices it names, and the queries with the paragraphs they must find.

The labels come from how each paragraph is built (a sentence about Rybnik in the locative
is labelled "Rybnik"), never from the search under test; the distractors ("Rybny",
"piła" the saw, "pił" of "pić", "łódź" the boat, "piłka") are labelled with nothing they
look like. Run ``python -m tests.search.make_corpus`` to regenerate (seeded: same file).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).with_name("corpus.json")

#: label -> (nominative, genitive, locative with its preposition, instrumental)
PLACES: dict[str, tuple[str, str, str, str]] = {
    "Rybnik": ("Rybnik", "Rybnika", "w Rybniku", "Rybnikiem"),
    "Katowice": ("Katowice", "Katowic", "w Katowicach", "Katowicami"),
    "Łódź": ("Łódź", "Łodzi", "w Łodzi", "Łodzią"),
    "Piła": ("Piła", "Piły", "w Pile", "Piłą"),
    "Gliwice": ("Gliwice", "Gliwic", "w Gliwicach", "Gliwicami"),
    "Kraków": ("Kraków", "Krakowa", "w Krakowie", "Krakowem"),
    "Wrocław": ("Wrocław", "Wrocławia", "we Wrocławiu", "Wrocławiem"),
    "Poznań": ("Poznań", "Poznania", "w Poznaniu", "Poznaniem"),
    "Gdańsk": ("Gdańsk", "Gdańska", "w Gdańsku", "Gdańskiem"),
    "Opole": ("Opole", "Opola", "w Opolu", "Opolem"),
    "Toruń": ("Toruń", "Torunia", "w Toruniu", "Toruniem"),
    "Zabrze": ("Zabrze", "Zabrza", "w Zabrzu", "Zabrzem"),
    "Tychy": ("Tychy", "Tychów", "w Tychach", "Tychami"),
    "Żory": ("Żory", "Żor", "w Żorach", "Żorami"),
    "Częstochowa": ("Częstochowa", "Częstochowy", "w Częstochowie", "Częstochową"),
    "Lublin": ("Lublin", "Lublina", "w Lublinie", "Lublinem"),
    "Rzeszów": ("Rzeszów", "Rzeszowa", "w Rzeszowie", "Rzeszowem"),
    "Białystok": ("Białystok", "Białegostoku", "w Białymstoku", "Białymstokiem"),
    "Kielce": ("Kielce", "Kielc", "w Kielcach", "Kielcami"),
    "Olsztyn": ("Olsztyn", "Olsztyna", "w Olsztynie", "Olsztynem"),
    "Sosnowiec": ("Sosnowiec", "Sosnowca", "w Sosnowcu", "Sosnowcem"),
    "Śląsk": ("Śląsk", "Śląska", "na Śląsku", "Śląskiem"),
    "Mazowsze": ("Mazowsze", "Mazowsza", "na Mazowszu", "Mazowszem"),
    "Pomorze": ("Pomorze", "Pomorza", "na Pomorzu", "Pomorzem"),
    "Podhale": ("Podhale", "Podhala", "na Podhalu", "Podhalem"),
    "Wielkopolska": ("Wielkopolska", "Wielkopolski", "w Wielkopolsce", "Wielkopolską"),
    "Małopolska": ("Małopolska", "Małopolski", "w Małopolsce", "Małopolską"),
}

#: label -> forms used in the office sentences (gen sg, loc sg, gen pl, dat pl, inst sg)
OFFICES: dict[str, tuple[str, str, str, str, str]] = {
    "urząd": ("urzędu", "urzędzie", "urzędów", "urzędom", "urzędem"),
    "samorząd": ("samorządu", "samorządzie", "samorządów", "samorządom", "samorządem"),
    "gmina": ("gminy", "gminie", "gmin", "gminom", "gminą"),
    "powiat": ("powiatu", "powiecie", "powiatów", "powiatom", "powiatem"),
    "starostwo": ("starostwa", "starostwie", "starostw", "starostwom", "starostwem"),
    "województwo": ("województwa", "województwie", "województw", "województwom", "województwem"),
}

PLACE_SENTENCES = [
    "Spotkanie w sprawie listu intencyjnego odbyło się {loc}.",
    "Przedstawiciele {gen} podpisali list intencyjny z e-Izbą.",
    "Delegacja z {gen} przedstawiła plan cyfryzacji usług.",
    "Współpraca z {inst} obejmuje szkolenia dla urzędników.",
    "Izba zorganizowała warsztaty {loc} dla kierowników wydziałów.",
    "Mieszkańcy {gen} skorzystają z nowej platformy e-usług.",
    "Projekt realizowany {loc} ma zakończyć się w przyszłym roku.",
    "Rozmowy z {inst} dotyczyły wspólnej strategii rozwoju.",
]
OFFICE_SENTENCES = [
    "Pracownicy {0} przygotowali projekt porozumienia.",
    "W {1} powołano zespół do spraw transformacji cyfrowej.",
    "Przedstawiciele {2} zgłosili uwagi do harmonogramu.",
    "Izba przekazała {3} wzór deklaracji współpracy.",
    "Dokument uzgodniono z {4} przed podpisaniem.",
]
FILLERS = [
    "Strony zobowiązały się do wymiany informacji.",
    "Termin realizacji ustalono na koniec kwartału.",
    "Koszty szkoleń pokryje program regionalny.",
    "Kolejne posiedzenie zaplanowano na wiosnę.",
    "Dokumentację przekazano w formie elektronicznej.",
    "Ustalono zasady ochrony danych osobowych.",
]
#: Sentences that look like a place or an office and are not one (labelled with nothing).
DISTRACTORS = [
    "Na stoisku sprzedawano rybny pasztet i wędzone makrele.",
    "Rybny targ przy porcie był tego dnia zamknięty.",
    "W warsztacie leżała stara piła do drewna.",
    "Kierownik pił kawę podczas przerwy w obradach.",
    "Sekretarka piła herbatę z cytryną.",
    "Dzieci grały w piłkę na boisku szkolnym.",
    "Na jeziorze kołysała się drewniana łódź rybacka.",
    "Goście pili wodę mineralną i soki owocowe.",
    "Nowa piła spalinowa przydała się przy wycince drzew.",
    "Zupa rybna smakowała wszystkim uczestnikom.",
]

#: Written by hand: several places and offices in one paragraph, labelled by reading them.
HANDWRITTEN: list[tuple[str, list[str]]] = [
    (
        "Prezydent Miasta Rybnika podpisał list intencyjny w imieniu samorządu.",
        ["Rybnik", "samorząd"],
    ),
    ("Radni z Rybnika omówili budżety samorządów na Śląsku.", ["Rybnik", "samorząd", "Śląsk"]),
    ("Urząd Miasta Katowice przyjął delegację z Piły.", ["urząd", "Katowice", "Piła"]),
    ("W Pile i w Łodzi gminy przygotowały wnioski o dofinansowanie.", ["Piła", "Łódź", "gmina"]),
    (
        "Na Śląsku działa wiele samorządów, w tym Rybnik i Żory.",
        ["Śląsk", "samorząd", "Rybnik", "Żory"],
    ),
    ("Starostwo w Rybniku wydało pozytywną opinię o projekcie.", ["starostwo", "Rybnik"]),
    ("Mieszkańcy Piły piją wodę z ujęcia głębinowego.", ["Piła"]),
    (
        "Ratusz w Łodzi odwiedzili przedstawiciele urzędów z Mazowsza.",
        ["Łódź", "urząd", "Mazowsze"],
    ),
    (
        "Samorząd województwa przekazał Rybnikowi środki na szkolenia.",
        ["samorząd", "województwo", "Rybnik"],
    ),
    (
        "Z Piłą i z Katowicami współpracuje już kilka gmin z Pomorza.",
        ["Piła", "Katowice", "gmina", "Pomorze"],
    ),
]


def paragraphs(rng: random.Random) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    places, offices = list(PLACES), list(OFFICES)
    for number in range(240):
        sentences: list[str] = []
        labels: set[str] = set()
        for _ in range(rng.choice((1, 1, 2))):
            place = rng.choice(places)
            _nom, gen, loc, inst = PLACES[place]
            template = rng.choice(PLACE_SENTENCES)
            sentences.append(template.format(gen=gen, loc=loc, inst=inst))
            labels.add(place)
        if rng.random() < 0.7:
            office = rng.choice(offices)
            sentences.append(rng.choice(OFFICE_SENTENCES).format(*OFFICES[office]))
            labels.add(office)
        sentences.append(rng.choice(DISTRACTORS if number % 3 == 0 else FILLERS))
        rng.shuffle(sentences)
        out.append({"id": number, "text": " ".join(sentences), "labels": sorted(labels)})
    for number, text in enumerate(DISTRACTORS, start=len(out)):  # distractors alone too
        out.append({"id": number, "text": text, "labels": []})
    for number, (text, labels) in enumerate(HANDWRITTEN, start=len(out)):
        out.append({"id": number, "text": text, "labels": sorted(labels)})
    return out


#: query -> labels (every one required: a paragraph must carry them all)
QUERIES: dict[str, list[str]] = {
    **{place: [place] for place in PLACES},
    **{office: [office] for office in OFFICES},
    "rybnik": ["Rybnik"],
    "lodz": ["Łódź"],
    "Rybnik samorząd": ["Rybnik", "samorząd"],
    "urząd Katowice": ["Katowice", "urząd"],
    "gmina Śląsk": ["Śląsk", "gmina"],
    "Piła gmina": ["Piła", "gmina"],
}


def _labels(paragraph: dict[str, object]) -> set[str]:
    labels = paragraph["labels"]
    assert isinstance(labels, list)
    return {str(label) for label in labels}


def main() -> None:
    items = paragraphs(random.Random(2026))  # noqa: S311  # a fixed corpus, not a secret
    queries = [
        {
            "query": query,
            "expected": [p["id"] for p in items if set(labels) <= _labels(p)],
        }
        for query, labels in QUERIES.items()
    ]
    OUT.write_text(
        json.dumps({"paragraphs": items, "queries": queries}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
