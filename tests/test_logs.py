"""workflow.logs: the one logging setup of serve, worker and the CLI."""

from __future__ import annotations

import io
import json
import logging

from workflow.logs import REDACTED, configured_logging, install_logging, request_id


def test_json_lines_carry_the_fields_the_request_id_and_the_extras() -> None:
    stream = io.StringIO()
    with configured_logging(log_format="json", service=True, stream=stream):
        token = request_id.set("req-42")
        try:
            logging.getLogger("workflow.test").info(
                "rendered %s", "LI/2026/0001", extra={"document_id": 7, "pages": [1, 2]}
            )
        finally:
            request_id.reset(token)
        logging.getLogger("workflow.test").warning("outside a request")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "info"
    assert first["logger"] == "workflow.test"
    assert first["message"] == "rendered LI/2026/0001"
    assert first["request_id"] == "req-42"
    assert first["document_id"] == 7 and first["pages"] == [1, 2]
    assert first["timestamp"].endswith("+00:00")
    assert "request_id" not in second


def test_secrets_are_redacted_by_name_and_api_tokens_masked_anywhere() -> None:
    stream = io.StringIO()
    with configured_logging(log_format="json", service=True, stream=stream):
        logging.getLogger("workflow.test").warning(
            "client sent est_AbCdEfGh12345678 in a query",
            extra={
                "password": "hunter2hunter2",
                "cookie": "estrategia_session=xyz-cookie-value",
                "headers": {"Authorization": "Bearer est_ZZZZZZZZZZZZ", "X-CSRF-Token": "csrf-1"},
                "note": "token est_QQQQQQQQQQQQ here",
            },
        )
    text = stream.getvalue()
    line = json.loads(text)
    assert line["password"] == REDACTED
    assert line["cookie"] == REDACTED
    assert line["headers"] == {"Authorization": REDACTED, "X-CSRF-Token": REDACTED}
    for secret in ("hunter2", "xyz-cookie-value", "ZZZZ", "csrf-1", "QQQQ", "AbCdEfGh"):
        assert secret not in text


def test_text_lines_are_for_people() -> None:
    stream = io.StringIO()
    with configured_logging(service=True, stream=stream):
        token = request_id.set("abc123")
        try:
            logging.getLogger("workflow.access").info("GET /health 200", extra={"status": 200})
        finally:
            request_id.reset(token)
    line = stream.getvalue().strip()
    assert " INFO workflow.access [abc123] GET /health 200 status=200" in line


def test_libraries_are_quiet_unless_verbose_and_everything_is_restored() -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level, logging.getLogger("pyhanko").propagate)
    quiet, loud = io.StringIO(), io.StringIO()
    with configured_logging(service=True, stream=quiet):
        logging.getLogger("pyhanko.sign").warning("a finding of the report")
        logging.getLogger("workflow.x").debug("not at INFO")
    with configured_logging(service=True, verbose=True, stream=loud):
        logging.getLogger("pyhanko.sign").warning("a finding of the report")
    assert quiet.getvalue() == ""
    assert "a finding of the report" in loud.getvalue()
    assert (list(root.handlers), root.level, logging.getLogger("pyhanko").propagate) == before


def test_installing_again_replaces_our_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    undo_outer = install_logging(service=True, stream=first)
    undo_inner = install_logging(log_format="json", service=True, stream=second)
    try:
        logging.getLogger("workflow.x").info("once")
    finally:
        undo_inner()
        undo_outer()
    assert first.getvalue() == ""
    assert json.loads(second.getvalue())["message"] == "once"
