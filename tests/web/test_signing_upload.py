"""POST /documents/{id}/signatures/upload: the PDF signed elsewhere, as an application/pdf
body; accepted with its validation, or refused with the reason and nothing changed."""

from __future__ import annotations

from typing import Any

from tests.signing.test_upload import desktop_sign
from tests.web.conftest import API, Login
from tests.web.test_signing import _approved_for_signing
from workflow.runtime import Runtime

PDF = {"Content-Type": "application/pdf"}


def test_the_mayor_uploads_what_he_signed_elsewhere(
    login: Login, letter: dict[str, Any], rt: Runtime
) -> None:
    doc = _approved_for_signing(login, letter)
    prezes, prezydent = login("prezes"), login("prezydent")
    url = f"{API}/documents/{doc['id']}/signatures"
    first = prezes.post(f"{url}/demo-key", json={"pdf_sha256": doc["current_pdf_sha256"]})
    assert first.status_code == 200, first.text
    awaited = rt.blobs.get(first.json()["current_pdf_sha256"])

    not_pdf = prezydent.post(f"{url}/upload", content=b"GIF89a", headers=PDF)
    assert not_pdf.status_code == 422 and not_pdf.json()["code"] == "not_a_pdf"
    wrong_type = prezydent.post(
        f"{url}/upload", content=awaited, headers={"Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 422 and wrong_type.json()["field"] == "file"
    wrong_person = prezydent.post(
        f"{url}/upload", content=desktop_sign(rt, awaited, key_id="wojt"), headers=PDF
    )
    assert wrong_person.status_code == 422, wrong_person.text
    assert wrong_person.json()["code"] == "signed_upload_wrong_signer"
    assert "Anna Przykładowa" in wrong_person.json()["detail"]
    out_of_turn = prezes.post(f"{url}/upload", content=desktop_sign(rt, awaited), headers=PDF)
    assert out_of_turn.status_code == 409 and out_of_turn.json()["code"] == "not_your_turn"

    signed = desktop_sign(rt, awaited, timestamp=True)
    done = prezydent.post(f"{url}/upload", content=signed, headers=PDF)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["document"]["status"] == "signed"
    assert body["validation"]["valid"] is True
    assert body["validation"]["sha256"] == body["document"]["current_pdf_sha256"]
    assert [s["signer"] for s in body["validation"]["signatures"]] == [
        "Patrycja Sass-Staniszewska",
        "Piotr Kuczera",
    ]
