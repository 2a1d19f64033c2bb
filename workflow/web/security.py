"""How a request proves who sent it: a login session cookie or a per-user API token.

Session
    ``POST /api/v1/auth/login`` sets the cookie ``estrategia_session``: HttpOnly,
    SameSite=Lax, Secure over https, signed and time-stamped with itsdangerous under the
    application's secret key. Its payload is the user id and a random CSRF token made at
    login. The signature expires after ``SESSION_MAX_AGE_S``; every request loads the user
    again, so a deactivated account loses access at once.

CSRF
    A cookie is an ambient credential: the browser sends it on cross-site requests too. So
    every unsafe request (POST, PUT, PATCH, DELETE) authenticated by the cookie must carry
    ``X-CSRF-Token`` equal to the token bound to that session (compared in constant time).
    Another site can neither read the token nor set the header without a CORS preflight.
    Login itself accepts only ``application/json`` (a cross-site HTML form cannot send it)
    and refuses a foreign ``Origin``.

API tokens
    ``Authorization: Bearer est_...``: nothing ambient, so no CSRF token is asked for.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Final

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE: Final = "estrategia_session"
CSRF_HEADER: Final = "X-CSRF-Token"
SESSION_MAX_AGE_S: Final = 8 * 60 * 60  # one working day
TOKEN_PREFIX: Final = "est_"  # noqa: S105  # the public prefix of API tokens, not a secret
UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SALT: Final = "estrategia.session.v1"


@dataclass(frozen=True)
class SessionData:
    user_id: int
    csrf_token: str


class SessionCodec:
    """Signs and reads the session cookie's value."""

    def __init__(self, secret_key: str, *, max_age_s: int = SESSION_MAX_AGE_S) -> None:
        if len(secret_key) < 16:
            # An empty or short key would let anyone forge a session cookie.
            raise ValueError("the session secret key must be at least 16 characters")
        self._serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
        self.max_age_s = max_age_s

    def issue(self, user_id: int) -> tuple[str, SessionData]:
        data = SessionData(user_id=user_id, csrf_token=secrets.token_urlsafe(32))
        value = self._serializer.dumps({"uid": data.user_id, "csrf": data.csrf_token})
        return value, data

    def read(self, value: str) -> SessionData | None:
        """The session, or None if the value is forged, tampered with or expired."""
        try:
            payload = self._serializer.loads(value, max_age=self.max_age_s)
        except BadSignature:  # SignatureExpired is a BadSignature too
            return None
        if not isinstance(payload, dict):
            return None
        uid, csrf = payload.get("uid"), payload.get("csrf")
        if not isinstance(uid, int) or not isinstance(csrf, str) or not csrf:
            return None
        return SessionData(user_id=uid, csrf_token=csrf)


def set_session_cookie(request: Request, response: Response, value: str, max_age_s: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age_s,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def csrf_matches(session: SessionData, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(presented.encode(), session.csrf_token.encode())


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
