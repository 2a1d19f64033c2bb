"""One message catalogue for every word a user reads: errors, refusals, action labels.

Codes, not sentences, cross the layers: a service raises ``GuardRefused(Refusal.OWN_VERSION)``
or ``InvalidInput("title", ErrorCode.TEXT_REQUIRED, max_length=300)``; the JSON API, the CLI
and the pages turn the code and its parameters into a sentence here, in Polish (the default)
or English. The sentences live in gettext catalogues,
``workflow/i18n/locales/<lang>/LC_MESSAGES/messages.po``: the ``msgid`` is the code, the
``msgstr`` a ``str.format`` template over the parameters. Labels of statuses, actions and
roles are the same catalogue's entries with a ``msgctxt`` (``status``, ``action``,
``role``). The ``.po`` files are read with Babel at first use and kept: there is no compile
step, and a wheel ships them as package data.

Parameters that are a ``Status``, ``Action`` or ``Role`` are shown by their label in the
language asked for; a list is shown as its items joined by commas ("—" when empty).

The words of the browser pages (headings, buttons, field labels) are not codes: their
``msgid`` is the English text itself, without ``msgctxt``, in one catalogue per area of the
pages, ``ui_<area>.po`` beside ``messages.po`` (``ui_common.po`` for the frame and sign-in,
``ui_drafting.po``...), so that each area's engineer edits a file of their own.
``ui_text(msgid, lang)`` looks the text up in every ``ui_*.po`` of the language, merged;
a text with no translation shows as its ``msgid``.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

from workflow.states import Action, Role, Status

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

DEFAULT_LANGUAGE: Final = "pl"
LANGUAGES: Final = ("pl", "en")

#: The ``msgctxt`` under which each kind of identifier has its label.
LABEL_CONTEXTS: Final[dict[type, str]] = {Status: "status", Action: "action", Role: "role"}

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Localized",
    "catalogue",
    "label",
    "language_from_env",
    "negotiate",
    "placeholders",
    "render_message",
    "ui_catalogue",
    "ui_text",
]


@functools.cache
def catalogue(language: str) -> Catalog:
    """The parsed catalogue of a supported language (read once per process)."""
    from babel.messages.pofile import read_po

    if language not in LANGUAGES:
        raise ValueError(f"unsupported language: {language!r}")
    path = resources.files(__package__).joinpath("locales", language, "LC_MESSAGES", "messages.po")
    with path.open("rb") as fh:
        return read_po(fh, locale=language)


@functools.cache
def ui_catalogue(language: str) -> dict[str, str]:
    """Every ``ui_*.po`` of a supported language merged: msgid -> translation (read once
    per process; files in name order, so a duplicate msgid takes the last file's text)."""
    from babel.messages.pofile import read_po

    if language not in LANGUAGES:
        raise ValueError(f"unsupported language: {language!r}")
    folder = resources.files(__package__).joinpath("locales", language, "LC_MESSAGES")
    merged: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not (entry.name.startswith("ui_") and entry.name.endswith(".po")):
            continue
        with entry.open("rb") as fh:
            for message in read_po(fh, locale=language):
                text = message.string
                if isinstance(message.id, str) and message.id and isinstance(text, str) and text:
                    merged[message.id] = text
    return merged


def ui_text(msgid: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A text of the pages in ``lang`` (Polish if unsupported); the msgid if untranslated."""
    return ui_catalogue(_supported(lang)).get(msgid, msgid)


def _lookup(msgid: str, language: str, context: str | None = None) -> str | None:
    for lang in (language, "en") if language != "en" else ("en",):
        entry = catalogue(lang).get(msgid, context=context)
        if entry is not None and isinstance(entry.string, str) and entry.string:
            return entry.string
    return None


def label(value: Status | Action | Role, language: str = DEFAULT_LANGUAGE) -> str:
    """The label of a status, action or role in ``language`` (its identifier if none)."""
    context = next(c for kind, c in LABEL_CONTEXTS.items() if isinstance(value, kind))
    return _lookup(str(value), _supported(language), context) or str(value)


@runtime_checkable
class Localized(Protocol):
    """A parameter that says itself in a language: a sentence made of a code and its own
    parameters (one problem of a list, such as a template's lint problems)."""

    def localized(self, language: str) -> str: ...


def _show(value: object, language: str) -> str:
    if isinstance(value, Status | Action | Role):
        return label(value, language)
    if isinstance(value, Localized):
        return value.localized(language)
    if isinstance(value, list | tuple | frozenset | set):
        items = [_show(v, language) for v in value]
        # Sentences with commas of their own are separated by semicolons.
        separator = "; " if any(isinstance(v, Localized) for v in value) else ", "
        return separator.join(items) if items else "—"
    return str(value)


class _Params(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # a missing parameter shows, it does not crash the error path


def render_message(
    code: str,
    params: Mapping[str, object] | None = None,
    lang: str = DEFAULT_LANGUAGE,
    *,
    context: str | None = None,
) -> str:
    """The sentence for ``code`` with ``params`` in ``lang`` (Polish if unsupported).

    An unknown code renders as the code itself: an error path never fails for want of a
    translation (a test checks that every code has both). ``context``: the ``msgctxt`` of
    sentences that are not errors (``notification``).
    """
    language = _supported(lang)
    template = _lookup(str(code), language, context)
    if template is None:
        return str(code)
    shown = _Params({k: _show(v, language) for k, v in (params or {}).items()})
    return template.format_map(shown)


def placeholders(code: str, lang: str) -> set[str]:
    """The parameter names the message of ``code`` in ``lang`` quotes."""
    template = _lookup(str(code), lang) or ""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _supported(language: str) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def negotiate(accept_language: str | None) -> str:
    """The supported language the client prefers most (RFC 9110 weights), else Polish."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for item in (accept_language or "").split(","):
        tag, _, params = item.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # Strictly greater: of equal weights the first listed wins; q=0 means "not this one".
        if language in LANGUAGES and q > best_q:
            best, best_q = language, q
    return best


def language_from_env(environ: Mapping[str, str]) -> str:
    """The CLI's language from ``LC_ALL``/``LC_MESSAGES``/``LANG`` (POSIX order): English
    for ``en_*``, otherwise Polish."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            language = value.split(".")[0].split("_")[0].lower()
            return language if language in LANGUAGES else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE
