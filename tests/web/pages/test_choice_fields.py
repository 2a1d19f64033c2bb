"""A template whose schema has ``choice`` fields, from its upload to a draft: the form
shows a select with the options' labels, a chosen value is stored and rendered, a value
that is not an option comes back next to its field with nothing stored."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import docx  # python-docx, which docxtpl is built on
from fastapi.testclient import TestClient

from tests.web.conftest import API, Login
from tests.web.pages.test_drafting import as_data, csrf, documents_count, page
from workflow.demo.data import DemoIds

PL = {"Accept-Language": "pl"}
EN = {"Accept-Language": "en"}
NAME = "porozumienie_jst"
UNIT_KINDS = [
    {"value": "gmina", "label": "gmina", "label_en": "municipality"},
    {"value": "powiat", "label": "powiat", "label_en": "county"},
    {"value": "miasto_npp", "label": "miasto na prawach powiatu"},
]
SCHEMA: dict[str, Any] = {
    "title": "Porozumienie z jednostką",
    "fields": [
        {"name": "unit_kind", "type": "choice", "label": "Rodzaj jednostki",
         "label_en": "Kind of unit", "required": True, "options": UNIT_KINDS},
        {"name": "partners", "type": "table", "label": "Partnerzy", "label_en": "Partners",
         "columns": [
             {"name": "partner", "type": "string", "label": "Partner", "required": True},
             {"name": "kind", "type": "choice", "label": "Rodzaj", "label_en": "Kind",
              "required": True, "options": UNIT_KINDS},
         ]},
    ],
}  # fmt: skip


def _template_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Rodzaj jednostki: {{ unit_kind }}.")
    document.add_paragraph(
        '{% if unit_kind == "miasto_npp" %}Miasto na prawach powiatu.{% endif %}'
    )
    document.add_paragraph(
        "Partnerzy: {% for p in partners %}{{ p.partner }} ({{ p.kind }}); {% endfor %}"
    )
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _upload(admin: TestClient) -> None:
    form = page(admin, "/templates/upload")
    r = admin.post(
        "/templates/upload", headers=PL,
        data={"csrf_token": csrf(form), "new_name": NAME, "kind": "letter_of_intent",
              "title": "Porozumienie z jednostką"},
        files={"docx": ("porozumienie.docx", _template_docx(), "application/octet-stream"),
               "schema": ("porozumienie.schema.json", json.dumps(SCHEMA).encode(),
                          "application/json")},
    )  # fmt: skip
    assert r.status_code == 200 and "Zapisano wersję 1" in r.text, r.text[:3000]


def _form(demo: DemoIds, token: str, unit_kind: str, *rows: tuple[str, str]) -> Any:
    fields = [
        ("csrf_token", token),
        ("template", NAME),
        ("organisation_id", str(demo.organisations["rybnik"])),
        ("chamber_id", str(demo.organisations["eizba"])),
        ("title", "Porozumienie z Rybnikiem"),
        ("signatory_chamber", str(demo.people["prezes"])),
        ("signatory_unit", str(demo.people["prezydent"])),
        ("unit_kind", unit_kind),
    ]
    for i, (partner, kind) in enumerate(rows):
        fields += [(f"partners-{i}-partner", partner), (f"partners-{i}-kind", kind)]
    return as_data(fields)


def _options(html: str, name: str) -> list[tuple[str, bool, str]]:
    """(value, selected, label) of each option of the select named ``name``."""
    found = re.search(rf'<select id="f-{name}" name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert found, f"no select {name}"
    return [
        (value, bool(selected), text)
        for value, selected, text in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', found[1]
        )
    ]


def test_a_choice_field_is_a_select_and_only_its_options_are_stored(
    login: Login, demo: DemoIds
) -> None:
    _upload(login("prezes"))
    stored = login("autor").get(f"{API}/templates/{NAME}").json()
    assert stored["field_schema"]["fields"][0]["options"] == UNIT_KINDS

    client = login("autor")
    url = f"/documents/new/form?template={NAME}&organisation_id={demo.organisations['rybnik']}"
    form = page(client, url)
    assert _options(form.text, "unit_kind") == [
        ("", True, "— wybierz —"),  # nothing chosen yet
        ("gmina", False, "gmina"),
        ("powiat", False, "powiat"),
        ("miasto_npp", False, "miasto na prawach powiatu"),
    ]
    assert [o[2] for o in _options(form.text, "partners-0-kind")][1:3] == ["gmina", "powiat"]
    english = client.get(url, headers=EN)
    assert [o[2] for o in _options(english.text, "unit_kind")] == [
        "— choose —", "municipality", "county", "miasto na prawach powiatu",
    ]  # fmt: skip

    # a value that is not an option: the form comes back, the error next to the field
    before = documents_count(client)
    token = csrf(form)
    r = client.post("/documents/new", headers=PL,
                    data=_form(demo, token, "wieś", ("Gliwice", "miasto_npp")))  # fmt: skip
    assert r.status_code == 422, r.text[:3000]
    error = re.search(r'<p class="field__error" id="f-unit_kind-error">([^<]+)</p>', r.text)
    assert error, r.text[:3000]
    assert error[1] == (
        "Pole „Rodzaj jednostki” musi mieć jedną z wartości: gmina, powiat, miasto_npp."
    )
    assert 'aria-invalid="true" aria-describedby="f-unit_kind-error"' in r.text
    assert ("wieś", True, "wieś") in _options(r.text, "unit_kind")  # what was sent, shown
    assert ("miasto_npp", True, "miasto na prawach powiatu") in _options(r.text, "partners-0-kind")
    r = client.post("/documents/new", headers=PL,
                    data=_form(demo, token, "powiat", ("Gliwice", "wojewodztwo")))  # fmt: skip
    assert r.status_code == 422
    assert 'id="f-partners-0-kind-error"' in r.text and "Rodzaj, wiersz 1" in r.text
    assert documents_count(client) == before

    # "add a row" without JavaScript: the new row has its select too, nothing stored
    r = client.post("/documents/new", headers=PL,
                    data={**_form(demo, token, "powiat", ("Gliwice", "miasto_npp")),
                          "add": ["partners"]})  # fmt: skip
    assert r.status_code == 200
    assert _options(r.text, "partners-1-kind")[0] == ("", True, "— wybierz —")
    assert documents_count(client) == before

    # a listed value: stored as the value, rendered into the document as the value
    r = client.post(
        "/documents/new", headers=PL, follow_redirects=False,
        data=_form(demo, token, "miasto_npp", ("Gliwice", "miasto_npp"), ("", "")),
    )  # fmt: skip
    assert r.status_code == 303, r.text[:3000]
    document_id = int(re.findall(r"\d+", r.headers["location"])[0])
    values = client.get(f"{API}/documents/{document_id}").json()["current_version"]
    assert values["field_values"] == {
        "unit_kind": "miasto_npp",
        "partners": [{"partner": "Gliwice", "kind": "miasto_npp"}],  # the blank row dropped
    }
    rendered = client.get(f"/documents/{document_id}/draft/files/1.docx", headers=PL)
    assert rendered.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(rendered.content)).paragraphs)
    assert "Rodzaj jednostki: miasto_npp." in text
    assert "Miasto na prawach powiatu." in text
    assert "Partnerzy: Gliwice (miasto_npp); " in text

    # the document page shows the options' labels, in the page's language
    shown = page(client, f"/documents/{document_id}")
    values_html = shown.text.split('id="values-h"')[1].split("</dl>")[0]
    assert "<dd>\n      miasto na prawach powiatu\n" in values_html, values_html
    assert "<td>miasto na prawach powiatu</td>" in values_html
    assert "miasto_npp" not in values_html
    english = client.get(f"/documents/{document_id}", headers=EN).text
    assert "<td>miasto na prawach powiatu</td>" in english  # no English label: Polish

    # the draft shows the chosen option; required and chosen: no empty option
    draft = page(client, f"/documents/{document_id}/draft")
    assert _options(draft.text, "unit_kind")[0] == ("gmina", False, "gmina")
    assert ("miasto_npp", True, "miasto na prawach powiatu") in _options(draft.text, "unit_kind")
    # autosave of a value that is not an option keeps it as the working draft, with its error
    data = _form(demo, csrf(draft), "wieś", ("Gliwice", "miasto_npp"))
    r = client.post(f"/documents/{document_id}/draft/autosave", data=data,
                    headers={**PL, "HX-Request": "true"})  # fmt: skip
    assert r.status_code == 200 and "musi mieć jedną z wartości" in r.text
    # saving it is refused next to the field, and no version is made
    data = _form(demo, csrf(draft), "wieś", ("Gliwice", "miasto_npp"))
    data.update(save=["1"], lock_version=["1"])
    r = client.post(f"/documents/{document_id}/draft", data=data, headers=PL)
    assert r.status_code == 422 and 'id="f-unit_kind-error"' in r.text
    assert len(client.get(f"{API}/documents/{document_id}/versions").json()) == 1


def test_the_api_refuses_a_value_that_is_not_an_option_naming_path_and_options(
    login: Login, demo: DemoIds
) -> None:
    admin = login("prezes")
    url = f"{API}/templates/{NAME}/versions"
    bad = json.loads(json.dumps(SCHEMA))
    bad["fields"][1]["columns"][1]["options"][1]["value"] = "gmina"
    upload = {"kind": "letter_of_intent", "title": "Porozumienie z jednostką"}
    docx_file = {"file": ("porozumienie.docx", _template_docx(), "application/octet-stream")}
    r = admin.post(url, files=docx_file, data={**upload, "schema": json.dumps(bad)}, headers=PL)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "schema_duplicate_option"
    assert r.json()["field"] == "schema.fields[1].columns[1].options[1].value"
    r = admin.post(url, files=docx_file, data={**upload, "schema": json.dumps(SCHEMA)})
    assert r.status_code == 201, r.text
    assert r.json()["field_schema"] == SCHEMA
    client = login("autor")
    body: dict[str, Any] = {
        "template": NAME,
        "title": "Porozumienie z Rybnikiem",
        "values": {"unit_kind": "gmina", "partners": [{"partner": "Gliwice", "kind": "wieś"}]},
        "parties": [
            {"organisation_id": demo.organisations["eizba"]},
            {"organisation_id": demo.organisations["rybnik"]},
        ],
        "signatories": [{"user_id": demo.people["prezes"]}, {"user_id": demo.people["prezydent"]}],
    }
    r = client.post(f"{API}/documents", json=body, headers=PL)
    assert r.status_code == 422, r.text
    error = r.json()
    assert error["code"] == "not_an_option"
    assert error["field"].endswith("partners[0].kind")
    assert error["params"]["allowed"] == ["gmina", "powiat", "miasto_npp"]
    assert "gmina, powiat, miasto_npp" in error["detail"]
    body["values"]["partners"][0]["kind"] = "powiat"
    r = client.post(f"{API}/documents", json=body, headers=PL)
    assert r.status_code == 201, r.text
    assert r.json()["current_version"]["field_values"]["partners"][0]["kind"] == "powiat"
    document_id = r.json()["id"]

    # a second version; comparing them shows the options' labels, not their values
    values = {"unit_kind": "miasto_npp", "partners": [{"partner": "Gliwice", "kind": "gmina"}]}
    r = client.patch(f"{API}/documents/{document_id}", json={"values": values, "note": "rodzaj"})
    assert r.status_code == 200, r.text
    compare = client.get(f"/documents/{document_id}/compare?old=1&new=2", headers=PL)
    assert compare.status_code == 200, compare.text[:2000]
    assert "<del>gmina</del>" in compare.text
    assert "<ins>miasto na prawach powiatu</ins>" in compare.text
    assert "<del>powiat</del>" in compare.text and "<ins>gmina</ins>" in compare.text
    compare = client.get(f"/documents/{document_id}/compare?old=1&new=2", headers=EN)
    assert "<del>municipality</del>" in compare.text
    assert "<ins>miasto na prawach powiatu</ins>" in compare.text  # no English label
    assert "<del>county</del>" in compare.text and "<ins>municipality</ins>" in compare.text
    changed_values = compare.text.split('id="values-h"')[1].split("</section>")[0]
    assert "miasto_npp" not in changed_values  # (the rendered text has it: the template's)
