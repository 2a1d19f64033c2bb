"""One logging setup for ``estrategia serve``, ``worker`` and every other command.

Human-readable lines by default; one JSON object per line when ``ESTRATEGIA_LOG_FORMAT=json``
(``settings.ops.log_format``), with ``timestamp``, ``level``, ``logger``, ``message``, the
``request_id`` of the HTTP request being served (set by ``web/middleware.py`` in
:data:`request_id`) and every ``extra=`` field of the record.

Libraries (pyHanko, its certificate validator, certomancer, aiohttp, httpx...) log nothing
unless ``verbose``: their warnings about the files being validated are findings of a report,
not something for an operator's log, and httpx's INFO lines would carry URLs.

Secrets never reach a log line from here: extra fields whose name says they hold one
(cookie, token, password, authorization, csrf, secret...) are written as ``[redacted]``,
and an API token (``est_...``) inside any message or field is masked. The access log
(``web/middleware.py``) logs no headers, no query string and no body in the first place.

:func:`install_logging` puts ONE handler of ours on the root logger (replacing one it put
there before) and returns a function that puts everything back as it was, so that a command
run in-process (tests) leaves logging untouched. Nothing is configured at import.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

__all__ = [
    "LIBRARY_LOGGERS",
    "JsonFormatter",
    "LogFormat",
    "TextFormatter",
    "configured_logging",
    "install_logging",
    "request_id",
    "scrub",
    "use_log_format",
]

LogFormat = Literal["text", "json"]

LIBRARY_LOGGERS = (
    "pyhanko",
    "pyhanko_certvalidator",
    "certomancer",
    "asn1crypto",
    "aiohttp",
    "asyncio",
    "fontTools",
    "py.warnings",
    "httpx",
    "httpcore",
    "python_multipart",
    "multipart",
)
"""Loggers of libraries that only ``verbose`` (``-v``) shows."""

request_id: ContextVar[str | None] = ContextVar("estrategia_request_id", default=None)
"""The id of the HTTP request being served (``X-Request-ID``), for every record logged
while serving it; ``None`` outside a request."""

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(
    r"pass(word|wd|phrase)?|token|secret|cookie|authori[sz]ation|csrf|api[_-]?key|"
    r"private[_-]?key|credential|pin\b|signature_value",
    re.IGNORECASE,
)
_API_TOKEN = re.compile(r"\best_[A-Za-z0-9_-]{8,}")
# Attributes every LogRecord has: what is left over came from ``extra=``.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


def _mask(text: str) -> str:
    return _API_TOKEN.sub("est_" + REDACTED, text)


def scrub(key: str, value: Any) -> Any:
    """``value`` as it may be logged under ``key``: redacted when the key names a secret,
    API tokens masked inside text, containers scrubbed item by item."""
    if _SECRET_NAME.search(key):
        return REDACTED
    if isinstance(value, str):
        return _mask(value)
    if isinstance(value, Mapping):
        return {str(k): scrub(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(key, v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _mask(str(value))


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra=`` fields of ``record``, scrubbed."""
    return {
        key: scrub(key, value)
        for key, value in vars(record).items()
        if key not in _RECORD_ATTRS and not key.startswith("_")
    }


class _RequestIdFilter(logging.Filter):
    """Gives every record the ``request_id`` of the request being served (or None)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; see the module docstring."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _mask(record.getMessage()),
        }
        rid = getattr(record, "request_id", None)
        if rid is not None:
            out["request_id"] = rid
        for key, value in extra_fields(record).items():
            out.setdefault(key, value)
        if record.exc_info:
            out["exception"] = _mask(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``2026-01-31 12:00:00,123 INFO workflow.access [request id] message key=value``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.rid = f" [{rid}]" if rid else ""
        extras = extra_fields(record)
        extras.pop("rid", None)
        line = _mask(super().format(record))
        if extras:
            line += " " + " ".join(f"{k}={json.dumps(v, default=str)}" for k, v in extras.items())
        return line


_OURS = "_estrategia_handler"


def _our_handler() -> logging.Handler | None:
    return next((h for h in logging.getLogger().handlers if getattr(h, _OURS, False)), None)


def install_logging(
    *,
    log_format: LogFormat = "text",
    verbose: bool = False,
    service: bool = False,
    formatter: logging.Formatter | None = None,
    stream: TextIO | None = None,
) -> Callable[[], None]:
    """Log to ``stream`` (stderr) through one handler of ours; return the undo function.

    ``service`` (``serve``, ``worker``): from INFO up (the access log, starts and stops);
    otherwise, as a command line should, warnings and errors only. ``verbose``: INFO up
    and the libraries too. ``formatter``: the text format (default :class:`TextFormatter`);
    ``log_format="json"`` wins over it.
    """
    root = logging.getLogger()
    libraries = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    saved_handlers = list(root.handlers)
    saved_level = root.level
    saved_libraries = [(lg, lg.propagate, list(lg.handlers)) for lg in libraries]

    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    setattr(handler, _OURS, True)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else formatter or TextFormatter())
    previous = _our_handler()
    if previous is not None:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose or service else logging.WARNING)
    quiet = logging.NullHandler()
    for lg in libraries:
        # A library logger that does not propagate needs a handler of its own: without
        # one, Python's last-resort handler prints its records (tracebacks included).
        lg.propagate = verbose
        lg.addHandler(quiet)
    logging.captureWarnings(True)

    def undo() -> None:
        logging.captureWarnings(False)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for lg, propagate, handlers in saved_libraries:
            lg.propagate = propagate
            lg.handlers[:] = handlers

    return undo


@contextmanager
def configured_logging(**options: Any) -> Iterator[None]:
    """:func:`install_logging` for the duration of a ``with`` block."""
    undo = install_logging(**options)
    try:
        yield
    finally:
        undo()


def use_log_format(log_format: LogFormat) -> None:
    """Switch the handler of ours to JSON lines (``"json"``); ``"text"`` keeps its format.

    For the command line, which installs its logging before it reads the settings."""
    handler = _our_handler()
    if handler is not None and log_format == "json":
        handler.setFormatter(JsonFormatter())


def ensure_logging(*, log_format: LogFormat) -> None:
    """Service logging unless a handler of ours is already there: for the web app built in
    a process that did not go through the command line (``uvicorn --workers`` children)."""
    if _our_handler() is None:
        install_logging(log_format=log_format, service=True)
