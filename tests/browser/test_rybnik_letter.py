"""The Rybnik letter of intent from a blank draft to signed, entirely in a real browser
(Playwright driving Debian's Chromium, headless) against a real ``estrategia serve``
(SQLite, embedded worker, demo mode), as issue 9 asks:

the author drafts it (new document for Rybnik, the form filled, saved) and submits it; the
reviewer requests changes with a reason; the author edits and resubmits; the reviewer
approves; the author requests signatures; the President of e-Izba signs with the demo key on
the signature page; the Mayor of Rybnik downloads the PDF awaiting his signature, signs it
"in his desktop app" (pyHanko with his key from the demo PKI, as tests/signing/test_upload.py
does) and uploads it; the document ends signed and the page shows the validation result
valid. Before that, an upload signed by the wrong person and one with changed content are
refused with the reason on the page and nothing changed; afterwards the Wójt of Gaszowice
(another municipality) gets the 404 page for it.

Every step is photographed (``Checks.step``) and each page visited is checked with axe-core:
no serious or critical violations (the last test). The tests share one server and run in
file order."""

from __future__ import annotations

import hashlib
import io
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Checks, People
from tests.browser.server import Server
from tests.letters import letter_values
from tests.signatures.tamper import add_page_text
from workflow.demo.data import DEMO_PASSWORD, PEOPLE

pytestmark = pytest.mark.slow

EMAILS = {p.key: p.email for p in PEOPLE}
WAIT_S = 120.0
REASON = "Proszę dodać cel dotyczący cyfryzacji szkół i doprecyzować preambułę."
EDITED_GOAL = "cyfryzacja rybnickich szkół i pracowni komputerowych"


@pytest.fixture(scope="module")
def people(server: Server, browser: Any, checks: Checks) -> Iterator[People]:
    everyone = People(server=server, browser=browser, checks=checks)
    try:
        yield everyone
    finally:
        everyone.close()


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    """What the tests of this module pass on: the document's id."""
    return {}


# -- helpers ---------------------------------------------------------------------------


def sign_in(people: People, who: str) -> Any:
    page = people(who)
    page.goto(f"{people.server.url}/login")
    page.fill("#f-email", EMAILS[who])
    page.fill("#f-password", DEMO_PASSWORD)
    submit(page, "form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    return page


def submit(page: Any, selector: str) -> None:
    """Click a button that submits a form, and wait for the page that answers it."""
    with page.expect_navigation():
        page.click(selector)


def reload_until(page: Any, ready: Callable[[], bool], what: str, within: float = WAIT_S) -> None:
    """Reload the page until ``ready()`` (background work: PDFs, page images); bounded."""
    deadline = time.monotonic() + within
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"not ready within {within:g} s: {what}")
        page.wait_for_timeout(500)
        page.reload()


def act(page: Any, action: str) -> None:
    """Press the document page's button for ``action`` (exactly the allowed ones are shown)."""
    submit(page, f"button[data-action='{action}']")


def status_of(page: Any) -> str:
    return str(page.get_attribute(".doc-meta .status", "class")).split("status--")[-1]


