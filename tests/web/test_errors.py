"""The one place errors become HTTP: statuses, bodies, languages; and the app's own runtime."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from signatures.errors import FieldProblem, KeyAccessError, TimestampUnavailable
from workflow.config import Settings
from workflow.errors import RenderingFailed
from workflow.web import create_app
from workflow.web.errors import field_path
from workflow.web.i18n import negotiate


@pytest.fixture
def probe(tmp_path: Path) -> TestClient:
    """An app that builds (and at shutdown closes) its own runtime, with routes that fail."""
    app = create_app(Settings(var_dir=tmp_path / "var", secret_key="probe-secret-for-sessions"))

    def converter_crashed() -> None:
        raise RenderingFailed("LibreOffice did not answer in 60 s")

    def wrong_pin() -> None:
        raise KeyAccessError("wrong PIN")

    def tsa_down() -> None:
        raise TimestampUnavailable("the TSA at http://127.0.0.1:9/tsa did not answer")

    def field_signed() -> None:
        raise FieldProblem("podpis-1", "already signed")

    app.add_api_route("/probe/render", converter_crashed)
    app.add_api_route("/probe/sign", wrong_pin)
    app.add_api_route("/probe/tsa", tsa_down)
    app.add_api_route("/probe/field", field_signed)
    return TestClient(app, headers={"Accept-Language": "en"})


def test_rendering_and_signature_errors_are_mapped(probe: TestClient) -> None:
    with probe:
        assert probe.get("/healthz").status_code == 200
        r = probe.get("/probe/render")
        assert r.status_code == 502
        assert r.json()["code"] == "rendering_failed"
        assert "60 s" in r.json()["reason"]
        r = probe.get("/probe/sign", headers={"Accept-Language": "pl"})
        assert r.status_code == 422
        assert r.json() == {
            "detail": "Problem z podpisem: wrong PIN.",
            "code": "signature_problem",
            "reason": "wrong PIN",
        }
        assert r.headers["content-language"] == "pl"
        r = probe.get("/probe/tsa")
        assert r.status_code == 503
        assert r.json()["code"] == "trust_service_unavailable"
        assert "Nothing was changed" in r.json()["detail"]
        r = probe.get("/probe/field")
        assert r.status_code == 409
        assert "already signed" in r.json()["reason"]


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "pl"),
        ("", "pl"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("de-DE, en;q=0.5", "en"),
        ("en;q=0.4, pl;q=0.8", "pl"),
        ("pl;q=0, en;q=0", "pl"),
        ("fr, de", "pl"),
        ("en;q=abc", "pl"),
    ],
)
def test_language_negotiation(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_field_paths_are_spelled_like_the_services() -> None:
    assert field_path(("body", "parties", 0, "organisation_id")) == "parties[0].organisation_id"
    assert field_path(("query", "limit")) == "limit"
    assert field_path(("body",)) == "body"
    assert field_path(("body", "values", "goals", 2)) == "values.goals[2]"
