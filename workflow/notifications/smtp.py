"""Send composed mails: over SMTP (``settings.mail.host`` set) or, by default, to the log.

    with open_transport(settings.mail) as transport:
        transport.send(message)   # returns once the server accepted it (250 after DATA)

One connection per batch (a job's recipients), opened on the first mail. Any failure to
connect, authenticate or have a mail accepted raises :class:`MailNotSent` (the job that
sends then fails and the queue retries it); when the server refused only that mail
(``only_this_mail``: a 4xx/5xx to its recipient or its data) the connection stays open for
the next ones. A failure after the server accepted the last mail (QUIT) is ignored: the
mails were accepted.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Protocol

from workflow.config import MailSettings

log = logging.getLogger(__name__)


class MailNotSent(Exception):
    """The SMTP server could not be reached or did not accept a mail (retry later)."""

    def __init__(self, message: str, *, only_this_mail: bool = False) -> None:
        super().__init__(message)
        self.only_this_mail = only_this_mail
        """The server refused this one mail (its recipient, its content) and the
        connection is still good: the next mails may be tried."""


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class LogTransport:
    """No SMTP server configured: each mail is one INFO line of this module's logger."""

    def send(self, message: EmailMessage) -> None:
        body = message.get_body(("plain",))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        log.info(
            "mail (no SMTP host configured, not sent) to %s, subject %r, %s:\n%s",
            message["To"], str(message["Subject"]), message["Message-ID"], text.rstrip(),
        )  # fmt: skip


class SmtpTransport:
    """SMTP with STARTTLS, implicit TLS or plain, and AUTH when a username is set."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._client: smtplib.SMTP | None = None

    def _tls(self) -> ssl.SSLContext:
        """Certificate and host name verified, against ``ca_file`` or the system's CAs."""
        return ssl.create_default_context(cafile=self.settings.ca_file or None)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        client: smtplib.SMTP
        if s.security == "ssl":
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=self._tls())
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        try:
            client.ehlo()
            if s.security == "starttls":
                client.starttls(context=self._tls())
                client.ehlo()
            if s.username:
                client.login(s.username, s.password)
        except BaseException:
            _close_quietly(client)
            raise
        return client

    def send(self, message: EmailMessage) -> None:
        try:
            if self._client is None:
                self._client = self._connect()
            refused = self._client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            # A refusal of this mail leaves the session reset (smtplib sends RSET) and usable.
            per_mail = isinstance(
                exc,
                smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError | smtplib.SMTPSenderRefused,
            )
            if not per_mail:
                self.close()
            raise MailNotSent(
                f"SMTP {self.settings.host}:{self.settings.port} did not take the mail "
                f"to {message['To']}: {type(exc).__name__}: {exc}",
                only_this_mail=per_mail,
            ) from exc
        if refused:  # only with several recipients; we send one per mail
            raise MailNotSent(f"SMTP refused {sorted(refused)}")

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            _close_quietly(client)


def _close_quietly(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


@contextmanager
def open_transport(settings: MailSettings) -> Iterator[Transport]:
    """The transport of ``settings`` (the log when no host is set), closed on exit."""
    if not settings.host:
        yield LogTransport()
        return
    transport = SmtpTransport(settings)
    try:
        yield transport
    finally:
        transport.close()
