"""Every error becomes an HTTP answer here, and only here.

The services raise the domain errors of ``workflow.errors``; the web layer adds a few of its
own (authentication, CSRF). ``ERRORS`` maps each class to a status, a stable ``code`` and the
structured fields its JSON body carries besides ``detail`` (the message in the language
negotiated from Accept-Language):

    NotFound              404  not_found
    NotPermitted          403  not_permitted
    TransitionNotAllowed  409  transition_not_allowed  + status, action, allowed_actions
    GuardRefused          409  guard_refused           + reason
    ConflictingChange     409  conflicting_change
    InvalidInput          422  invalid_input           + field, reason
    RenderingFailed       502  rendering_failed        + reason
    SignatureError        422  signature_problem       + reason (wrong PIN, bad certificate...)
    FieldProblem          409  signature_problem       + reason (field signed, order, locked)
    TimestampUnavailable,
    RevocationUnavailable 503  trust_service_unavailable + reason (try again later)
    RemoteSignerError     502  trust_service_unavailable + reason (the CSC provider failed)
    request validation    422  invalid_input           + field, reason, errors

Each class is looked up along its MRO, so a new ``signatures.errors`` subclass falls back
to the ``SignatureError`` row until it gets one of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from signatures.csc import RemoteSignerError
from signatures.errors import (
    FieldProblem,
    RevocationUnavailable,
    SignatureError,
    TimestampUnavailable,
)
from workflow.errors import (
    ConflictingChange,
    GuardRefused,
    InvalidInput,
    NotFound,
    NotPermitted,
    RenderingFailed,
    TransitionNotAllowed,
)
from workflow.web.i18n import message, negotiate


class WebError(Exception):
    """An error of the web layer itself (not of a use-case)."""

    status_code = 400
    code = "bad_request"
    headers: ClassVar[Mapping[str, str]] = {}


class AuthenticationRequired(WebError):
    status_code = 401
    code = "authentication_required"
    headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": 'Bearer realm="estrategia"'}


class BadCredentials(WebError):
    """Wrong email or password: one message for both, so accounts cannot be enumerated."""

    status_code = 401
    code = "bad_credentials"


class CsrfFailed(WebError):
    status_code = 403
    code = "csrf_failed"


class CrossOriginRefused(WebError):
    status_code = 403
    code = "cross_origin"


class SessionRequired(WebError):
    status_code = 403
    code = "session_required"


class JsonRequired(WebError):
    status_code = 415
    code = "json_required"


@dataclass(frozen=True)
class ErrorMapping:
    status: int
    code: str
    params: Callable[[Any], dict[str, Any]] = field(default=lambda exc: {})
    """Values the message quotes, taken from the exception."""
    extra: Sequence[str] = ()
    """Which of ``params`` the JSON body carries as fields of their own."""


def _transition_params(exc: TransitionNotAllowed) -> dict[str, Any]:
    return {
        "action": exc.action,
        "status": exc.status,
        "allowed_actions": list(exc.allowed),
        "allowed": ", ".join(exc.allowed) or "—",
    }


ERRORS: dict[type[Exception], ErrorMapping] = {
    NotFound: ErrorMapping(404, "not_found", lambda e: {"what": e.what}),
    NotPermitted: ErrorMapping(403, "not_permitted", lambda e: {"reason": e.reason}),
    TransitionNotAllowed: ErrorMapping(
        409,
        "transition_not_allowed",
        _transition_params,
        extra=("status", "action", "allowed_actions"),
    ),
    GuardRefused: ErrorMapping(409, "guard_refused", lambda e: {"reason": e.reason}, ("reason",)),
    ConflictingChange: ErrorMapping(409, "conflicting_change", lambda e: {"what": e.what}),
    InvalidInput: ErrorMapping(
        422, "invalid_input", lambda e: {"field": e.field, "reason": e.reason}, ("field", "reason")
    ),
    RenderingFailed: ErrorMapping(
        502, "rendering_failed", lambda e: {"reason": e.reason}, ("reason",)
    ),
    SignatureError: ErrorMapping(
        422, "signature_problem", lambda e: {"reason": str(e)}, ("reason",)
    ),
    FieldProblem: ErrorMapping(409, "signature_problem", lambda e: {"reason": str(e)}, ("reason",)),
    TimestampUnavailable: ErrorMapping(
        503, "trust_service_unavailable", lambda e: {"reason": str(e)}, ("reason",)
    ),
    RevocationUnavailable: ErrorMapping(
        503, "trust_service_unavailable", lambda e: {"reason": str(e)}, ("reason",)
    ),
    RemoteSignerError: ErrorMapping(
        502, "trust_service_unavailable", lambda e: {"reason": str(e)}, ("reason",)
    ),
}


def error_response(
    request: Request,
    *,
    status: int,
    code: str,
    params: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    language = negotiate(request.headers.get("accept-language"))
    body = {"detail": message(code, language, **(params or {})), "code": code, **(extra or {})}
    return JSONResponse(
        body,
        status_code=status,
        headers={"Content-Language": language, **(headers or {})},
    )


def _domain_handler(request: Request, exc: Exception) -> JSONResponse:
    mapping = next(ERRORS[cls] for cls in type(exc).__mro__ if cls in ERRORS)
    params = mapping.params(exc)
    extra = {key: params[key] for key in mapping.extra}
    return error_response(
        request, status=mapping.status, code=mapping.code, params=params, extra=extra
    )


def _web_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WebError)  # noqa: S101  # registered for WebError only
    return error_response(request, status=exc.status_code, code=exc.code, headers=dict(exc.headers))


def field_path(location: Sequence[str | int]) -> str:
    """("body", "parties", 0, "organisation_id") -> "parties[0].organisation_id"; the
    same spelling as the paths of ``InvalidInput`` from the services."""
    parts = list(location)
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101  # registered for it only
    errors = [
        {
            # A JSON syntax error's location is a character offset, not a field.
            "field": "body" if e.get("type") == "json_invalid" else field_path(e.get("loc", ())),
            "reason": e.get("msg", ""),
            "type": e.get("type"),
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "reason": "invalid request"}
    return error_response(
        request,
        status=422,
        code="invalid_input",
        params={"field": first["field"], "reason": first["reason"]},
        extra={"field": first["field"], "reason": first["reason"], "errors": errors},
    )


def install_error_handlers(app: FastAPI) -> None:
    for cls in ERRORS:
        app.add_exception_handler(cls, _domain_handler)
    app.add_exception_handler(WebError, _web_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
