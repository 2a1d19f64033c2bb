"""The start page and the OpenAPI document are served without logging in."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_start_page_links_the_api(anonymous: TestClient) -> None:
    page = anonymous.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Izba Gospodarki Elektronicznej" in page.text  # English, the chamber's name kept
    assert 'href="/login"' in page.text
    polish = anonymous.get("/", headers={"Accept-Language": "pl"})
    assert "Izby Gospodarki Elektronicznej" in polish.text
    spec = anonymous.get("/openapi.json").json()
    assert spec["info"]["title"] == "estrategia"
    for path in (
        "/api/v1/documents",
        "/api/v1/verify",
        "/api/v1/documents/{document_id}/actions/{action}",
    ):
        assert path in spec["paths"]
    assert anonymous.get("/docs").status_code == 404  # Swagger UI needs a CDN: switched off
