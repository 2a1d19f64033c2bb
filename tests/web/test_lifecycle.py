"""A Rybnik letter of intent through review over HTTP, and the answers when it goes wrong."""

from __future__ import annotations

import threading
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.web.conftest import API, Login


def _act(client: TestClient, doc_id: int, action: str, **body: Any) -> httpx.Response:
    return client.post(f"{API}/documents/{doc_id}/actions/{action}", json=body or None)


def _actions(client: TestClient, doc_id: int) -> list[str]:
    return [a["action"] for a in client.get(f"{API}/documents/{doc_id}/actions").json()]


def test_review_round_trip(login: Login, letter: dict[str, Any]) -> None:
    author, reviewer = login("autor"), login("recenzent")
    doc_id = letter["id"]
    assert letter["status"] == "draft"
    assert letter["reference"].startswith("LI/")
    assert set(_actions(author, doc_id)) == {"edit", "submit", "withdraw"}
    assert _actions(reviewer, doc_id) == []

    submitted = _act(author, doc_id, "submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "in_review"
    assert submitted.json()["current_version"]["pdf_sha256"]  # reviewers review the PDF
    assert set(_actions(reviewer, doc_id)) == {"approve", "request_changes"}

    # The author may not approve their own letter: the role is missing.
    own = _act(author, doc_id, "approve")
    assert own.status_code == 403
    assert own.json()["code"] == "role_required"
    assert own.json()["kind"] == "not_permitted"
    assert own.json()["params"] == {"action": "approve", "roles": ["reviewer"]}

    no_reason = _act(reviewer, doc_id, "request_changes")
    assert no_reason.status_code == 409
    assert no_reason.json()["code"] == "reason_required"
    assert no_reason.json()["kind"] == "guard_refused"
    blank_reason = _act(reviewer, doc_id, "request_changes", reason="   ")
    assert blank_reason.status_code == 409
    changes = _act(reviewer, doc_id, "request_changes", reason="Proszę dodać cel o e-usługach.")
    assert changes.status_code == 200
    assert changes.json()["status"] == "changes_requested"
    comments = author.get(f"{API}/documents/{doc_id}/comments").json()
    assert [c["body"] for c in comments] == ["Proszę dodać cel o e-usługach."]

    goals = [*letter["current_version"]["field_values"]["goals"], "Rozwój e-usług"]
    edited = author.patch(
        f"{API}/documents/{doc_id}",
        json={"values": {"goals": goals}, "seen_lock_version": changes.json()["lock_version"],
              "note": "cel o e-usługach"},
    )  # fmt: skip
    assert edited.status_code == 200, edited.text
    assert edited.json()["current_version"]["number"] == 2
    assert edited.json()["current_version"]["field_values"]["goals"][-1] == "Rozwój e-usług"
    versions = author.get(f"{API}/documents/{doc_id}/versions").json()
    assert [v["number"] for v in versions] == [1, 2]
    assert (
        versions[0]["field_values"]["goals"] == letter["current_version"]["field_values"]["goals"]
    )

    assert _act(author, doc_id, "submit").json()["status"] == "in_review"
    approved = _act(reviewer, doc_id, "approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"

    # Any edit after approval is a new version back in draft, and the approval is void.
    again = author.patch(
        f"{API}/documents/{doc_id}", json={"values": {"valid_until": "2028-06-30"}}
    )
    assert again.status_code == 200
    assert again.json()["status"] == "draft"
    assert again.json()["current_version"]["number"] == 3
    trail = author.get(f"{API}/documents/{doc_id}/audit").json()
    actions = [r["action"] for r in trail]
    assert actions == [
        "document.created", "document.rendered", "document.submit", "document.request_changes",
        "document.edited", "document.rendered", "document.submit", "document.approve",
        "document.edited",
    ]  # fmt: skip
    assert trail[-1]["payload"]["approvals_voided"] == 1
    assert trail[-1]["payload"]["from_status"] == "approved"
    assert trail[-1]["recorded_at"].endswith("+00:00")


def test_an_action_not_allowed_names_status_and_allowed_actions(
    login: Login, letter: dict[str, Any]
) -> None:
    r = _act(login("recenzent"), letter["id"], "approve")
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "transition_not_allowed"
    assert body["status"] == "draft"
    assert body["action"] == "approve"
    assert body["allowed_actions"] == []  # the reviewer can do nothing with a draft
    assert body["params"] == {"action": "approve", "status": "draft", "allowed": []}
    assert "status 'draft'" in body["detail"]
    polish = login("recenzent").post(
        f"{API}/documents/{letter['id']}/actions/approve", headers={"Accept-Language": "pl"}
    )
    assert polish.json()["detail"] == (
        "Akcja „Zatwierdź” jest niedozwolona w statusie „szkic”; dozwolone: —."
    )
    r = _act(login("autor"), letter["id"], "archive")
    assert r.status_code == 409
    assert set(r.json()["allowed_actions"]) == {"edit", "submit", "withdraw"}
    unknown = _act(login("autor"), letter["id"], "publish")
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "action"
    edit = _act(login("autor"), letter["id"], "edit")
    assert edit.status_code == 422
    assert edit.json()["field"] == "action"


def test_two_approvals_from_the_same_lock_version_give_one_conflict(
    login: Login, letter: dict[str, Any]
) -> None:
    author, reviewer = login("autor"), login("recenzent")
    seen = _act(author, letter["id"], "submit").json()["lock_version"]
    barrier = threading.Barrier(2)
    results: list[httpx.Response] = []

    def approve() -> None:
        barrier.wait()
        results.append(_act(reviewer, letter["id"], "approve", seen_lock_version=seen))

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200, 409]
    conflict = next(r for r in results if r.status_code == 409).json()
    assert conflict["code"] == "document_changed"
    # Sequentially too: the lock version the client saw is stale now.
    stale = _act(reviewer, letter["id"], "request_changes", reason="x", seen_lock_version=seen)
    assert stale.status_code == 409
    assert stale.json()["code"] == "document_changed"
    doc = reviewer.get(f"{API}/documents/{letter['id']}").json()
    assert doc["status"] == "approved"
    assert doc["lock_version"] == seen + 1
