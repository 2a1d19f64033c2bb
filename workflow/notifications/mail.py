"""Compose the mail of one notification for one person: Polish (English for a person whose
preferred language is English), a plain-text body with a simple HTML alternative.

The texts are in ``workflow/i18n/locales/<lang>/LC_MESSAGES/ui_mail.po``: the ``msgid`` is
the English text itself (the convention of the pages' ``ui_*.po`` catalogues), the
``msgstr`` a ``str.format`` template, read through ``workflow.i18n.ui_text`` like every
other ``ui_*.po`` (:func:`mail_text`).

Headers: ``From`` (name and address of ``settings.mail``), ``To``, ``Subject`` (non-ASCII
encoded per RFC 2047 when the message is sent), ``Date``, ``Message-ID`` and
``Auto-Submitted: auto-generated`` (RFC 3834: no autoresponder answers it). The
``Message-ID`` is derived from what the mail is about (``key``), not random: a mail that
had to be sent again after a crash carries the same id, so mail systems that deduplicate
by ``Message-ID`` show it once.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Final

from workflow.config import Settings
from workflow.i18n import DEFAULT_LANGUAGE, LANGUAGES, ui_text

EVENTS: Final = ("submit", "request_changes", "approve", "your_turn", "signed", "reminder")
"""What a mail can be about: the lifecycle's notifications and the signature reminder."""

_SUBJECT: Final[dict[str, str]] = {
    "submit": "[{reference}] For your review: {title}",
    "request_changes": "[{reference}] Changes requested: {title}",
    "approve": "[{reference}] Approved: {title}",
    "your_turn": "[{reference}] Your turn to sign: {title}",
    "signed": "[{reference}] Signed by all: {title}",
    "reminder": "[{reference}] Reminder: your signature is awaited: {title}",
}
_SENTENCE: Final[dict[str, str]] = {
    "submit": "The document {reference} “{title}” has been submitted and awaits your review.",
    "request_changes": "A reviewer has requested changes to the document {reference} “{title}”.",
    "approve": "The document {reference} “{title}” has been approved.",
    "your_turn": "It is your turn to sign the document {reference} “{title}”.",
    "signed": "All signatories have signed the document {reference} “{title}”.",
    "reminder": "The document {reference} “{title}” has been awaiting your signature since "
    "{since}.",
}
_SIGNING_EVENTS: Final = frozenset({"your_turn", "reminder"})
_GREETING: Final = "Hello {name},"
_REASON: Final = "Reason given: {reason}"
_OPEN: Final = "Open the document:"
_SIGN: Final = "Sign the document:"
_FOOTER: Final = (
    "This message was sent automatically by estrategia, the e-strategy agreements system of "
    "e-Izba. Please do not reply to it."
)


def mail_text(msgid: str, language: str) -> str:
    """The text ``msgid`` in ``language`` (Polish if unsupported; the msgid if untranslated)."""
    return ui_text(msgid, language)


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(msgid: str, language: str, params: Mapping[str, str]) -> str:
    return mail_text(msgid, language).format_map(_Params(params))


def language_of(person: object) -> str:
    """The person's preferred language if the model has one and it is supported, else
    Polish (today's ``User`` has none: every mail is in Polish)."""
    preferred = getattr(person, "language", None) or getattr(person, "preferred_language", None)
    if isinstance(preferred, str) and preferred.lower()[:2] in LANGUAGES:
        return preferred.lower()[:2]
    return DEFAULT_LANGUAGE


def document_link(public_url: str, document_id: int, *, sign: bool = False) -> str:
    """The page of the document (its signing page for a signatory) at ``public_url``."""
    base = public_url.rstrip("/")
    return f"{base}/documents/{document_id}/sign" if sign else f"{base}/documents/{document_id}"


def link_for(settings: Settings, event: str, document_id: int) -> str:
    return document_link(settings.public_url, document_id, sign=event in _SIGNING_EVENTS)


def message_id(key: str, sender: str) -> str:
    """A ``Message-ID`` that depends only on ``key`` and the sender's domain."""
    domain = sender.rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<estrategia.{digest}@{domain}>"


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str
    name: str
    language: str = DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Subject:
    """The document a mail is about, as the mail shows it."""

    document_id: int
    reference: str
    title: str


def compose(
    settings: Settings,
    *,
    event: str,
    recipient: Recipient,
    about: Subject,
    key: str,
    reason: str | None = None,
    since: datetime | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The mail of ``event`` about ``about`` for ``recipient``; ``key`` names it uniquely
    (the outbox row and the person, or the reminder's period) and makes its Message-ID."""
    if event not in _SUBJECT:
        raise ValueError(f"no mail for the event {event!r}")
    lang = recipient.language if recipient.language in LANGUAGES else DEFAULT_LANGUAGE
    link = link_for(settings, event, about.document_id)
    params = {
        "reference": about.reference,
        "title": about.title,
        "name": recipient.name,
        "reason": (reason or "").strip(),
        "since": since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if since else "",
    }
    subject = " ".join(_fill(_SUBJECT[event], lang, params).split())  # no folded newlines
    paragraphs = [_fill(_GREETING, lang, params), _fill(_SENTENCE[event], lang, params)]
    if event == "request_changes" and params["reason"]:
        paragraphs.append(_fill(_REASON, lang, params))
    call = mail_text(_SIGN if event in _SIGNING_EVENTS else _OPEN, lang)
    footer = mail_text(_FOOTER, lang)

    text = "\n\n".join([*paragraphs, f"{call}\n{link}", f"-- \n{footer}"]) + "\n"
    e = html.escape
    body_html = "".join(f"<p>{e(p)}</p>\n" for p in paragraphs)
    page = (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head><meta charset="utf-8">'
        f"<title>{e(subject)}</title></head>\n<body>\n{body_html}"
        f'<p>{e(call)} <a href="{e(link, quote=True)}">{e(link)}</a></p>\n'
        f'<hr>\n<p style="color:#555;font-size:small">{e(footer)}</p>\n</body>\n</html>\n'
    )

    msg = EmailMessage(policy=SMTP)
    mail = settings.mail
    msg["From"] = Address(display_name=mail.sender_name, addr_spec=mail.sender)
    msg["To"] = Address(display_name=recipient.name, addr_spec=recipient.email)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = message_id(key, mail.sender)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, charset="utf-8")
    msg.add_alternative(page, subtype="html", charset="utf-8")
    msg["Content-Language"] = lang  # after the body: set_content drops Content-* headers
    return msg
