"""Finding a local government by name (any case, without Polish diacritics) or TERYT code."""

from __future__ import annotations

from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.identity.actors import Actor
from workflow.models import Organisation, OrganisationKind
from workflow.registry.search import fold, search_organisations
from workflow.runtime import Runtime


def test_fold_drops_case_and_diacritics_including_l_with_stroke() -> None:
    assert fold("Łódź") == "lodz"
    assert fold("  GMINA  Żółkiewka–Wieś ") == "gmina zolkiewka wies"
    assert fold("Świętochłowice") == "swietochlowice"


def names(rt: Runtime, actor: Actor, query: str) -> list[str]:
    return [m.organisation.name for m in search_organisations(rt, actor=actor, query=query)]


def test_search_by_name_prefix_contains_and_teryt(
    rt: Runtime, demo: DemoIds, actors: dict[str, Actor]
) -> None:
    with transaction(rt.sessions) as session:
        session.add_all([
            Organisation(name="Miasto Łódź", short_name="Łódź", teryt="1061011",
                         kind=OrganisationKind.MIASTO_NA_PRAWACH_POWIATU, seat="Łódź"),
            Organisation(name="Gmina Rybna", short_name="Rybna", teryt="2412999",
                         kind=OrganisationKind.GMINA_WIEJSKA, seat="Rybna"),
        ])  # fmt: skip
    autor = actors["autor"]
    assert names(rt, autor, "lodz") == ["Miasto Łódź"]
    assert names(rt, autor, "ŁÓDŹ") == ["Miasto Łódź"]
    assert names(rt, autor, "rybn") == ["Gmina Rybna", "Miasto Rybnik"]  # both start a word
    assert names(rt, autor, "ybni") == ["Miasto Rybnik"]  # contained: ranked after prefixes
    assert names(rt, autor, "2473") == ["Miasto Rybnik"]
    assert names(rt, autor, "2412") == ["Gmina Gaszowice", "Gmina Rybna"]
    assert names(rt, autor, "miasto rybnik") == ["Miasto Rybnik"]
    assert names(rt, autor, "izba") == []  # e-Izba's offices are not local governments
    assert names(rt, autor, "   ") == []
    prefix_first = search_organisations(rt, actor=autor, query="gmina")
    assert {m.rank for m in prefix_first} == {1}
