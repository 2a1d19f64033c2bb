"""The SMTP transport on its own: AUTH, a refused login, the English texts."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
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


def _tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 it signed: (ca.pem, cert.pem, key.pem)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test mail CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_starttls_and_implicit_tls_verify_the_server(security: str, tmp_path: Path) -> None:
    ca, cert, key = _tls_files(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()
    if security == "ssl":
        controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=server_tls)
    else:
        controller = Controller(
            inbox, hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True
        )
    controller.start()
    try:
        mail = {"host": "127.0.0.1", "port": port, "security": security, "sender": "bot@e-izba.pl"}
        trusting = Settings(var_dir=tmp_path, mail={**mail, "ca_file": str(ca)})  # type: ignore[arg-type]
        with open_transport(trusting.mail) as transport:
            transport.send(_mail(trusting, "pl"))
        assert len(inbox.received) == 1
        # Without the CA the server is not trusted: nothing is sent.
        untrusting = Settings(var_dir=tmp_path, mail=mail)  # type: ignore[arg-type]
        with (
            pytest.raises(MailNotSent, match="CERTIFICATE_VERIFY_FAILED"),
            open_transport(untrusting.mail) as transport,
        ):
            transport.send(_mail(untrusting, "pl"))
        assert len(inbox.received) == 1
    finally:
        controller.stop()
