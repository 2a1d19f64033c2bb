"""The drafting pages through their HTML forms, as a browser without JavaScript uses them
(CSRF tokens read from the pages), plus what htmx adds: the live search fragment and the
autosave. The preview job is run with the real converter and poppler (``slow``)."""

from __future__ import annotations

import io
import re
from typing import Any

import docx  # python-docx, which docxtpl is built on
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.web.conftest import API, LETTER_VALUES, Login
from workflow.demo.data import DemoIds
from workflow.documents.preview import (
    PENDING,
    READY,
    render_preview,
    request_preview,
    working_draft,
)
from workflow.identity.actors import Actor
from workflow.runtime import Runtime

PL = {"Accept-Language": "pl"}
TEMPLATES_DIR = "templates"


def csrf(page: Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:2000]
    return found[1]


def page(client: TestClient, url: str) -> Response:
    r = client.get(url, headers=PL)
    assert r.status_code == 200, r.text[:2000]
    return r


def as_data(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """A form's (name, value) pairs as httpx posts them (repeated names in order)."""
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return data


def letter_form(demo: DemoIds, token: str, **changes: Any) -> dict[str, list[str]]:
    """The new-document form as a browser posts it for the Rybnik letter."""
    values = dict(LETTER_VALUES)
    fields: list[tuple[str, str]] = [
        ("csrf_token", token),
        ("template", "list_intencyjny"),
        ("organisation_id", str(demo.organisations["rybnik"])),
        ("chamber_id", str(demo.organisations["eizba"])),
        ("title", "List intencyjny w sprawie e-strategii Rybnika"),
        ("signatory_chamber", str(demo.people["prezes"])),
        ("signatory_unit", str(demo.people["prezydent"])),
        ("strategy_name", values["strategy_name"]),
        ("preamble", values["preamble"]),
        ("valid_until", changes.pop("valid_until", values["valid_until"])),
        ("additional_provisions", ""),
    ]
    for i, goal in enumerate(changes.pop("goals", values["goals"])):
        fields.append((f"goals-{i}", goal))
    for i, form in enumerate(values["cooperation_forms"]):
        fields.append((f"cooperation_forms-{i}", form))
    fields.extend(changes.pop("extra", []))
    assert not changes
    return as_data(fields)


def documents_count(client: TestClient) -> int:
    r = client.get(f"{API}/documents")
    assert r.status_code == 200
    body = r.json()
    return len(body["items"] if isinstance(body, dict) else body)


def create_letter(client: TestClient, demo: DemoIds) -> int:
    form = page(
        client,
        f"/documents/new/form?template=list_intencyjny&organisation_id={demo.organisations['rybnik']}",
    )
    r = client.post("/documents/new", data=letter_form(demo, csrf(form)), headers=PL,
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:3000]
    found = re.fullmatch(r"/documents/(\d+)/draft\?created=1", r.headers["location"])
    assert found
    return int(found[1])


def test_search_finds_the_local_government_by_name_or_teryt(login: Login, demo: DemoIds) -> None:
    client = login("autor")
    assert 'href="/documents/new"' in page(client, "/documents").text
    start = page(client, "/documents/new?q=RYBNIK")
    assert "Miasto Rybnik" in start.text and "2473011" in start.text
    assert "Izba Gospodarki" not in start.text.split("org-results", 1)[1]  # not a unit
    fragment = page(client, "/documents/new/organisations?q=2473")
    assert "Miasto Rybnik" in fragment.text and "<html" not in fragment.text
    assert "Gaszowice" in page(client, "/documents/new/organisations?q=gaszowic").text
    assert "Nie znaleziono" in page(client, "/documents/new/organisations?q=zzz").text
    # without JS, "next" without a choice comes back with the question
    r = client.get("/documents/new/form?template=list_intencyjny&q=x", headers=PL)
    assert "Wybierz jednostkę" in r.text


def test_the_rybnik_letter_is_created_through_the_html_forms(login: Login, demo: DemoIds) -> None:
    client = login("autor")
    form = page(
        client,
        f"/documents/new/form?template=list_intencyjny&organisation_id={demo.organisations['rybnik']}",
    )
    # defaults: e-Izba's President signs first, then the Mayor of Rybnik
    assert f'<option value="{demo.people["prezes"]}" selected>' in form.text
    assert f'<option value="{demo.people["prezydent"]}" selected>' in form.text
    assert 'name="goals-0"' in form.text and 'name="add" value="goals"' in form.text
    document_id = create_letter(client, demo)
    doc = client.get(f"{API}/documents/{document_id}").json()
    assert doc["status"] == "draft"
    assert [s["user_id"] for s in doc["signatories"]] == [
        demo.people["prezes"], demo.people["prezydent"],
    ]  # fmt: skip
    assert doc["current_version"]["field_values"]["goals"] == LETTER_VALUES["goals"]
    draft = page(client, f"/documents/{document_id}/draft?created=1")
    assert "Dokument utworzono" in draft.text
    assert ">Cyfryzacja usług publicznych</textarea>" in draft.text


def test_goals_are_added_and_removed_without_javascript(login: Login, demo: DemoIds) -> None:
    client = login("autor")
    form = page(
        client,
        f"/documents/new/form?template=list_intencyjny&organisation_id={demo.organisations['rybnik']}",
    )
    token = csrf(form)
    before = documents_count(client)
    added = client.post("/documents/new", headers=PL,
                        data=letter_form(demo, token, extra=[("add", "goals")]))  # fmt: skip
    assert added.status_code == 200
    assert 'name="goals-2"' in added.text and "></textarea>" in added.text
    removed = client.post(
        "/documents/new", headers=PL,
        data=letter_form(demo, token, extra=[("remove", "goals-0")]),
    )  # fmt: skip
    assert removed.status_code == 200
    assert 'name="goals-1"' not in removed.text
    assert ">Rozwój kompetencji cyfrowych mieszkańców</textarea>" in removed.text
    assert "Cyfryzacja usług publicznych" not in removed.text
    assert documents_count(client) == before  # a row button creates nothing

    # the same on the draft page: the change is kept as the working draft, not a version
    document_id = create_letter(client, demo)
    draft = page(client, f"/documents/{document_id}/draft")
    data = letter_form(demo, csrf(draft), extra=[("add", "goals")])
    r = client.post(f"/documents/{document_id}/draft", data=data, headers=PL)
    assert r.status_code == 200 and 'name="goals-2"' in r.text
    versions = client.get(f"{API}/documents/{document_id}/versions").json()
    assert len(versions) == 1
    # a blank row is dropped when the version is saved
    goals = [*LETTER_VALUES["goals"], "Cyberbezpieczeństwo"]
    data = letter_form(demo, csrf(draft), goals=[*goals, "  "], extra=[("save", "1"),
                       ("note", "dodany cel"), ("lock_version", "1")])  # fmt: skip
    r = client.post(f"/documents/{document_id}/draft", data=data, headers=PL,
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:3000]
    assert r.headers["location"] == f"/documents/{document_id}/draft?saved=2"
    doc = client.get(f"{API}/documents/{document_id}").json()
    assert doc["current_version"]["field_values"]["goals"] == goals
    assert "Zapisano wersję 2" in page(client, r.headers["location"]).text
    # saving what the last version says makes no version
    same = letter_form(demo, csrf(draft), goals=goals, extra=[("save", "1")])
    r = client.post(f"/documents/{document_id}/draft", data=same, headers=PL,
                    follow_redirects=False)  # fmt: skip
    assert r.headers["location"].endswith("?unchanged=1")
    assert "Nic się nie zmieniło" in page(client, r.headers["location"]).text
    # a form loaded before someone else saved: 409, what was typed kept as the working draft
    stale = letter_form(demo, csrf(draft), goals=["Spóźniony cel"],
                        extra=[("save", "1"), ("lock_version", "1")])  # fmt: skip
    r = client.post(f"/documents/{document_id}/draft", data=stale, headers=PL)
    assert r.status_code == 409 and ">Spóźniony cel</textarea>" in r.text
    assert len(client.get(f"{API}/documents/{document_id}/versions").json()) == 2
    assert ">Spóźniony cel</textarea>" in page(client, f"/documents/{document_id}/draft").text


def test_a_wrong_date_is_shown_next_to_its_field_and_nothing_is_stored(
    login: Login, demo: DemoIds
) -> None:
    client = login("autor")
    form = page(
        client,
        f"/documents/new/form?template=list_intencyjny&organisation_id={demo.organisations['rybnik']}",
    )
    before = documents_count(client)
    r = client.post("/documents/new", headers=PL,
                    data=letter_form(demo, csrf(form), valid_until="2027-02-30"))  # fmt: skip
    assert r.status_code == 422
    assert 'id="f-valid_until-error"' in r.text
    error = re.search(r'<p class="field__error" id="f-valid_until-error">([^<]+)</p>', r.text)
    assert error and "2027-02-30" in error[1] and "List obowiązuje do dnia" in error[1], r.text
    assert 'aria-invalid="true" aria-describedby="f-valid_until-error"' in r.text
    assert ">Cyfryzacja usług publicznych</textarea>" in r.text  # what was typed stays
    assert documents_count(client) == before
    # an empty goal among others points at its own row
    r = client.post(
        "/documents/new", headers=PL,
        data=letter_form(demo, csrf(form), goals=["a", "", "b" * 501]),
    )  # fmt: skip
    assert r.status_code == 422
    assert 'id="f-goals-2-error"' in r.text
    # every bad field at once, each next to itself
    data = {**letter_form(demo, csrf(form), valid_until="31.02.2027"), "strategy_name": [""]}
    r = client.post("/documents/new", headers=PL, data=data)
    assert r.status_code == 422
    assert 'id="f-valid_until-error"' in r.text and 'id="f-strategy_name-error"' in r.text


def test_autosave_keeps_a_working_draft_not_a_version(
    login: Login, demo: DemoIds, rt: Runtime, actors: dict[str, Actor]
) -> None:
    client = login("autor")
    document_id = create_letter(client, demo)
    draft = page(client, f"/documents/{document_id}/draft")
    assert f'hx-post="/documents/{document_id}/draft/autosave"' in draft.text
    data = letter_form(demo, csrf(draft), goals=["Nowy cel", "pół"], valid_until="2027-1")
    r = client.post(f"/documents/{document_id}/draft/autosave", data=data,
                    headers={**PL, "HX-Request": "true"})  # fmt: skip
    assert r.status_code == 200
    assert "Szkic zapisano" in r.text and "List obowiązuje do dnia" in r.text
    saved = working_draft(rt, actor=actors["autor"], document_id=document_id)
    assert saved is not None and saved.form_values["goals"] == ["Nowy cel", "pół"]
    assert len(client.get(f"{API}/documents/{document_id}/versions").json()) == 1
    again = page(client, f"/documents/{document_id}/draft")
    assert ">Nowy cel</textarea>" in again.text and "Przywrócono" in again.text
    # valid values: the answer swaps in a pending preview that polls itself
    data = letter_form(demo, csrf(draft), goals=["Nowy cel"])
    r = client.post(f"/documents/{document_id}/draft/autosave", data=data,
                    headers={**PL, "HX-Request": "true"})  # fmt: skip
    assert 'hx-swap-oob="true"' in r.text and 'hx-trigger="every 2s"' in r.text
    # an autosave that says what the version says (it raced "save") restores nothing
    r = client.post(f"/documents/{document_id}/draft/autosave", data=letter_form(demo, csrf(draft)),
                    headers={**PL, "HX-Request": "true"})  # fmt: skip
    assert r.status_code == 200
    assert "Przywrócono" not in page(client, f"/documents/{document_id}/draft").text
    # the reviewer has no working draft to keep: edit is not theirs
    reviewer = login("recenzent")
    token = csrf(page(reviewer, f"/documents/{document_id}/draft"))
    r = reviewer.post(f"/documents/{document_id}/draft/autosave",
                      data=letter_form(demo, token), headers=PL)  # fmt: skip
    assert r.status_code == 403


def test_a_person_of_another_municipality_gets_404(login: Login, demo: DemoIds) -> None:
    document_id = create_letter(login("autor"), demo)
    wojt = login("wojt")
    for url in (
        f"/documents/{document_id}/draft",
        f"/documents/{document_id}/draft/preview",
        f"/documents/{document_id}/draft/files/1.docx",
    ):
        assert wojt.get(url, headers=PL).status_code == 404, url


def test_posts_without_the_csrf_token_change_nothing(login: Login, demo: DemoIds) -> None:
    client = login("autor")
    before = documents_count(client)
    r = client.post("/documents/new", data=letter_form(demo, "forged"), headers=PL)
    assert r.status_code == 403
    assert documents_count(client) == before


def _docx_with_unknown_variable() -> bytes:
    document = docx.Document(f"{TEMPLATES_DIR}/list_intencyjny.docx")
    document.add_paragraph("Dodatkowo: {{ nieznane_pole }}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_template_upload_with_a_lint_error_shows_it_in_place(login: Login) -> None:
    admin = login("prezes")
    form = page(admin, "/templates/upload")
    with open(f"{TEMPLATES_DIR}/list_intencyjny.schema.json", "rb") as fh:
        schema = fh.read()
    r = admin.post(
        "/templates/upload", headers=PL,
        data={"csrf_token": csrf(form), "name": "list_intencyjny", "kind": "letter_of_intent",
              "title": "List intencyjny"},
        files={"docx": ("list.docx", _docx_with_unknown_variable(), "application/octet-stream"),
               "schema": ("list.schema.json", schema, "application/json")},
    )  # fmt: skip
    assert r.status_code == 422, r.text[:2000]
    problems = re.search(r'<ul class="lint-problems[^"]*">(.*?)</ul>', r.text, re.S)
    assert problems and "nieznane_pole" in problems[1], r.text[:3000]
    assert "akapit" in problems[1].lower()  # where: the paragraph
    versions = admin.get(f"{API}/templates/list_intencyjny").json()["version"]
    assert versions == 1  # nothing stored
    # a good upload is stored
    with open(f"{TEMPLATES_DIR}/list_intencyjny.docx", "rb") as fh:
        good = fh.read()
    r = admin.post(
        "/templates/upload", headers=PL,
        data={"csrf_token": csrf(form), "name": "list_intencyjny", "kind": "letter_of_intent",
              "title": "List intencyjny"},
        files={"docx": ("list.docx", good, "application/octet-stream"),
               "schema": ("list.schema.json", schema, "application/json")},
    )  # fmt: skip
    assert r.status_code == 200 and "Zapisano wersję 2" in r.text
    assert login("autor").get("/templates/upload", headers=PL).status_code == 403


@pytest.mark.slow
def test_the_preview_job_renders_png_pages(
    login: Login, demo: DemoIds, rt: Runtime, actors: dict[str, Actor]
) -> None:
    client = login("autor")
    document_id = create_letter(client, demo)
    values = {**LETTER_VALUES, "goals": ["Podgląd na żywo"]}
    state = request_preview(rt, actor=actors["autor"], document_id=document_id, values=values)
    assert state.status == PENDING and state.needs_job
    again = request_preview(rt, actor=actors["autor"], document_id=document_id, values=values)
    assert again.id == state.id and not again.needs_job  # the same values: the same preview
    done = render_preview(rt, preview_id=state.id)  # what the job runs, real LibreOffice
    assert done.status == READY and done.pages >= 1
    assert render_preview(rt, preview_id=state.id) == done  # idempotent
    panel = client.get(f"/documents/{document_id}/draft/preview?render={state.id}",
                       headers={**PL, "HX-Request": "true"})  # fmt: skip
    assert "every 2s" not in panel.text and f"/previews/{state.id}/1.png" in panel.text
    png = client.get(f"/documents/{document_id}/draft/previews/{state.id}/1.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    wojt = login("wojt")
    assert wojt.get(f"/documents/{document_id}/draft/previews/{state.id}/1.png").status_code == 404
