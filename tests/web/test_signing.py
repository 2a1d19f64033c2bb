"""Signing and verifying over HTTP: in order, on the PDF seen, and anyone can verify."""

from __future__ import annotations

import base64
from typing import Any

from fastapi.testclient import TestClient

from tests.pdfsig import Pdfsig, assert_pdfsig_valid
from tests.web.conftest import API, Login
from workflow.runtime import Runtime


def _approved_for_signing(login: Login, letter: dict[str, Any]) -> dict[str, Any]:
    author, reviewer = login("autor"), login("recenzent")
    doc_id = letter["id"]
    for client, action in (
        (author, "submit"),
        (reviewer, "approve"),
        (author, "request_signatures"),
    ):
        r = client.post(f"{API}/documents/{doc_id}/actions/{action}")
        assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    assert doc["status"] == "awaiting_signatures"
    return doc


def test_sign_in_order_then_anyone_verifies(
    login: Login, letter: dict[str, Any], anonymous: TestClient, rt: Runtime, pdfsig_app: Pdfsig
) -> None:
    doc = _approved_for_signing(login, letter)
    prezes, prezydent = login("prezes"), login("prezydent")
    url = f"{API}/documents/{doc['id']}/signatures"

    out_of_turn = prezydent.post(f"{url}/demo-key", json={"pdf_sha256": doc["current_pdf_sha256"]})
    assert out_of_turn.status_code == 409
    assert out_of_turn.json()["code"] == "not_your_turn"
    malformed = prezes.post(f"{url}/demo-key", json={"pdf_sha256": "abc"})
    assert malformed.status_code == 422
    assert malformed.json()["field"] == "pdf_sha256"

    first = prezes.post(f"{url}/demo-key", json={"pdf_sha256": doc["current_pdf_sha256"]})
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "awaiting_signatures"

    # The Mayor signs with a key the server never sees: only a digest goes out.
    pki = rt.signing.demo_pki
    assert pki is not None
    chain = b"".join(pki.cert_path(n).read_bytes() for n in ("prezydent", "intermediate", "root"))
    step = prezydent.post(
        f"{url}/external",
        json={"pdf_sha256": first.json()["current_pdf_sha256"],
              "certificate_chain_pem": chain.decode()},
    )  # fmt: skip
    assert step.status_code == 201, step.text
    value = pki.sign_digest_as_card("prezydent", base64.b64decode(step.json()["digest_to_sign"]))
    done = prezydent.post(
        f"{url}/external/{step.json()['session_id']}",
        json={"signature_value": base64.b64encode(value).decode()},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "signed"

    signed = prezydent.get(f"{API}/documents/{doc['id']}/signed.pdf")
    assert signed.status_code == 200
    assert signed.headers["content-type"] == "application/pdf"
    report = anonymous.post(
        f"{API}/verify", content=signed.content, headers={"Content-Type": "application/pdf"}
    )
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["valid"] is True
    assert_pdfsig_valid(pdfsig_app(signed.content), 2)
    assert body["pades_level"] == "B-LTA"
    assert [s["signer"] for s in body["signatures"]] == [
        "Patrycja Sass-Staniszewska",
        "Piotr Kuczera",
    ]

    tampered = bytearray(signed.content)
    at = signed.content.index(b"stream", len(tampered) // 3) + 20
    tampered[at] ^= 0x01
    bad = anonymous.post(
        f"{API}/verify", content=bytes(tampered), headers={"Content-Type": "application/pdf"}
    )
    assert bad.status_code == 200
    assert bad.json()["valid"] is False


def test_verify_refuses_what_is_not_a_pdf(anonymous: TestClient) -> None:
    garbage = anonymous.post(
        f"{API}/verify", content=b"not a pdf", headers={"Content-Type": "application/pdf"}
    )
    assert garbage.status_code == 422
    assert garbage.json()["field"] == "file"
    wrong_type = anonymous.post(
        f"{API}/verify", content=b"%PDF-1.7", headers={"Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 422


def test_directory_shows_staff_everyone_and_municipalities_their_own(login: Login) -> None:
    staff = login("autor").get(f"{API}/people").json()
    assert {p["full_name"] for p in staff} >= {"Piotr Kuczera", "Anna Przykładowa"}
    assert all(p["email"] for p in staff)
    own = login("prezydent").get(f"{API}/people").json()
    assert [p["full_name"] for p in own] == ["Piotr Kuczera"]
    assert own[0]["email"] is None
    orgs = login("wojt").get(f"{API}/organisations").json()
    rybnik = next(o for o in orgs if o["name"] == "Miasto Rybnik")
    assert rybnik["teryt"] == "2473011"
    assert rybnik["head_title"] == "Prezydent Miasta Rybnika"
