"""The document page, its versions, the comparison of two versions, review actions and
threaded comments, in the browser's terms: HTML pages and posted forms with the session's
CSRF token, over the real app and database (tests/web/conftest.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html  # type: ignore[import-untyped]  # lxml has no hints

from tests.web.conftest import API, Login
from workflow.identity.actors import Actor
from workflow.review.transitions import available_actions
from workflow.runtime import Runtime

#: Every demo person who sees the Rybnik letter (the Wójt of Gaszowice does not).
READERS = ("autor", "recenzent", "prezes", "archiwista", "prezydent")


def _tree(response: httpx.Response) -> Any:
    return lxml_html.fromstring(response.text)


def _csrf(client: TestClient, doc_id: int) -> str:
    page = client.get(f"/documents/{doc_id}")
    assert page.status_code == 200, page.text
    tokens = _tree(page).xpath("//input[@name='csrf_token']/@value")
    assert tokens, "the page has no CSRF field"
    return str(tokens[0])


def _offered(client: TestClient, doc_id: int) -> set[str]:
    page = client.get(f"/documents/{doc_id}")
    assert page.status_code == 200, page.text
    return set(_tree(page).xpath("//*[@id='main']//*[@data-action]/@data-action"))


def _act(client: TestClient, doc_id: int, action: str, lock: int, **form: str) -> httpx.Response:
    data = {"csrf_token": _csrf(client, doc_id), "action": action,
            "seen_lock_version": str(lock), **form}  # fmt: skip
    return client.post(f"/documents/{doc_id}/actions", data=data, follow_redirects=False)


def _doc(client: TestClient, doc_id: int) -> dict[str, Any]:
    r = client.get(f"{API}/documents/{doc_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _submitted(login: Login, letter: dict[str, Any]) -> dict[str, Any]:
    r = login("autor").post(f"{API}/documents/{letter['id']}/actions/submit", json={})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _assert_offers_exactly_the_table(
    rt: Runtime, login: Login, actors: dict[str, Actor], doc_id: int
) -> None:
    for who in READERS:
        expected = {a.action.value for a in available_actions(rt, actor=actors[who],
                                                              document_id=doc_id)}  # fmt: skip
        assert _offered(login(who), doc_id) == expected, who


def test_the_page_offers_exactly_what_the_table_allows_each_person(
    rt: Runtime, login: Login, actors: dict[str, Actor], letter: dict[str, Any]
) -> None:
    doc_id = letter["id"]
    _assert_offers_exactly_the_table(rt, login, actors, doc_id)
    assert _offered(login("autor"), doc_id) == {"edit", "submit", "withdraw"}
    assert _offered(login("recenzent"), doc_id) == set()

    _submitted(login, letter)
    _assert_offers_exactly_the_table(rt, login, actors, doc_id)
    assert _offered(login("recenzent"), doc_id) == {"approve", "request_changes"}
    assert _offered(login("prezydent"), doc_id) == set()

    reviewer = login("recenzent")
    for action in ("approve", "request_signatures"):
        r = reviewer.post(f"{API}/documents/{doc_id}/actions/{action}", json={})
        assert r.status_code == 200, r.text
        _assert_offers_exactly_the_table(rt, login, actors, doc_id)
    # awaiting signatures: the first signatory's button leads to the signature step
    assert _offered(login("prezes"), doc_id) == {"sign"}
    assert _offered(login("prezydent"), doc_id) == set()
    page = _tree(login("prezydent").get(f"/documents/{doc_id}"))
    assert page.xpath(f"//a[@href='/documents/{doc_id}/sign']")


def test_the_document_page_shows_the_document(login: Login, letter: dict[str, Any]) -> None:
    page = login("prezydent").get(f"/documents/{letter['id']}", headers={"Accept-Language": "pl"})
    assert page.status_code == 200
    text = page.text
    assert letter["title"] in text and letter["reference"] in text
    assert "szkic" in text  # the status, in Polish
    assert "e-Strategia Miasta Rybnika na lata 2026–2030" in text  # a value of the version
    assert "31.12.2027" in text  # the date, the Polish way
    tree = _tree(page)
    signatories = tree.xpath("//ol[@id='signatories']/li/strong")
    assert [s.text_content() for s in signatories] == [
        "Patrycja Sass-Staniszewska", "Piotr Kuczera"
    ]  # fmt: skip
    docx = tree.xpath(f"//a[@href='/documents/{letter['id']}/draft/files/1.docx']/@href")
    assert docx and login("prezydent").get(docx[0]).content[:2] == b"PK"
    history = tree.xpath("//table[contains(@class, 'history')]//tbody/tr")
    assert history and "Katarzyna Zielińska" in history[-1].text_content()


def test_request_changes_without_a_reason_shows_the_error_and_changes_nothing(
    login: Login, letter: dict[str, Any]
) -> None:
    doc = _submitted(login, letter)
    reviewer = login("recenzent")
    r = _act(reviewer, doc["id"], "request_changes", doc["lock_version"], reason="   ")
    assert r.status_code == 422
    field = _tree(r).xpath("//textarea[@id='f-reason']/ancestor::div[contains(@class,'field')]")[0]
    assert "field--invalid" in field.get("class")
    error = field.xpath(".//p[@class='field__error']")[0].text_content()
    assert "reason" in error.lower()
    after = _doc(reviewer, doc["id"])
    assert after["status"] == "in_review" and after["lock_version"] == doc["lock_version"]

    r = _act(reviewer, doc["id"], "request_changes", doc["lock_version"],
             reason="Proszę dodać cel o e-usługach.")  # fmt: skip
    assert r.status_code == 303
    assert _doc(reviewer, doc["id"])["status"] == "changes_requested"
    page = reviewer.get(r.headers["location"])
    assert "Proszę dodać cel o e-usługach." in page.text  # in the history and the comments


def test_approve_by_the_reviewer_moves_the_status(login: Login, letter: dict[str, Any]) -> None:
    doc = _submitted(login, letter)
    reviewer = login("recenzent")
    r = _act(reviewer, doc["id"], "approve", doc["lock_version"])
    assert r.status_code == 303
    assert r.headers["location"] == f"/documents/{doc['id']}?done=approve"
    assert _doc(reviewer, doc["id"])["status"] == "approved"
    page = reviewer.get(r.headers["location"])
    assert "approved" in page.text.lower()
    assert "request_signatures" in _offered(reviewer, doc["id"])


def test_a_stale_page_gets_the_conflict_and_nothing_changes(
    login: Login, letter: dict[str, Any]
) -> None:
    doc = _submitted(login, letter)
    reviewer = login("recenzent")
    stale = doc["lock_version"] - 1  # the page drawn before the author submitted
    r = _act(reviewer, doc["id"], "approve", stale)
    assert r.status_code == 409
    notice = _tree(r).xpath("//*[contains(@class,'notice--error')]")[0].text_content()
    assert "changed" in notice and letter["reference"] in notice
    assert "Nothing was changed" in notice
    after = _doc(reviewer, doc["id"])
    assert after["status"] == "in_review" and after["lock_version"] == doc["lock_version"]
    # The page that comes back is the current one: its buttons carry the new lock version.
    locks = _tree(r).xpath("//input[@name='seen_lock_version']/@value")
    assert locks and set(locks) == {str(doc["lock_version"])}


def _comment(client: TestClient, doc_id: int, body: str, **extra: str) -> httpx.Response:
    data = {"csrf_token": _csrf(client, doc_id), "body": body, **extra}
    return client.post(f"/documents/{doc_id}/comments", data=data, follow_redirects=False)


def test_a_reply_appears_under_its_parent(login: Login, letter: dict[str, Any]) -> None:
    doc_id = letter["id"]
    reviewer, author = login("recenzent"), login("autor")
    first = _comment(reviewer, doc_id, "Czy termin 2027 jest uzgodniony?")
    assert first.status_code == 303
    parent_id = int(first.headers["location"].rsplit("#comment-", 1)[1])
    other = _comment(reviewer, doc_id, "Druga uwaga, osobny wątek.")
    assert other.status_code == 303

    # htmx: the reply is posted in place, the comments section comes back.
    reply = _comment(author, doc_id, "Tak, uzgodniony z Urzędem Miasta.",
                     parent_id=str(parent_id))  # fmt: skip
    assert reply.status_code == 303
    reply_id = int(reply.headers["location"].rsplit("#comment-", 1)[1])
    fragment = author.post(
        f"/documents/{doc_id}/comments",
        data={"csrf_token": _csrf(author, doc_id), "body": "I jeszcze jedno.",
              "parent_id": str(reply_id)},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith(("<section", "{#")) or "<html" not in fragment.text
    assert 'id="comments"' in fragment.text

    tree = _tree(author.get(f"/documents/{doc_id}"))
    parent = tree.xpath(f"//li[@id='comment-{parent_id}']")[0]
    replies = parent.xpath("./ol[contains(@class,'comment-replies')]/li/@id")
    assert replies == [f"comment-{reply_id}"]
    nested = parent.xpath(f".//li[@id='comment-{reply_id}']/ol/li//p[@class='comment__body']")
    assert [p.text_content() for p in nested] == ["I jeszcze jedno."]
    meta = parent.xpath(f".//li[@id='comment-{reply_id}']//p[@class='comment__meta']")[0]
    assert "Katarzyna Zielińska" in meta.text_content()  # who, as the directory shows them
    top = tree.xpath("//ol[@class='comment-list']/li/@id")
    assert len(top) == 2  # two threads


def test_an_empty_comment_shows_the_error_next_to_its_field(
    login: Login, letter: dict[str, Any]
) -> None:
    reviewer = login("recenzent")
    r = _comment(reviewer, letter["id"], "  ")
    assert r.status_code == 422
    assert _tree(r).xpath("//p[@id='new-comment-error']")
    assert reviewer.get(f"{API}/documents/{letter['id']}/comments").json() == []


def test_compare_shows_the_changed_value_and_the_redline(
    login: Login, letter: dict[str, Any]
) -> None:
    author = login("autor")
    doc_id = letter["id"]
    edited = author.patch(
        f"{API}/documents/{doc_id}",
        json={"values": {"strategy_name": "e-Strategia Miasta Rybnika na lata 2026–2035"},
              "note": "dłuższy horyzont"},
    )  # fmt: skip
    assert edited.status_code == 200, edited.text

    versions = author.get(f"/documents/{doc_id}/versions")
    assert versions.status_code == 200
    assert "dłuższy horyzont" in versions.text
    assert f'href="/documents/{doc_id}/compare?old=1&amp;new=2"' in versions.text

    r = author.get(f"/documents/{doc_id}/compare?old=1&new=2")
    assert r.status_code == 200, r.text
    tree = _tree(r)
    row = tree.xpath("//section[@aria-labelledby='values-h']//tbody/tr")
    assert len(row) == 1
    assert "2026–2030" in row[0].xpath("./td")[0].text_content()
    assert "2026–2035" in row[0].xpath("./td")[1].text_content()
    old_text, new_text = tree.xpath("//div[@class='redline__text']")
    # the changed word, not its neighbours: "na lata 2026–2030”" -> "... 2026–2035”"
    # (the name is printed more than once in the letter: each place is marked)
    assert {d.text_content() for d in old_text.xpath(".//del")} == {"2030"}
    assert {i.text_content() for i in new_text.xpath(".//ins")} == {"2035"}
    assert not old_text.xpath(".//ins") and not new_text.xpath(".//del")
    assert "2026–<del>2030</del>" in r.text and "2026–<ins>2035</ins>" in r.text


def test_another_municipality_gets_404(login: Login, letter: dict[str, Any]) -> None:
    wojt = login("wojt")
    doc_id = letter["id"]
    for path in ("", "/versions", "/compare?old=1&new=1", "/compare"):
        r = wojt.get(f"/documents/{doc_id}{path}")
        assert r.status_code == 404, path
        assert letter["title"] not in r.text
    # With a valid token of his own session (from his dashboard's sign-out form).
    token = _tree(wojt.get("/")).xpath("//input[@name='csrf_token']/@value")[0]
    r = wojt.post(f"/documents/{doc_id}/comments", data={"csrf_token": token, "body": "x"})
    assert r.status_code == 404
    form = {"csrf_token": token, "action": "withdraw", "seen_lock_version": "1"}
    assert wojt.post(f"/documents/{doc_id}/actions", data=form).status_code == 404


@pytest.mark.parametrize("path", ["actions", "comments"])
def test_a_post_without_csrf_is_refused(login: Login, letter: dict[str, Any], path: str) -> None:
    author = login("autor")
    doc_id = letter["id"]
    form = {"action": "submit", "seen_lock_version": str(letter["lock_version"]), "body": "x"}
    r = author.post(f"/documents/{doc_id}/{path}", data=form, follow_redirects=False)
    assert r.status_code == 403
    r = author.post(f"/documents/{doc_id}/{path}", data={**form, "csrf_token": "forged"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 403
    after = _doc(author, doc_id)
    assert after["status"] == "draft" and after["lock_version"] == letter["lock_version"]
    assert author.get(f"{API}/documents/{doc_id}/comments").json() == []


def test_the_api_threads_comments_too(login: Login, letter: dict[str, Any]) -> None:
    reviewer = login("recenzent")
    url = f"{API}/documents/{letter['id']}/comments"
    parent = reviewer.post(url, json={"body": "Pytanie"}).json()
    assert parent["parent_id"] is None and parent["author_function"] == "Radca prawny"
    reply = reviewer.post(url, json={"body": "Odpowiedź", "parent_id": parent["id"]})
    assert reply.status_code == 201, reply.text
    assert reply.json()["parent_id"] == parent["id"]
    assert reply.json()["version_number"] == parent["version_number"]
    unknown = reviewer.post(url, json={"body": "?", "parent_id": 10_000})
    assert unknown.status_code == 422 and unknown.json()["params"]["field"] == "parent_id"
    assert [c["parent_id"] for c in reviewer.get(url).json()] == [None, parent["id"]]


def test_every_word_of_these_pages_is_in_polish() -> None:
    """Each ``t("...")`` of the templates and each text of the page module has a Polish
    translation in ui_review.po (or another ui_*.po)."""
    import re
    from pathlib import Path

    from workflow.i18n import ui_catalogue
    from workflow.web.pages import documents

    folder = Path(documents.__file__).parent / "templates" / "documents"
    msgids = set()
    for template in folder.glob("*.html"):
        msgids |= set(re.findall(r"""\bt\((["'])(.+?)\1\)""", template.read_text()))
    texts = {m for _, m in msgids} | set(documents.HISTORY.values()) | set(documents.DONE.values())
    texts |= {"Value changed", "Value added", "Value removed"}  # the kinds of a value change
    assert len(texts) > 60
    missing = sorted(m for m in texts if m not in ui_catalogue("pl"))
    assert missing == []
