"""Workflow documents in the index: written by the job an action's outbox entry starts (a
new document, a new version), with the filters of the document, and visible only to whom
the document is (another municipality's user finds nothing of Rybnik's)."""

from __future__ import annotations

import json
from typing import Any

from tests.jobs.outbox_helpers import run_jobs
from tests.letters import letter_values, rybnik_letter
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.documents.drafting import PartyInput, SignatoryInput, edit_document
from workflow.identity.actors import Actor
from workflow.jobs.dispatch import dispatch_pending
from workflow.runtime import Runtime
from workflow.search.query import SearchPage, search


def find(rt: Runtime, query: str, actor: Actor | None) -> SearchPage:
    with transaction(rt.read_sessions) as s:
        return search(s, query, actor=actor)


def work(rt: Runtime) -> None:
    dispatch_pending(rt)
    run_jobs(rt)


def test_a_new_document_is_indexed_by_its_job_with_its_filters(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    assert find(rt, "Rybnik", None).total == 0  # not before its job ran
    work(rt)
    page = find(rt, "e-strategia Rybnik", None)
    (hit,) = page.results
    assert hit.document_id == doc.id and hit.title == doc.title
    assert hit.file_name == f"{(doc.reference or '').replace('/', '-')}.pdf"
    assert hit.status == "draft"
    assert "<mark>" in hit.snippet
    assert page.facets["organisation"] == {"Miasto Rybnik": 1, **_chamber(page)}
    assert page.facets["teryt"] == {"2473011": 1}
    assert page.facets["voivodeship"] == {"śląskie": 1}
    assert page.facets["signatory"] == {"Patrycja Sass-Staniszewska": 1, "Piotr Kuczera": 1}
    assert page.facets["status"] == {"draft": 1}
    assert page.facets["kind"] == {"letter_of_intent": 1}
    # the text of the version is indexed, not only the metadata: a goal of the letter
    assert find(rt, "seniorów", None).total == 1


def gaszowice_values() -> dict[str, Any]:
    """The demo letter's values about Gaszowice: not a word of Rybnik left."""
    text = json.dumps(letter_values(), ensure_ascii=False)
    for rybnik, gaszowice in (("Rybnika", "Gaszowic"), ("Rybniku", "Gaszowicach")):
        text = text.replace(rybnik, gaszowice)
    values: dict[str, Any] = json.loads(text.replace("Rybnik", "Gaszowice"))
    assert "Rybnik" not in json.dumps(values, ensure_ascii=False)
    return values


def _chamber(page: SearchPage) -> dict[str, int]:
    return {k: v for k, v in page.facets["organisation"].items() if k != "Miasto Rybnik"}


def test_a_new_version_is_found_once_its_job_ran(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    doc = rybnik_letter(rt, actors, demo)
    work(rt)
    assert find(rt, "Żory", None).total == 0
    edit_document(
        rt, actor=actors["autor"], document_id=doc.id,
        values={"goals": ["wspólne szkolenia z Żorami i Gliwicami"]},
    )  # fmt: skip
    assert find(rt, "Żory", None).total == 0  # the index follows through the job
    work(rt)
    (hit,) = find(rt, "Żory", None).results
    assert hit.document_id == doc.id and "<mark>Żorami</mark>" in hit.snippet
    assert find(rt, "seniorów", None).total == 1  # every version's text stays searchable
    work(rt)  # nothing left to do: the entry is the same
    assert [r.entry_id for r in find(rt, "Żory", None).results] == [hit.entry_id]


def test_another_municipality_finds_nothing_of_rybniks(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds
) -> None:
    org, people = demo.organisations, demo.people
    rybnik = rybnik_letter(rt, actors, demo)
    gaszowice = rybnik_letter(
        rt, actors, demo, title="List intencyjny Gminy Gaszowice", values=gaszowice_values(),
        parties=[PartyInput(org["eizba"]), PartyInput(org["gaszowice"])],
        signatories=[SignatoryInput(people["prezes"]), SignatoryInput(people["wojt"])],
    )  # fmt: skip
    work(rt)
    both = {rybnik.id, gaszowice.id}
    assert {r.document_id for r in find(rt, "list intencyjny", None).results} == both
    assert {r.document_id for r in find(rt, "list intencyjny", actors["autor"]).results} == both
    mayor = find(rt, "list intencyjny", actors["prezydent"])
    assert [r.document_id for r in mayor.results] == [rybnik.id] and mayor.total == 1
    assert find(rt, "Kuczera", None).total == 1  # the mayor of Rybnik signs Rybnik's letter
    wojt = find(rt, "Kuczera", actors["wojt"])
    assert (wojt.total, wojt.results, wojt.facets) == (0, [], {})
    # Gaszowice's letter names Rybnik too (the place it was written in): only that one
    assert [r.document_id for r in find(rt, "Rybnik", actors["wojt"]).results] == [gaszowice.id]
    wojt_all = find(rt, "list intencyjny", actors["wojt"])
    assert [r.document_id for r in wojt_all.results] == [gaszowice.id]
    assert "Miasto Rybnik" not in wojt_all.facets["organisation"]
