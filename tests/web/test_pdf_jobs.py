"""``GET .../versions/{n}/pdf`` answers at once: 202 while the render job has not run, 200
with the PDF after; and the scheduled checks' results for the administrators of e-Izba."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from tests.jobs.outbox_helpers import audit_actions, entries, run_jobs
from tests.web.conftest import API, Login
from workflow.demo.data import DemoIds
from workflow.jobs.dispatch import dispatch_pending
from workflow.jobs.handlers.checks import verify_audit_chain
from workflow.runtime import Runtime
from workflow.states import Effect
from workflow.web import create_app


@pytest.fixture
def app(rt: Runtime, demo: DemoIds) -> FastAPI:
    """Without the embedded worker: the test runs the queue's worker itself."""
    jobs = rt.settings.jobs.model_copy(update={"embedded_worker": False})
    return create_app(rt.settings.model_copy(update={"jobs": jobs}), runtime=rt)


def test_pdf_is_pending_until_the_render_job_ran(
    rt: Runtime, login: Login, letter: dict[str, Any]
) -> None:
    mayor = login("prezydent")
    url = f"{API}/documents/{letter['id']}/versions/1/pdf"
    for _ in range(2):  # asked twice: still one render on its way
        r = mayor.get(url)
        assert r.status_code == 202, r.text
        assert r.headers["retry-after"] == "2"
        body = r.json()
        assert body["status"] == "pending" and body["code"] == "pdf_rendering"
        assert body["version"] == 1 and letter["reference"] in body["detail"]
    renders = [e for e in entries(rt) if e.effect == Effect.RENDER_PDF]
    assert len(renders) == 1  # the one written when the document was created

    assert dispatch_pending(rt) == 2  # the render and the search index of the new document
    run_jobs(rt)
    r = mayor.get(url)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert len(audit_actions(rt, "document.rendered")) == 1


def test_an_old_version_without_a_render_gets_one_on_request(
    rt: Runtime, login: Login, letter: dict[str, Any]
) -> None:
    from sqlalchemy import delete

    from workflow.db import transaction
    from workflow.models import OutboxEntry

    with transaction(rt.sessions) as s:  # as if written before renders were jobs
        s.execute(delete(OutboxEntry))
    mayor = login("prezydent")
    url = f"{API}/documents/{letter['id']}/versions/1/pdf"
    assert mayor.get(url).status_code == 202
    assert mayor.get(url).status_code == 202
    assert [e.effect for e in entries(rt)] == [Effect.RENDER_PDF]
    dispatch_pending(rt)
    run_jobs(rt)
    assert mayor.get(url).status_code == 200


def test_admins_of_e_izba_see_the_scheduled_checks(rt: Runtime, login: Login) -> None:
    verify_audit_chain(rt)
    r = login("autor").get(f"{API}/admin/checks")
    assert r.status_code == 403 and r.json()["code"] == "checks_need_chamber_admin"
    r = login("prezes").get(f"{API}/admin/checks")
    assert r.status_code == 200, r.text
    (check,) = r.json()
    assert check["check"] == "audit.verified" and check["result"]["ok"] is True
