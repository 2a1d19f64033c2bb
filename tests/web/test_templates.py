"""Templates over HTTP: reading them, and uploads that are refused before anything is stored."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from tests.web.conftest import API, Login
from workflow.errors import ErrorCode, InvalidInput
from workflow.runtime import Runtime
from workflow.web.uploads import capped_receive

URL = f"{API}/templates/list_intencyjny/versions"
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>"
)


def _real(rt: Runtime) -> tuple[bytes, str]:
    folder = rt.settings.templates_dir
    return (
        (folder / "list_intencyjny.docx").read_bytes(),
        (folder / "list_intencyjny.schema.json").read_text("utf-8"),
    )


def _xxe_docx(real: bytes) -> bytes:
    """The real template with its document part replaced by one declaring an entity."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(real)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = XXE if info.filename == "word/document.xml" else src.read(info)
            dst.writestr(info.filename, data)
    return out.getvalue()


def _form(docx: bytes, schema: str, filename: str = "list.docx") -> dict[str, Any]:
    return {
        "files": {"file": (filename, docx, "application/octet-stream")},
        "data": {"schema": schema, "kind": "letter_of_intent", "title": "List intencyjny"},
    }


def test_templates_are_listed_with_their_schema(login: Login) -> None:
    client = login("autor")
    listed = client.get(f"{API}/templates").json()
    assert [t["name"] for t in listed] == ["e_strategia", "list_intencyjny"]
    one = client.get(f"{API}/templates/list_intencyjny").json()
    assert one["version"] == 1
    assert one["kind"] == "letter_of_intent"
    assert "strategy_name" in [f["name"] for f in one["field_schema"]["fields"]]
    assert client.get(f"{API}/templates/brak").status_code == 404


def test_an_admin_uploads_a_new_version(login: Login, rt: Runtime) -> None:
    docx, schema = _real(rt)
    admin = login("prezes")
    r = admin.post(URL, **_form(docx, schema))
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2
    assert admin.get(f"{API}/templates/list_intencyjny").json()["version"] == 2
    r = login("autor").post(URL, **_form(docx, schema))
    assert r.status_code == 403
    assert r.json()["code"] == "template_upload_needs_admin"


def test_bad_uploads_are_422_and_store_nothing(login: Login, rt: Runtime) -> None:
    docx, schema = _real(rt)
    admin = login("prezes")
    before = admin.get(f"{API}/templates").json()
    cases: list[tuple[str, dict[str, Any], str, str]] = [
        ("not .docx", _form(docx, schema, filename="list.pdf"), "file", "docx_name_required"),
        ("not a zip", _form(b"%PDF-1.7 not a word document", schema), "file", "docx_not_zip"),
        ("XXE", _form(_xxe_docx(docx), schema), "file", "docx_dtd"),
        ("bad schema", _form(docx, "{fields: nope"), "schema", "schema_not_json"),
        ("no file", {"data": {"schema": schema, "kind": "letter_of_intent"}}, "file",
         "template_file_required"),
        ("no kind", {"files": _form(docx, schema)["files"], "data": {"schema": schema}},
         "kind", "value_required"),
    ]  # fmt: skip
    for case, form, field, code in cases:
        r = admin.post(URL, **form)
        assert r.status_code == 422, (case, r.text)
        assert r.json()["field"] == field, case
        assert (r.json()["code"], r.json()["kind"]) == (code, "invalid_input"), case
    assert admin.get(f"{API}/templates").json() == before


def test_oversize_uploads_are_refused_before_being_read(login: Login, rt: Runtime) -> None:
    _, schema = _real(rt)
    admin = login("prezes")
    before = admin.get(f"{API}/templates").json()
    limit = rt.settings.max_upload_bytes
    big = b"PK" + b"\0" * (limit + 1)
    declared = admin.post(URL, **_form(big, schema))  # Content-Length is over the cap
    assert declared.status_code == 422
    assert declared.json()["field"] == "file"
    assert declared.json()["code"] == "file_too_large"
    assert declared.json()["params"] == {"field": "file", "limit": limit}

    def chunked() -> Iterator[bytes]:  # no Content-Length: the stream is counted
        yield b"--x\r\nContent-Disposition: form-data; name=file; filename=a.docx\r\n\r\n"
        for _ in range(limit // (1 << 20) + 2):
            yield b"\0" * (1 << 20)

    streamed = admin.post(
        URL, content=chunked(), headers={"Content-Type": "multipart/form-data; boundary=x"}
    )
    assert streamed.status_code == 422
    assert streamed.json()["field"] == "file"
    # Just over the limit, inside the framing allowance: refused after parsing.
    small_over = admin.post(URL, **_form(b"\0" * (limit + 1), schema))
    assert small_over.status_code == 422
    assert small_over.json()["field"] == "file"
    assert admin.get(f"{API}/templates").json() == before


def test_uploads_need_the_csrf_token_and_a_login(login: Login, rt: Runtime) -> None:
    docx, schema = _real(rt)
    admin = login("prezes")
    r = admin.post(URL, **_form(docx, schema), headers={"X-CSRF-Token": "zly"})
    assert r.status_code == 403
    admin.cookies.clear()
    assert admin.post(URL, **_form(docx, schema)).status_code == 401
    assert json.loads(_real(rt)[1])["fields"]  # the schema file itself is intact


def test_the_stream_is_cut_at_the_cap() -> None:
    """(TestClient hands the app a streamed body in one piece, so the counting receive
    channel is checked on its own here.)"""
    chunks = iter([b"a" * 40, b"b" * 40, b"c" * 40])
    received: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": next(chunks), "more_body": True}

    async def read_all() -> None:
        receive_capped = capped_receive(receive, cap=100, limit=90)
        while True:
            received.append(len((await receive_capped())["body"]))

    with pytest.raises(InvalidInput) as refused:
        anyio.run(read_all)
    assert received == [40, 40]
    assert refused.value.field == "file"
    assert refused.value.code == ErrorCode.FILE_TOO_LARGE
    assert refused.value.params["limit"] == 90
