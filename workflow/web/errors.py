"""Every error becomes an HTTP answer here, and only here.

Every error body has one shape, in the language negotiated from Accept-Language (Polish by
default, ``Content-Language`` says which)::

    {"detail": "<the sentence>", "code": "<stable code>", "kind": "<generic code>",
     "params": {...the values the sentence quotes...}, ...fields of the kind}

``code`` is what a client switches on (``reviewer_wrote_version``, ``value_required``,
``document_not_found``...: ``workflow.errors.ErrorCode`` and ``workflow.states.Refusal``);
``kind`` groups codes by meaning and HTTP status:

    NotFound              404  not_found
    NotPermitted          403  not_permitted
    TransitionNotAllowed  409  transition_not_allowed  + status, action, allowed_actions
    GuardRefused          409  guard_refused
    ConflictingChange     409  conflicting_change
    InvalidInput          422  invalid_input           + field
    TooManyAttempts       429  too_many_requests       + Retry-After header
    RenderingFailed       502  rendering_failed
    signatures errors     422/409/502/503 signature_problem, trust_service_unavailable
                               (``workflow.signing.errors.coded``)
    request validation    422  invalid_input           + field, errors
    unparseable body      400  bad_request   (body_unreadable)
    unknown route         404  not_found     (route_not_found)
    wrong method          405  bad_request   (method_not_allowed), with Allow
    body over the ceiling 413  bad_request   (body_too_large: ``web/body_limit.py``)
    anything else         500  internal_error

Domain errors are looked up along their MRO, so a new subclass falls back to its parent's
row.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from signatures.errors import SignatureError
from workflow.errors import (
    ConflictingChange,
    ErrorCode,
    EstrategiaError,
    GuardRefused,
    InvalidInput,
    NotFound,
    NotPermitted,
    RenderingFailed,
    TooManyAttempts,
    TransitionNotAllowed,
)
from workflow.i18n import negotiate, render_message
from workflow.signing.errors import coded

log = logging.getLogger(__name__)


class WebError(Exception):
    """An error of the web layer itself (not of a use-case)."""

    status_code = 400
    code = ErrorCode.BAD_REQUEST
    headers: ClassVar[Mapping[str, str]] = {}


class AuthenticationRequired(WebError):
    status_code = 401
    code = ErrorCode.AUTHENTICATION_REQUIRED
    headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": 'Bearer realm="estrategia"'}


class BadCredentials(WebError):
    """Wrong email or password: one message for both, so accounts cannot be enumerated."""

    status_code = 401
    code = ErrorCode.BAD_CREDENTIALS


class CsrfFailed(WebError):
    status_code = 403
    code = ErrorCode.CSRF_FAILED


class CrossOriginRefused(WebError):
    status_code = 403
    code = ErrorCode.CROSS_ORIGIN


class SessionRequired(WebError):
    status_code = 403
    code = ErrorCode.SESSION_REQUIRED


class JsonRequired(WebError):
    status_code = 415
    code = ErrorCode.JSON_REQUIRED


@dataclass(frozen=True)
class ErrorMapping:
    status: int
    extra: Sequence[str] = ()
    """Which of the error's params the JSON body also carries as fields of their own."""


ERRORS: dict[type[EstrategiaError], ErrorMapping] = {
    NotFound: ErrorMapping(404),
    NotPermitted: ErrorMapping(403),
    TransitionNotAllowed: ErrorMapping(409, ("status", "action")),
    GuardRefused: ErrorMapping(409),
    ConflictingChange: ErrorMapping(409),
    InvalidInput: ErrorMapping(422, ("field",)),
    RenderingFailed: ErrorMapping(502),
    TooManyAttempts: ErrorMapping(429),
}


