"""Rendering a page: ``render_page(request, "area/name.html", **context) -> HTMLResponse``.

One Jinja2 environment (autoescaping on, templates under ``pages/templates/``), made at
first use. Every template sees these names besides its own context:

``t("msgid")``
    A text of the pages in the request's language (``workflow.i18n.ui_text``: the
    ``ui_*.po`` catalogues; the msgid is the English text).
``message(code, params)``
    A coded sentence of the main catalogue (errors, refusals), as the API words it.
``label(value)``
    The label of a ``Status``, ``Action`` or ``Role`` (a plain string naming a status is
    taken as one).
``csrf_input()``
    The hidden ``csrf_token`` field of the caller's session ("" without a session): put it
    in every POST form.
``format_datetime(value)``, ``format_date(value)``
    A timezone-aware datetime in Warsaw time, ``30.11.2026 10:47`` / ``30.11.2026``.
``lang``
    The page's language ("pl" or "en"); ``caller``: the ``PageCaller`` or None;
    ``is_admin``: an e-Izba office admin; ``request``; ``path``: the request's path.
``flash``, ``flash_kind``
    Pass them to show a notice above the content (``flash_kind``: info, success, error).

Macros of forms (a labelled field with its error beside it): ``{% from
"common/forms.html" import field, select, errors_summary with context %}``.

The response carries ``Content-Language``; a ``?lang=`` choice is remembered in the
``lang`` cookie here (see ``deps.page_language``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import Markup, escape

from workflow.i18n import DEFAULT_LANGUAGE, LANGUAGES, render_message, ui_text
from workflow.i18n import label as i18n_label
from workflow.states import Action, Role, Status
from workflow.web.pages.deps import (
    CSRF_FIELD,
    LANG_COOKIE,
    page_caller_or_none,
    page_language,
)

LOCAL_TIME = ZoneInfo("Europe/Warsaw")


@functools.cache
def environment(lang: str = DEFAULT_LANGUAGE) -> Environment:
    """The pages' environment for ``lang``: its templates are compiled with their fixed
    texts already in that language (:class:`FixedTexts`)."""
    env = Environment(
        loader=PackageLoader("workflow.web.pages", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates change only with a deployment (a new process): no stat of each file
        # and its includes on every render.
        auto_reload=False,
        extensions=[FixedTexts],
    )
    env.extend(page_language=lang)
    env.globals["format_datetime"] = format_datetime
    env.globals["format_date"] = format_date
    env.filters["format_datetime"] = format_datetime
    env.filters["format_date"] = format_date
    return env


class FixedTexts(Extension):
    """``t("literal")`` becomes its translation when a template is compiled, not a call
    on every render: a document page asks for about 150 texts (a tenth of its time).
    ``t(expression)`` stays a call. Works on the tokens, so ``x.t("a")`` (a method) is
    left alone."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        lang = str(getattr(self.environment, "page_language", DEFAULT_LANGUAGE))
        tokens = list(stream)
        i = 0
        while i < len(tokens):
            window = tokens[i : i + 4]
            if (
                [tok.type for tok in window] == ["name", "lparen", "string", "rparen"]
                and window[0].value == "t"
                and (i == 0 or tokens[i - 1].type != "dot")
            ):
                yield Token(window[0].lineno, "string", ui_text(window[2].value, lang))
                i += 4
                continue
            yield tokens[i]
            i += 1


@functools.lru_cache(maxsize=4096)  # the same moments recur on every page of a document
def format_datetime(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(LOCAL_TIME).strftime("%d.%m.%Y %H:%M")


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL_TIME).date()
    return value.strftime("%d.%m.%Y")


@functools.lru_cache(maxsize=1024)  # a few dozen statuses, actions and roles, two languages
def _label_of(lang: str, value: object) -> str:
    if isinstance(value, Status | Action | Role):
        return i18n_label(value, lang)
    for kind in (Status, Action, Role):
        try:
            return i18n_label(kind(str(value)), lang)
        except ValueError:
            continue
    return str(value)


def page_context(request: Request) -> dict[str, Any]:
    """The names every template sees (see the module docstring)."""
    lang = page_language(request)
    caller = page_caller_or_none(request)

    # Made once per page, not per form: a missing attribute of request.state costs an
    # exception each time (a tenth of the document page's rendering, py-spy).
    token = getattr(request.state, "form_csrf_token", None) or (
        caller.csrf_token if caller is not None else None
    )
    field = (
        Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(token))
        if token
        else Markup("")
    )

    def csrf_input() -> Markup:
        return field

    return {
        "request": request,
        "lang_urls": {code: _with_lang(request, code) for code in LANGUAGES},
        "is_admin": caller is not None and caller.actor.has_chamber_role(Role.ADMIN),
        "flash": None,
        "lang": lang,
        "languages": LANGUAGES,
        "caller": caller,
        "path": request.url.path,
        "t": lambda msgid: ui_text(msgid, lang),
        "message": lambda code, params=None: render_message(str(code), params or {}, lang),
        "label": lambda value: _label_of(lang, value),
        "csrf_input": csrf_input,
    }


def _with_lang(request: Request, code: str) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return request.url.path + "?" + urlencode([*query, ("lang", code)])


def render_page(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page ``template`` (``"area/name.html"``) with ``context``, in the request's
    language."""
    names = page_context(request)
    names.update(context)
    html = environment(names["lang"]).get_template(template).render(names)
    response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    response.headers["Content-Language"] = names["lang"]
    remember_language(request, response)
    return response


def remember_language(request: Request, response: Any) -> None:
    """A ``?lang=`` choice becomes the ``lang`` cookie (a year, this site only)."""
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, chosen, max_age=365 * 24 * 3600, path="/", samesite="lax",
            httponly=True, secure=request.url.scheme == "https",
        )  # fmt: skip
