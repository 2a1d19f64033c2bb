"""settings.mail and the public address, from the ESTRATEGIA_ variables."""

from __future__ import annotations

import pytest

from workflow.config import Settings
from workflow.notifications.mail import document_link


def test_mail_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "ESTRATEGIA_PUBLIC_URL": "https://umowy.e-izba.pl/",
        "ESTRATEGIA_SMTP_HOST": "smtp.e-izba.pl",
        "ESTRATEGIA_SMTP_PORT": "465",
        "ESTRATEGIA_SMTP_SECURITY": "ssl",
        "ESTRATEGIA_SMTP_USERNAME": "estrategia",
        "ESTRATEGIA_SMTP_PASSWORD": "tajne-haslo",
        "ESTRATEGIA_MAIL_FROM": "powiadomienia@e-izba.pl",
        "ESTRATEGIA_MAIL_FROM_NAME": "e-Izba",
        "ESTRATEGIA_REMINDER_AFTER_DAYS": "2.5",
    }.items():
        monkeypatch.setenv(name, value)
    s = Settings()
    m = s.mail
    assert (m.host, m.port, m.security, m.username, m.password) == (
        "smtp.e-izba.pl", 465, "ssl", "estrategia", "tajne-haslo",
    )  # fmt: skip
    assert (m.sender, m.sender_name, m.reminder_after_days) == (
        "powiadomienia@e-izba.pl", "e-Izba", 2.5,
    )  # fmt: skip
    assert "tajne-haslo" not in repr(s)
    assert document_link(s.public_url, 7) == "https://umowy.e-izba.pl/documents/7"
    assert document_link(s.public_url, 7, sign=True) == "https://umowy.e-izba.pl/documents/7/sign"


def test_by_default_mail_goes_to_the_log_and_links_to_the_local_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("ESTRATEGIA_SMTP_HOST", "ESTRATEGIA_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    assert s.mail.host == "" and s.public_url == "http://127.0.0.1:8000"
    with pytest.raises(ValueError, match=r"smtp_host is now mail\.host"):
        Settings(smtp_host="x")  # type: ignore[call-arg]
