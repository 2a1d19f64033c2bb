"""Creating, reading and downloading documents; input errors; who sees what."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.jobs.outbox_helpers import render_pending
from tests.web.conftest import API, EMAILS, LETTER_VALUES, Login, letter_body
from workflow.demo.data import DemoIds
from workflow.runtime import Runtime

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# One test per list rather than one per case: each case would pay for a fresh database.
WRONG_VALUES: list[tuple[dict[str, Any], str, str]] = [
    ({**LETTER_VALUES, "budget": 100}, "budget", "unknown_field"),
    ({**LETTER_VALUES, "goals": "jeden cel"}, "goals", "not_a_list"),
    ({**LETTER_VALUES, "valid_until": "31.12.2027"}, "valid_until", "not_a_date"),
    ({k: v for k, v in LETTER_VALUES.items() if k != "preamble"}, "preamble", "value_required"),
    ({**LETTER_VALUES, "goals": ["ok", ""]}, "goals[1]", "item_empty"),
    ({**LETTER_VALUES, "strategy_name": "x" * 201}, "strategy_name", "text_too_long"),
]
WRONG_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"colour": "red"}, "colour"),  # unknown key
    ({"title": 5}, "title"),  # wrong type
    ({"template": None}, "template"),
    ({"parties": [{"organisation_id": "Rybnik"}]}, "parties[0].organisation_id"),
    ({"signatories": [{"user_id": 1, "rola": "x"}]}, "signatories[0].rola"),
    ({"parties": []}, "parties"),
]


def test_field_values_are_checked_against_the_template_schema(login: Login, demo: DemoIds) -> None:
    author = login("autor")
    for values, field, code in WRONG_VALUES:
        r = author.post(f"{API}/documents", json=letter_body(demo, values=values))
        assert r.status_code == 422, (field, r.text)
        body = r.json()
        assert (body["code"], body["kind"]) == (code, "invalid_input"), body
        assert body["field"] == body["params"]["field"] == field
        assert f"'{field}'" in body["detail"], body
    assert author.get(f"{API}/documents").json() == []  # nothing was stored


def test_request_bodies_are_checked_field_by_field(login: Login, demo: DemoIds) -> None:
    author = login("autor")
    for change, field in WRONG_BODIES:
        r = author.post(f"{API}/documents", json=letter_body(demo, **change))
        assert r.status_code == 422, (field, r.text)
        assert r.json()["field"] == field
        assert r.json()["errors"][0]["field"] == field


def test_missing_and_malformed_bodies_are_422_not_500(login: Login, demo: DemoIds) -> None:
    author = login("autor")
    body = letter_body(demo)
    del body["values"]
    r = author.post(f"{API}/documents", json=body)
    assert r.status_code == 422
    assert r.json()["field"] == "values"
    r = author.post(
        f"{API}/documents", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["field"] == "body"
    r = author.get(f"{API}/documents", params={"status": "lost", "limit": 0})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"status", "limit"}
    r = author.get(f"{API}/documents/abc")
    assert r.status_code == 422
    assert r.json()["field"] == "document_id"
    r = author.post(f"{API}/documents", json=letter_body(demo, template="brak_takiego"))
    assert r.status_code == 404
    assert r.json()["kind"] == "not_found"
    stranger = [{"organisation_id": demo.organisations["gaszowice"]}]
    r = author.post(f"{API}/documents", json=letter_body(demo, parties=stranger))
    assert r.status_code == 422
    assert r.json()["field"].startswith("signatories[")


def test_only_authors_create_documents(login: Login, demo: DemoIds) -> None:
    r = login("recenzent").post(f"{API}/documents", json=letter_body(demo))
    assert r.status_code == 403
    assert (r.json()["code"], r.json()["kind"]) == ("author_role_required", "not_permitted")


def test_a_municipality_sees_only_its_own_documents(
    login: Login, demo: DemoIds, letter: dict[str, Any]
) -> None:
    doc_id = letter["id"]
    wojt = login("wojt")
    for path in ("", "/versions", "/actions", "/comments", "/audit", "/versions/1/docx"):
        r = wojt.get(f"{API}/documents/{doc_id}{path}")
        assert r.status_code == 404, path
        assert r.json()["code"] == "document_not_found"
    assert wojt.post(f"{API}/documents/{doc_id}/comments", json={"body": "?"}).status_code == 404
    assert wojt.get(f"{API}/documents").json() == []
    hidden = wojt.get(f"{API}/documents/{doc_id}").json()
    missing = wojt.get(f"{API}/documents/999999").json()  # the same answer: nothing leaks
    assert missing["code"] == "document_not_found"
    assert hidden == {
        **missing,
        "detail": missing["detail"].replace("999999", str(doc_id)),
        "params": {"document_id": doc_id},
    }

    mayor = login("prezydent")
    assert mayor.get(f"{API}/documents/{doc_id}").json()["title"] == letter["title"]
    listed = mayor.get(f"{API}/documents", params={"status": "draft"}).json()
    assert [d["id"] for d in listed] == [doc_id]
    rybnik = demo.organisations["rybnik"]
    assert len(mayor.get(f"{API}/documents", params={"organisation_id": rybnik}).json()) == 1
    assert mayor.get(f"{API}/documents", params={"status": "signed"}).json() == []
    assert mayor.get(f"{API}/documents/{doc_id}/actions").json() == []
    assert (
        mayor.post(f"{API}/documents/{doc_id}/comments", json={"body": "Dziękujemy"}).status_code
        == 201
    )


def test_downloads_of_docx_and_pdf(
    rt: Runtime, login: Login, letter: dict[str, Any], tmp_path: Any
) -> None:
    mayor = login("prezydent")
    base = f"{API}/documents/{letter['id']}/versions/1"
    docx = mayor.get(f"{base}/docx")
    assert docx.status_code == 200
    assert docx.headers["content-type"] == DOCX
    assert docx.content.startswith(b"PK")
    name = letter["reference"].replace("/", "-")
    assert f'filename="{name}-v1.docx"' in docx.headers["content-disposition"]

    assert mayor.get(f"{base}/pdf").status_code == 202  # its render job has not run yet
    render_pending(rt)
    pdf = mayor.get(f"{base}/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert f'filename="{name}-v1.pdf"' in pdf.headers["content-disposition"]
    assert pdf.headers["cache-control"] == "private, no-store"
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Rybnik" in text
    assert "Cyfryzacja usług publicznych" in text
    # The second request reuses the stored rendition.
    assert mayor.get(f"{base}/pdf").content == pdf.content

    assert mayor.get(f"{API}/documents/{letter['id']}/versions/7/pdf").status_code == 404
    assert mayor.get(f"{API}/documents/{letter['id']}/versions/1/odt").status_code == 422
    signed = mayor.get(f"{API}/documents/{letter['id']}/signed.pdf")
    assert signed.status_code == 404  # nothing was sent for signatures yet


def test_out_of_range_ids_and_unpaired_surrogates_are_422_not_500(
    login: Login, demo: DemoIds, letter: dict[str, Any]
) -> None:
    """Found by fuzzing: ids past a 64-bit integer and lone surrogates reached the database
    or the JSON encoder; now the edge refuses them, naming the field, and stores nothing."""
    author = login("autor")
    too_big = 2**63
    paths = (
        f"/documents/{too_big}",
        f"/documents/{too_big}/actions",
        f"/people?organisation_id={too_big}",
        f"/documents?offset={too_big}",
    )
    for path in paths:
        r = author.get(f"{API}{path}")
        assert r.status_code == 422, (path, r.text)
    body = letter_body(demo)
    body["parties"][0]["organisation_id"] = too_big
    r = author.post(f"{API}/documents", json=body)
    assert r.status_code == 422
    assert r.json()["field"] == "parties[0].organisation_id"

    before = author.get(f"{API}/documents").json()
    surrogate = letter_body(demo)
    surrogate["values"]["strategy_name"] = "X\udfffY"
    r = author.post(
        f"{API}/documents",
        content=json.dumps(surrogate).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["field"] == "strategy_name"
    titled = letter_body(demo, title="List\x00intencyjny")
    assert author.post(f"{API}/documents", json=titled).json()["field"] == "title"
    assert author.get(f"{API}/documents").json() == before  # nothing was stored


def test_the_audit_view_shows_actors_as_the_directory_shows_them(
    login: Login, letter: dict[str, Any]
) -> None:
    path = f"{API}/documents/{letter['id']}/audit"
    staff_view = login("recenzent").get(path).json()
    mayor_view = login("prezydent").get(path).json()
    assert staff_view[0]["actor_email"] == EMAILS["autor"]
    assert staff_view[0]["actor"] == mayor_view[0]["actor"] == "Katarzyna Zielińska"
    assert all(record["actor_email"] is None for record in mayor_view)
    assert "@e-izba.demo" not in json.dumps(mayor_view)


def test_a_list_gives_documents_without_their_values_unless_asked(
    login: Login, letter: dict[str, Any]
) -> None:
    author = login("autor")
    whole = author.get(f"{API}/documents/{letter['id']}").json()
    [listed] = author.get(f"{API}/documents").json()
    values = whole["current_version"].pop("field_values")
    assert values["goals"]  # the letter has values; the list leaves them out
    assert listed == whole
    [with_values] = author.get(f"{API}/documents", params={"values": "true"}).json()
    assert with_values["current_version"]["field_values"] == values
    schema = author.get("/openapi.json").json()["paths"]["/api/v1/documents"]["get"]
    assert "values" in [p["name"] for p in schema["parameters"]]