def jsonable(value: object) -> Any:
    """A parameter as JSON: enums by value, sequences as lists, the rest as text."""
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def error_body(
    language: str,
    *,
    code: str,
    kind: str | None = None,
    params: Mapping[str, object] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The one JSON shape of every error (see the module docstring)."""
    return {
        "detail": render_message(code, params, language),
        "code": str(code),
        "kind": str(kind or code),
        "params": jsonable(params or {}),
        **(extra or {}),
    }


def error_response(
    request: Request,
    *,
    status: int,
    code: str,
    kind: str | None = None,
    params: Mapping[str, object] | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    language = negotiate(request.headers.get("accept-language"))
    return JSONResponse(
        error_body(language, code=code, kind=kind, params=params, extra=extra),
        status_code=status,
        headers={"Content-Language": language, **(headers or {})},
    )


def _domain_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EstrategiaError)  # noqa: S101  # registered for these only
    mapping = next(ERRORS[cls] for cls in type(exc).__mro__ if cls in ERRORS)
    extra = {key: jsonable(exc.params[key]) for key in mapping.extra if key in exc.params}
    if isinstance(exc, TransitionNotAllowed):
        extra["allowed_actions"] = jsonable(exc.allowed)
    headers = {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after_s)
    return error_response(
        request,
        status=mapping.status,
        code=exc.code,
        kind=exc.kind,
        params=exc.params,
        extra=extra,
        headers=headers,
    )


def _signature_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SignatureError)  # noqa: S101  # registered for it only
    c = coded(exc)
    return error_response(request, status=c.status, code=c.code, kind=c.kind, params=c.params)


def _web_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WebError)  # noqa: S101  # registered for WebError only
    return error_response(request, status=exc.status_code, code=exc.code, headers=exc.headers)


def http_exception_response(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own HTTP errors: unknown route, wrong method, unparseable body, ..."""
    assert isinstance(exc, HTTPException)  # noqa: S101  # registered for it only
    headers = dict(exc.headers or {})
    params: dict[str, object]
    if exc.status_code == 404:
        code, kind, params = ErrorCode.ROUTE_NOT_FOUND, ErrorCode.NOT_FOUND, {}
        params = {"path": request.url.path}
    elif exc.status_code == 405:
        allow = next((v for k, v in headers.items() if k.lower() == "allow"), "")
        allowed = [m.strip() for m in allow.split(",") if m.strip()]
        code, kind = ErrorCode.METHOD_NOT_ALLOWED, ErrorCode.BAD_REQUEST
        params = {"method": request.method, "allowed": allowed}
    elif exc.status_code == 400:
        # FastAPI's "There was an error parsing the body": invalid UTF-8, too deep, ...
        code, kind, params = ErrorCode.BODY_UNREADABLE, ErrorCode.BAD_REQUEST, {}
    elif exc.status_code == 413:
        code, kind, params = ErrorCode.BODY_TOO_LARGE, ErrorCode.BAD_REQUEST, {}
        limit = getattr(exc, "limit", None)
        if limit is not None:
            params = {"limit": limit}
    else:
        code, kind, params = ErrorCode.HTTP_ERROR, ErrorCode.BAD_REQUEST, {}
        params = {"status": exc.status_code}
    return error_response(
        request, status=exc.status_code, code=code, kind=kind, params=params, headers=headers
    )


def _internal_handler(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, status=500, code=ErrorCode.INTERNAL_ERROR)


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


#: pydantic's error types by meaning; any other type is ``invalid_value``.
_VALIDATION_CODES: dict[str, ErrorCode] = {
    "missing": ErrorCode.VALUE_REQUIRED,
    "string_too_short": ErrorCode.VALUE_TOO_SHORT,
    "too_short": ErrorCode.VALUE_TOO_SHORT,
    "string_too_long": ErrorCode.VALUE_TOO_LONG,
    "too_long": ErrorCode.VALUE_TOO_LONG,
    "greater_than": ErrorCode.VALUE_TOO_SMALL,
    "greater_than_equal": ErrorCode.VALUE_TOO_SMALL,
    "less_than": ErrorCode.VALUE_TOO_LARGE,
    "less_than_equal": ErrorCode.VALUE_TOO_LARGE,
    "int_parsing": ErrorCode.NOT_AN_INTEGER,
    "int_type": ErrorCode.NOT_AN_INTEGER,
    "int_from_float": ErrorCode.NOT_AN_INTEGER,
    "date_parsing": ErrorCode.NOT_A_DATE,
    "date_from_datetime_parsing": ErrorCode.NOT_A_DATE,
    "date_type": ErrorCode.NOT_A_DATE,
    "enum": ErrorCode.NOT_ONE_OF,
    "literal_error": ErrorCode.NOT_ONE_OF,
    "extra_forbidden": ErrorCode.UNKNOWN_FIELD,
    "json_invalid": ErrorCode.BODY_NOT_JSON,
    "string_type": ErrorCode.WRONG_TYPE,
    "bool_type": ErrorCode.WRONG_TYPE,
    "bool_parsing": ErrorCode.WRONG_TYPE,
    "list_type": ErrorCode.WRONG_TYPE,
    "dict_type": ErrorCode.WRONG_TYPE,
    "model_type": ErrorCode.WRONG_TYPE,
    "model_attributes_type": ErrorCode.WRONG_TYPE,
    "float_type": ErrorCode.WRONG_TYPE,
    "float_parsing": ErrorCode.WRONG_TYPE,
    "decimal_parsing": ErrorCode.WRONG_TYPE,
    "decimal_type": ErrorCode.WRONG_TYPE,
}


def _validation_error(e: Mapping[str, Any]) -> tuple[ErrorCode, dict[str, object]]:
    kind = str(e.get("type", ""))
    # A JSON syntax error's location is a character offset, not a field.
    where = "body" if kind == "json_invalid" else field_path(e.get("loc", ()))
    code = _VALIDATION_CODES.get(kind, ErrorCode.INVALID_VALUE)
    ctx = e.get("ctx") or {}
    params: dict[str, object] = {"field": where}
    if code in (ErrorCode.VALUE_TOO_SHORT, ErrorCode.VALUE_TOO_LONG):
        name = "min_length" if code is ErrorCode.VALUE_TOO_SHORT else "max_length"
        params[name] = ctx.get(name, "")
    elif code in (ErrorCode.VALUE_TOO_SMALL, ErrorCode.VALUE_TOO_LARGE):
        params["limit"] = next((ctx[k] for k in ("ge", "gt", "le", "lt") if k in ctx), "")
    elif code is ErrorCode.NOT_ONE_OF:
        params["expected"] = str(ctx.get("expected", ""))
    return code, params


def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101  # registered for it only
    language = negotiate(request.headers.get("accept-language"))
    errors = []
    for e in exc.errors():
        code, params = _validation_error(e)
        errors.append(
            {
                "field": params["field"],
                "code": str(code),
                "detail": render_message(code, params, language),
                "params": jsonable(params),
                "type": e.get("type"),
            }
        )
    if errors:
        code, params = ErrorCode(errors[0]["code"]), errors[0]["params"]
    else:
        code, params = ErrorCode.INVALID_VALUE, {"field": "body"}
    return error_response(
        request,
        status=422,
        code=code,
        kind=ErrorCode.INVALID_INPUT,
        params=params,
        extra={"field": params["field"], "errors": errors},
    )


def install_error_handlers(app: FastAPI) -> None:
    for cls in ERRORS:
        app.add_exception_handler(cls, _domain_handler)
    app.add_exception_handler(SignatureError, _signature_handler)
    app.add_exception_handler(WebError, _web_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(HTTPException, http_exception_response)
    app.add_exception_handler(Exception, _internal_handler)