def desktop_sign(pki_dir: Path, pdf: bytes, *, key_id: str, field: str = "podpis-2") -> bytes:
    """What the signatory's desktop PAdES app does: fill ``field`` incrementally with the key
    of ``key_id`` from the demo PKI, timestamped by the demo TSA (B-T: the installation keeps
    B-LTA and refuses B-B uploads), as tests/signing/test_upload.py does. In a
    thread of its own: pyHanko runs ``asyncio.run``, and Playwright's sync API keeps an
    event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_desktop_sign, pki_dir, pdf, key_id, field).result(timeout=WAIT_S)


def _desktop_sign(pki_dir: Path, pdf: bytes, key_id: str, field: str) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps

    from signatures.pki import DemoPki

    pki = DemoPki.load(pki_dir)
    signer = signers.SimpleSigner.load_pkcs12(
        str(pki.p12_path(key_id)), passphrase=pki.signatory(key_id).passphrase.encode()
    )
    assert signer is not None
    meta = signers.PdfSignatureMetadata(
        field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    tsa = timestamps.HTTPTimeStamper(pki.tsa_url)
    pdf_signer = signers.PdfSigner(meta, signer, timestamper=tsa)
    out = pdf_signer.sign_pdf(writer, existing_fields_only=True)
    return bytes(out.getvalue())


def upload(page: Any, pdf: bytes, name: str) -> None:
    page.set_input_files(
        "#f-file", files=[{"name": name, "mimeType": "application/pdf", "buffer": pdf}]
    )
    submit(page, "button[data-way='upload']")


def sign_page_facts(page: Any) -> tuple[str, str, str]:
    """(status, "signed / all", sha256 of the PDF awaiting signature) as the page shows them."""
    meta = page.inner_text(".doc-meta")
    count = re.search(r"(\d+ / \d+)", meta)
    assert count, meta
    return status_of(page), count[1], page.inner_text(".pdf-facts code.sha").strip()


# -- the flow --------------------------------------------------------------------------


def test_the_author_drafts_the_rybnik_letter_and_the_reviewer_requests_changes(
    people: People, checks: Checks, state: dict[str, Any]
) -> None:
    url = people.server.url
    login = people("autor")
    login.goto(f"{url}/login")
    checks.step(login, "login")
    author = sign_in(people, "autor")
    checks.step(author, "author-dashboard")
    author.goto(f"{url}/documents")
    checks.step(author, "documents-list")

    # A new document: the template, then Rybnik found by name (live search, htmx).
    author.goto(f"{url}/documents/new")
    author.check("#tpl-list_intencyjny")
    author.fill("#f-q", "rybnik")
    author.wait_for_selector("#org-results input[name=organisation_id]")
    assert "Miasto Rybnik" in author.inner_text("#org-results")
    checks.step(author, "new-document")
    submit(author, "form[action='/documents/new/form'] > p > button[type=submit]")
    author.wait_for_selector("#f-strategy_name")

    values = letter_values()
    author.fill("#f-title", "List intencyjny w sprawie wdrożenia e-strategii Miasta Rybnika")
    author.fill("#f-strategy_name", values["strategy_name"])
    author.fill("#f-preamble", values["preamble"])
    for key in ("goals", "cooperation_forms"):
        for i, item in enumerate(values[key][:3]):
            if i:  # "add a row" posts the form and swaps the list in place (htmx)
                author.click(f"#f-{key}-block button[name=add][value={key}]")
                author.wait_for_selector(f"#f-{key}-{i}")
            author.fill(f"#f-{key}-{i}", item)
    author.fill("#f-valid_until", values["valid_until"])
    checks.step(author, "draft-form-filled")
    submit(author, "button[name=create][value='1']:not(.visually-hidden)")
    author.wait_for_url(re.compile(r"/documents/\d+"))
    found = re.search(r"/documents/(\d+)", author.url)
    assert found, author.url
    doc_id = state["doc"] = int(found[1])
    checks.step(author, "created")

    author.goto(f"{url}/documents/{doc_id}")
    assert status_of(author) == "draft"
    checks.step(author, "document-draft")
    act(author, "submit")
    assert status_of(author) == "in_review"
    checks.step(author, "submitted")

    reviewer = sign_in(people, "recenzent")
    checks.step(reviewer, "reviewer-dashboard")
    reviewer.goto(f"{url}/documents/{doc_id}")
    # Without a reason the request is refused beside the field, nothing changed.
    act(reviewer, "request_changes")
    assert reviewer.is_visible("#f-reason-error"), reviewer.content()[:3000]
    assert status_of(reviewer) == "in_review"
    checks.step(reviewer, "request-changes-without-reason")
    reviewer.fill("#f-reason", REASON)
    act(reviewer, "request_changes")
    assert status_of(reviewer) == "changes_requested"
    assert REASON in reviewer.inner_text("table.history")
    checks.step(reviewer, "changes-requested")


def test_the_author_edits_and_the_reviewer_approves(
    people: People, checks: Checks, state: dict[str, Any]
) -> None:
    url, doc_id = people.server.url, state["doc"]
    author = people("autor")
    author.goto(f"{url}/")
    checks.step(author, "author-dashboard-changes-requested")
    author.goto(f"{url}/documents/{doc_id}/draft")
    author.fill("#f-goals-2", EDITED_GOAL)
    author.fill("#f-note", "Cel dotyczący szkół, na prośbę recenzenta")
    checks.step(author, "draft-edit")
    submit(author, "button[name=save]:not(.visually-hidden)")
    author.goto(f"{url}/documents/{doc_id}")
    assert EDITED_GOAL in author.inner_text("dl.values")
    act(author, "submit")
    assert status_of(author) == "in_review"

    reviewer = people("recenzent")
    reviewer.goto(f"{url}/documents/{doc_id}/versions")
    checks.step(reviewer, "versions")
    reviewer.goto(f"{url}/documents/{doc_id}/compare?old=1&new=2")
    assert EDITED_GOAL in reviewer.inner_text("main")
    checks.step(reviewer, "compare")
    reviewer.goto(f"{url}/documents/{doc_id}")
    act(reviewer, "approve")
    assert status_of(reviewer) == "approved"
    checks.step(reviewer, "approved")

    author.goto(f"{url}/documents/{doc_id}")
    act(author, "request_signatures")
    assert status_of(author) == "awaiting_signatures"
    checks.step(author, "awaiting-signatures")


def test_the_president_of_e_izba_signs_with_the_demo_key(
    people: People, checks: Checks, state: dict[str, Any]
) -> None:
    url, doc_id = people.server.url, state["doc"]
    president = sign_in(people, "prezes")
    president.goto(f"{url}/documents/{doc_id}/sign")
    reload_until(president, lambda: president.is_visible("ol.pdf-pages img"), "page images")
    assert "DEMO" in president.inner_text("#way-demo")
    checks.step(president, "president-sign-page")
    submit(president, "button[data-way='demo']")
    president.wait_for_selector("#result")
    assert "validation--valid" in str(president.get_attribute("#result", "class"))
    status, count, _ = sign_page_facts(president)
    assert (status, count) == ("awaiting_signatures", "1 / 2")
    checks.step(president, "president-signed")
    president.goto(f"{url}/admin/people")
    checks.step(president, "admin-people")


def test_uploads_signed_by_the_wrong_person_or_with_changed_content_are_refused(
    people: People, checks: Checks, state: dict[str, Any]
) -> None:
    url, doc_id = people.server.url, state["doc"]
    pki_dir = people.server.var_dir / "pki"
    mayor = sign_in(people, "prezydent")
    checks.step(mayor, "mayor-dashboard")
    mayor.goto(f"{url}/documents/{doc_id}/sign")
    before = sign_page_facts(mayor)
    assert before[:2] == ("awaiting_signatures", "1 / 2")
    checks.step(mayor, "mayor-sign-page")
    with mayor.expect_download() as download:
        mayor.click("#way-upload a[download]")
    awaited = Path(download.value.path()).read_bytes()
    assert hashlib.sha256(awaited).hexdigest() == before[2]
    state["awaited"] = awaited

    cases = {  # name: (the PDF, what the reason shown says)
        "wrong-person": (
            desktop_sign(pki_dir, awaited, key_id="wojt"),
            "certyfikatem wystawionym dla: Anna Przykładowa",
        ),
        "changed-content": (
            desktop_sign(pki_dir, add_page_text(awaited), key_id="prezydent"),
            "zmienia treść dokumentu",
        ),
    }
    for name, (pdf, reason) in cases.items():
        upload(mayor, pdf, f"{name}.pdf")
        error = mayor.locator("#f-file-error")
        assert error.is_visible(), f"{name}: no reason shown"
        assert reason in error.inner_text(), (name, error.inner_text())
        assert sign_page_facts(mayor) == before, name  # nothing changed
        checks.step(mayor, f"upload-refused-{name}")
        mayor.goto(f"{url}/documents/{doc_id}/sign")
        assert sign_page_facts(mayor) == before, name


def test_the_mayor_of_rybnik_signs_by_uploading_the_pdf_he_signed_outside(
    people: People, checks: Checks, state: dict[str, Any]
) -> None:
    url, doc_id = people.server.url, state["doc"]
    mayor = people("prezydent")
    mayor.goto(f"{url}/documents/{doc_id}/sign")
    signed = desktop_sign(people.server.var_dir / "pki", state["awaited"], key_id="prezydent")
    upload(mayor, signed, "list-intencyjny-podpisany.pdf")
    mayor.wait_for_selector("#result")
    assert "validation--valid" in str(mayor.get_attribute("#result", "class"))
    checks.step(mayor, "mayor-signed-valid")
    signers = mayor.locator("#result tbody tr td:nth-child(2)").all_inner_texts()
    assert any("Patrycja Sass-Staniszewska" in s for s in signers), signers
    assert any("Piotr Kuczera" in s for s in signers), signers
    status, count, _ = sign_page_facts(mayor)
    assert (status, count) == ("signed", "2 / 2")
    mayor.goto(f"{url}/documents/{doc_id}")
    assert status_of(mayor) == "signed"
    checks.step(mayor, "document-signed")


def test_the_archivist_archives_it_and_anyone_can_check_the_pdf(
    people: People, checks: Checks, state: dict[str, Any]
) -> None:
    """Issue 10 in the browser: the archivist archives the signed letter through its form,
    finds it by an inflected name, opens its record (validated now), and someone who is not
    signed in checks the downloaded PDF on the public page: valid, and a document of the
    archive."""
    url, doc_id = people.server.url, state["doc"]
    archivist = sign_in(people, "archiwista")
    archivist.goto(f"{url}/documents/{doc_id}")
    with archivist.expect_navigation():
        archivist.click("a[data-action='archive']")
    checks.step(archivist, "archive-form")
    archivist.select_option("#f-category", "B")
    archivist.fill("#f-retention_years", "10")
    submit(archivist, "form[action$='/archive'] button[type=submit]")
    assert re.search(r"/archive/\d+\?done=archived$", archivist.url), archivist.url
    assert "validation--valid" in str(archivist.get_attribute("#result", "class"))
    checks.step(archivist, "archive-record")
    record_url = archivist.url.split("?")[0]

    archivist.goto(f"{url}/search?q=Rybniku")
    assert archivist.locator(".result mark").count() > 0
    assert archivist.locator(f".result a[href='{record_url.removeprefix(url)}']").count() == 1
    checks.step(archivist, "search-rybniku")

    pdf = archivist.request.get(f"{record_url}/file")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    visitor = people("visitor")
    visitor.goto(f"{url}/verify")
    checks.step(visitor, "verify-form")
    visitor.set_input_files(
        "#f-file", files=[{"name": "list.pdf", "mimeType": "application/pdf", "buffer": pdf.body()}]
    )
    submit(visitor, "form[action='/verify'] button[type=submit]")
    assert "validation--valid" in str(visitor.get_attribute("#result", "class"))
    assert "Ten właśnie plik jest dokumentem archiwum." in visitor.inner_text("main")
    checks.step(visitor, "verify-archived")


def test_a_person_of_another_municipality_cannot_open_it(
    people: People, checks: Checks, state: dict[str, Any]
) -> None:
    url, doc_id = people.server.url, state["doc"]
    wojt = sign_in(people, "wojt")
    for path in (
        f"/documents/{doc_id}",
        f"/documents/{doc_id}/sign",
        f"/documents/{doc_id}/versions",
    ):
        response = wojt.goto(f"{url}{path}")
        assert response is not None and response.status == 404, path
        assert "List intencyjny" not in wojt.inner_text("main"), path
    checks.step(wojt, "other-municipality-404")


def test_the_axe_check_finds_violations_where_there_are_some(browser: Any, checks: Checks) -> None:
    """The harness itself: a page with an unlabelled field and an image without alt text
    is reported (else "no violations" below could mean "axe never ran")."""
    probe = Checks(folder=checks.folder, axe_source=checks.axe_source)
    page = browser.new_page()
    try:
        page.set_content(
            '<html lang="pl"><head><title>t</title></head><body><main><h1>t</h1>'
            '<img src="x.png"><input type="text"></main></body></html>'
        )
        probe.axe(page, "probe")
    finally:
        page.close()
    found = " ".join(probe.violations)
    assert "image-alt" in found and "label" in found, probe.violations


def test_no_serious_or_critical_accessibility_violations_and_no_csp_refusals(
    checks: Checks,
) -> None:
    assert len(checks.checked) >= 15, checks.checked
    print(f"\nscreenshots: {checks.folder}\naxe-core ran on {len(checks.checked)} pages")
    for lesser in sorted(checks.lesser):
        print(f"axe (not failed on): {lesser}")
    assert not checks.violations, "\n".join(checks.violations)
    assert not checks.console_errors, "\n".join(checks.console_errors)
