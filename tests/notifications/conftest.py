"""A real SMTP server (aiosmtpd on 127.0.0.1) and a runtime whose mail goes to it."""

from __future__ import annotations

import email
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support import free_port
from workflow.config import Settings
from workflow.migrate import upgrade
from workflow.rendering.converter import PdfConverter
from workflow.runtime import Runtime, SigningEnvironment, build_runtime

PUBLIC_URL = "https://estrategia.e-izba.example"
SENDER = "powiadomienia@e-izba.demo"


@dataclass
class Received:
    envelope_to: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class Inbox:
    """What the server accepted, and the replies it gives to the next mails."""

    received: list[Received] = field(default_factory=list)
    refuse_next: list[str] = field(default_factory=list)
    """Addresses whose next mail gets a 451 (a temporary refusal), once each."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            to = list(envelope.rcpt_tos)
            for addr in to:
                if addr in self.refuse_next:
                    self.refuse_next.remove(addr)
                    return "451 4.3.0 Try again later"
            raw = bytes(envelope.original_content or envelope.content)
            msg = email.message_from_bytes(raw, policy=default)
            assert isinstance(msg, EmailMessage)
            self.received.append(Received(to, raw, msg))
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.envelope_to]

    def addresses(self) -> list[str]:
        return sorted(a for r in self.received for a in r.envelope_to)


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(port, inbox)
    finally:
        controller.stop()


def mail_settings(settings: Settings, **mail: Any) -> Settings:
    return Settings(
        var_dir=settings.var_dir,
        storage={"database_url": settings.storage.database_url},
        secret_key="test-secret-for-sessions",
        public_url=PUBLIC_URL,
        jobs={"embedded_worker": False},
        mail={"sender": SENDER, "reminder_after_days": 1, **mail},
    )


@pytest.fixture
def smtp_port(smtp: SmtpServer) -> int:
    return smtp.port


@pytest.fixture
def rt(
    settings: Settings,
    request: pytest.FixtureRequest,
    shared_converter: PdfConverter,
    signing_env: SigningEnvironment,
) -> Iterator[Runtime]:
    """The runtime of the tests of this package: mail to the ``smtp`` fixture's server, or
    to a port nobody listens on (``@pytest.mark.parametrize("mail", ["down"])``), or no
    SMTP host at all (``"log"``)."""
    mode = getattr(request, "param", None) or "server"
    if mode == "server":
        port = request.getfixturevalue("smtp_port")
        s = mail_settings(settings, host="127.0.0.1", port=port, security="none", timeout_s=10)
    elif mode == "down":
        s = mail_settings(settings, host="127.0.0.1", port=free_port(), security="none")
    else:
        s = mail_settings(settings)
    upgrade(s)
    runtime = build_runtime(s, converter=shared_converter, signing=signing_env)
    try:
        yield runtime
    finally:
        runtime.close()
