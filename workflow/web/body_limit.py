"""The app-wide ceiling on request bodies, answering in the API's error shape.

FastAPI's ``max_body_size`` sits outside the exception handlers and answers a plain-text
"Content Too Large". This middleware sits inside them instead: a declared Content-Length
over the ceiling is answered at once; a body that grows past it while a route reads it
raises ``BodyTooLarge``, an ``HTTPException`` (413) that ``web/errors.py`` renders like
every other error (and that the upload reader turns into its own 422 for ``file``).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workflow.web.errors import http_exception_response


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail="Content Too Large")
        self.limit = limit


class BodyLimit:
    """Refuse request bodies over ``max_body_size`` bytes with the API's 413."""

    def __init__(self, app: ASGIApp, *, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_size
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def receive_capped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive_capped, send_tracked)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = http_exception_response(
            Request(scope, receive), BodyTooLarge(self.max_body_size)
        )
        await response(scope, receive, send)
