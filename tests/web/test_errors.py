"""The one place errors become HTTP: statuses, bodies, languages; and the app's own runtime."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fastapi.testclient import TestClient

from signatures.errors import FieldProblem, KeyAccessError, TimestampUnavailable
from workflow.config import Settings
from workflow.errors import ErrorCode, RenderingFailed
from workflow.i18n import negotiate
from workflow.web import create_app
from workflow.web.errors import field_path
from workflow.web.uploads import body_cap

#: A low upload limit, so that a body over the app-wide ceiling is small to send.
PROBE_SETTINGS = Settings(secret_key="probe-secret-for-sessions", max_upload_bytes=64 * 1024)


@pytest.fixture
def probe(tmp_path: Path) -> TestClient:
    """An app that builds (and at shutdown closes) its own runtime, with routes that fail."""
    app = create_app(PROBE_SETTINGS.model_copy(update={"var_dir": tmp_path / "var"}))

    def converter_crashed() -> None:
        raise RenderingFailed(ErrorCode.CONVERSION_TIMEOUT, seconds=60)

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
        assert r.json()["code"] == "conversion_timeout"
        assert r.json()["kind"] == "rendering_failed"
        assert r.json()["params"] == {"seconds": 60}
        r = probe.get("/probe/sign", headers={"Accept-Language": "pl"})
        assert r.status_code == 422
        assert r.json() == {
            "detail": "Nie można użyć klucza do podpisu: błędny PIN lub hasło, brak karty albo "
            "pliku klucza, albo klucz nie pasuje do certyfikatu.",
            "code": "signing_key_unusable",
            "kind": "signature_problem",
            "params": {"detail": "wrong PIN"},  # signatures' own English, for developers
        }
        assert r.headers["content-language"] == "pl"
        r = probe.get("/probe/tsa")
        assert r.status_code == 503
        assert r.json()["code"] == "timestamp_unavailable"
        assert r.json()["kind"] == "trust_service_unavailable"
        assert "Nothing was changed" in r.json()["detail"]
        r = probe.get("/probe/field")
        assert r.status_code == 409
        assert r.json()["code"] == "signature_field_unusable"
        assert r.json()["params"] == {"field": "podpis-1", "detail": "already signed"}


def _shape(r: httpx.Response, status: int, code: str, language: str = "pl") -> dict[str, Any]:
    """The one error shape: JSON with detail, code, kind and params, in ``language``."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["code"] == code, body
    assert {"detail", "code", "kind", "params"} <= body.keys()
    assert r.headers["content-language"] == language
    return cast(dict[str, Any], body)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"[" * 5000 + b"]" * 5000, "application/json"),  # deeper than the parser's recursion
        (b'{"email": "\xff\xfe"}', "application/json"),  # not UTF-8 at all
        ('{"email": "café"}'.encode("latin-1"), "application/json"),
        ('{"email": "café"}'.encode("latin-1"), "application/json; charset=latin-1"),
    ],
)
def test_a_body_that_does_not_parse_gets_the_error_shape(
    probe: TestClient, content: bytes, content_type: str
) -> None:
    with probe:
        r = probe.post(
            "/api/v1/auth/login",
            content=content,
            headers={"Content-Type": content_type, "Accept-Language": "pl"},
        )
        assert r.status_code in (400, 422), r.text
        body = _shape(r, r.status_code, r.json().get("code", "?"))
        assert body["code"] in ("body_unreadable", "body_not_json")
        assert "JSON" in body["detail"]


def test_unknown_routes_and_wrong_methods_get_the_error_shape(probe: TestClient) -> None:
    with probe:
        missing = _shape(probe.get("/api/v1/nothing-here"), 404, "route_not_found", "en")
        assert missing["kind"] == "not_found"
        assert missing["params"] == {"path": "/api/v1/nothing-here"}
        r = probe.delete("/api/v1/auth/login", headers={"Accept-Language": "pl"})
        wrong = _shape(r, 405, "method_not_allowed")
        assert wrong["params"] == {"method": "DELETE", "allowed": ["POST"]}
        assert r.headers["allow"] == "POST"


def test_a_body_over_the_ceiling_gets_the_error_shape(probe: TestClient) -> None:
    with probe:
        ceiling = body_cap(PROBE_SETTINGS) + 64 * 1024
        declared = probe.post(
            "/api/v1/auth/login",
            content=b"x" * (ceiling + 1),
            headers={"Content-Type": "application/json"},
        )
        assert _shape(declared, 413, "body_too_large", "en")["params"] == {"limit": ceiling}

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it comes
            for _ in range(ceiling // 65536 + 2):
                yield b" " * 65536

        streamed = probe.post(
            "/api/v1/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert _shape(streamed, 413, "body_too_large", "en")["params"] == {"limit": ceiling}
        missing = probe.post("/api/v1/nothing", content=b"x" * (ceiling + 1))
        assert _shape(missing, 413, "body_too_large", "en")["kind"] == "bad_request"


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
