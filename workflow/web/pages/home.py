"""The start page: what runs here and where the API is, until the browser UI arrives.

Plain HTML with no scripts: FastAPI's /docs loads Swagger UI from a CDN, which a machine
without internet access cannot reach, so it is switched off and the page links the
OpenAPI document itself.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="pl">
<head><meta charset="utf-8"><title>estrategia</title></head>
<body style="font-family: sans-serif; max-width: 46em; margin: 3em auto; line-height: 1.5">
<h1>estrategia</h1>
<p>Obieg listów intencyjnych i e-strategii Izby Gospodarki Elektronicznej i jednostek
samorządu terytorialnego: szablony, wersje, recenzja, podpisy PAdES w ustalonej kolejności,
ścieżka audytu.</p>
<ul>
<li>API: <code>/api/v1</code> — logowanie <code>POST /api/v1/auth/login</code>
(JSON: <code>email</code>, <code>password</code>) albo token API
(<code>Authorization: Bearer</code>)</li>
<li>Opis API (OpenAPI): <a href="/openapi.json">/openapi.json</a></li>
<li>Weryfikacja podpisów (bez logowania): <code>POST /api/v1/verify</code>
z plikiem PDF (<code>Content-Type: application/pdf</code>)</li>
</ul>
<p lang="en"><small>Document workflow for e-strategy agreements. The browser interface is
being built; the JSON API above is complete.</small></p>
</body>
</html>
"""


@router.get("/", response_class=HTMLResponse)
def home() -> str:
    return PAGE
