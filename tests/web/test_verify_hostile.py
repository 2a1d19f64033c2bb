"""The public ``POST /verify`` on hostile bytes: a report (200) or a refusal (422 naming
``file``) with the API's JSON error shape, never a 500, and one short log line per refusal.

An independent probe got a 500 and ~175 KB of traceback in the log from each of two small
files; ``tests/signatures/test_reader_fuzz.py`` has the full table, this is the HTTP edge.
"""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from signatures import PadesLevel
from tests.signatures import hostile
from tests.signatures.sample import signed_sample
from tests.web.conftest import API
from workflow.signing.trust import SigningEnvironment

PDF = {"Content-Type": "application/pdf"}

PROBE = {
    "root is the integer 42": hostile.minimal_pdf({1: b"42"}, pages=False),
    "catalog nesting arrays 600 deep": hostile.minimal_pdf(
        {1: b"<< /Type /Catalog /X " + hostile.nested(600) + b" >>"}, pages=False
    ),
    "an object stream containing itself": hostile.objstm_containing_itself(),
    "an object that is a reference to itself": hostile.minimal_pdf({1: b"1 0 R"}),
}


@pytest.fixture(scope="module")
def signed_letter(signing_env: SigningEnvironment) -> bytes:
    """The sample letter signed once at B-B with the application's demo PKI."""
    return signed_sample(signing_env, PadesLevel.B_B)


def _post(client: TestClient, pdf: bytes) -> tuple[int, dict[str, object]]:
    response = client.post(f"{API}/verify", content=pdf, headers=PDF)
    body: dict[str, object] = response.json()
    return response.status_code, body


def test_the_probes_files_are_refused_with_422_file(
    anonymous: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for name, pdf in PROBE.items():
        status, body = _post(anonymous, pdf)
        assert status == 422, (name, body)
        assert body["field"] == "file"
        assert body["code"]
        assert body["detail"]
    # one short line per refusal: no traceback, nothing near the probe's 175 KB
    assert caplog.records
    for record in caplog.records:
        assert not record.exc_info, record.getMessage()  # None or False: no traceback
        assert len(record.getMessage()) < 500


def test_cut_and_flipped_signed_letters_get_a_report_or_a_refusal(
    anonymous: TestClient, signed_letter: bytes
) -> None:
    mutants = [
        *(cut for _, cut in hostile.truncations(signed_letter, 4, seed=11)),
        signed_letter[: len(signed_letter) // 2],
        *(flipped for _, flipped in hostile.bit_flips(signed_letter, 8, seed=12)),
        hostile.catalog_with(signed_letter, AcroForm=b"42"),
        hostile.catalog_with(signed_letter, Perms=b"[1 2]"),
        hostile.catalog_with(signed_letter, AcroForm=b"<< /Fields " + hostile.nested(600) + b" >>"),
    ]
    statuses = set()
    for pdf in mutants:
        status, body = _post(anonymous, pdf)
        statuses.add(status)
        if status == 200:
            assert isinstance(body["valid"], bool)
            assert body["signatures"] is not None
        else:
            assert status == 422, body
            assert body["field"] == "file"
            assert body["code"]
    assert statuses <= {200, 422}
    assert 422 in statuses
