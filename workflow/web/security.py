"""How a request proves who sent it: a login session cookie or a per-user API token.

Session
    ``POST /api/v1/auth/login`` sets the cookie ``estrategia_session``: HttpOnly,
    SameSite=Lax, Secure over https (or always, with ``ESTRATEGIA_SECURE_COOKIES=true``
    behind a proxy that terminates TLS). Its value is an opaque random id; the server keeps
    only its SHA-256 in the ``sessions`` table (``workflow.identity.sessions``), so a
    logout, a password change or an administrator ends it on every app server at once.
    Every login makes a new id (a value the browser brought is revoked, never adopted), and
    a password change gives the caller's session a new one too. A session ends after
    ``session_idle_timeout_s`` without use or ``session_max_age_s`` after login.

CSRF
    A cookie is an ambient credential: the browser sends it on cross-site requests too. So
    every unsafe request (POST, PUT, PATCH, DELETE) authenticated by the cookie must carry
    ``X-CSRF-Token`` equal to the token bound to that session (compared in constant time).
    The token is an HMAC of the session's value under the application's secret key: bound
    to the session, it changes with every new session id, and the database holds nothing
    from which it could be made. Another site can neither read the token nor set the header
    without a CORS preflight. Login itself accepts only ``application/json`` (a cross-site
    HTML form cannot send it) and refuses a foreign ``Origin``.

API tokens
    ``Authorization: Bearer est_...``: nothing ambient, so no CSRF token is asked for.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from fastapi import Request, Response

SESSION_COOKIE: Final = "estrategia_session"
CSRF_HEADER: Final = "X-CSRF-Token"
TOKEN_PREFIX: Final = "est_"  # noqa: S105  # the public prefix of API tokens, not a secret
UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CSRF_CONTEXT: Final = b"estrategia.csrf.v2:"


class CsrfTokens:
    """Makes and checks the CSRF token bound to a session's value."""

    def __init__(self, secret_key: str) -> None:
        if len(secret_key) < 16:
            # An empty or short key would let anyone compute the CSRF token of a session.
            raise ValueError("the secret key must be at least 16 characters")
        self._key = secret_key.encode()

    def token_for(self, session_value: str) -> str:
        return hmac.new(
            self._key, _CSRF_CONTEXT + session_value.encode(), hashlib.sha256
        ).hexdigest()

    def matches(self, session_value: str, presented: str | None) -> bool:
        if not presented:
            return False
        return hmac.compare_digest(presented.encode(), self.token_for(session_value).encode())


def set_session_cookie(
    request: Request, response: Response, value: str, max_age_s: int, *, secure: bool
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age_s,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure or request.url.scheme == "https",
    )


def clear_session_cookie(request: Request, response: Response, *, secure: bool) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure or request.url.scheme == "https",
    )


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, "" for any other Authorization
    header (which is refused, never ignored), None without the header."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX):
        return ""
    return token


def same_origin(request: Request) -> bool:
    """False only when the browser names an Origin other than this server's."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = f"{request.url.scheme}://{request.url.netloc}"
    return origin.rstrip("/").lower() == own.lower()
