"""The SMTP transport on its own: AUTH, a refused login, the English texts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.notifications.conftest import Inbox
from tests.support import free_port
from workflow.config import Settings
from workflow.notifications.mail import Recipient, Subject, compose, language_of
from workflow.notifications.smtp import MailNotSent, open_transport


def _check_login(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"estrategia", b"tajne-haslo",
    )  # fmt: skip
    return AuthResult(success=ok)


@pytest.fixture
def auth_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port,
        authenticator=_check_login, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def _settings(port: int, password: str, tmp_path: Any) -> Settings:
    return Settings(
        var_dir=tmp_path,
        public_url="https://umowy.e-izba.pl",
        mail={  # type: ignore[arg-type]
            "host": "127.0.0.1", "port": port, "security": "none",
            "username": "estrategia", "password": password, "sender": "bot@e-izba.pl",
        },
    )  # fmt: skip


def _mail(settings: Settings, language: str) -> Any:
    return compose(
        settings,
        event="your_turn",
        recipient=Recipient(5, "burmistrz@gmina.pl", "Jan Kowalski", language),
        about=Subject(7, "LI/2026/0007", "List intencyjny"),
        key="outbox:1:user:5",
    )


def test_login_then_the_mail_in_english(auth_server: tuple[int, Inbox], tmp_path: Any) -> None:
    port, inbox = auth_server
    s = _settings(port, "tajne-haslo", tmp_path)
    with open_transport(s.mail) as transport:
        transport.send(_mail(s, "en"))
    (got,) = inbox.received
    assert got.message["Subject"] == "[LI/2026/0007] Your turn to sign: List intencyjny"
    assert "It is your turn to sign" in got.message.get_body(("plain",)).get_content()
    assert got.message["Content-Language"] == "en"


def test_a_refused_login_is_mail_not_sent(auth_server: tuple[int, Inbox], tmp_path: Any) -> None:
    port, inbox = auth_server
    s = _settings(port, "zle-haslo", tmp_path)
    with pytest.raises(MailNotSent) as caught, open_transport(s.mail) as transport:
        transport.send(_mail(s, "pl"))
    assert not caught.value.only_this_mail and inbox.received == []


def test_the_same_key_gives_the_same_message_id(tmp_path: Any) -> None:
    s = _settings(25, "", tmp_path)
    assert _mail(s, "pl")["Message-ID"] == _mail(s, "pl")["Message-ID"]
    assert _mail(s, "pl")["Message-ID"].endswith("@e-izba.pl>")


def test_language_of_a_person_without_one_is_polish() -> None:
    class Person:
        language = "en"

    assert language_of(object()) == "pl" and language_of(Person()) == "en"
