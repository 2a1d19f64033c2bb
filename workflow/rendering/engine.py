"""Render a .docx template with docxtpl, safely.

Templates are uploaded by users, so they are rendered in a jinja2 ``SandboxedEnvironment``
(no ``''.__class__`` tricks) with autoescape on: docxtpl does not escape by default, so
"& Partnerzy <sp. z o.o.>" would lose its "&" and turn "<sp. z o.o.>" into an XML element.
Undefined variables are errors (``StrictUndefined``): a typo must not print an empty line
in a signed agreement. One render is bounded in the size of each value, its whole output
and its time (``RenderLimits``; how: ``sandbox.py``, ``limits.py``).

Variables every template gets from the application, not declared in schemas
(``SYSTEM_VARIABLES``):

- ``document``: reference, title, kind, place, date (a ``date``), version
- ``parties``: list of name, short_name, kind_label, head_title, representative_name,
  representative_function, seat, teryt
- ``signatories``: list of position, full_name, function, organisation_name

Filters: ``data_pl`` (date -> "25 listopada 2026 r."; an aware datetime also gets
"godz. 13:05" in Warsaw time) and ``kwota`` (Decimal -> "1 234,50 zł").
"""

from __future__ import annotations

import io
import operator
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import jinja2
from docx.opc.exceptions import PackageNotFoundError
from docxtpl import DocxTemplate
from jinja2.sandbox import SandboxedEnvironment

from workflow.errors import ErrorCode, InvalidInput
from workflow.polish.formatting import format_date_long, format_datetime_long, format_money
from workflow.rendering.docx_safety import strip_external_references
from workflow.rendering.limits import LimitExceeded, RenderLimits
from workflow.rendering.sandbox import TemplateSandbox

SYSTEM_VARIABLES = frozenset({"document", "parties", "signatories"})

DOCUMENT_KEYS = ("reference", "title", "kind", "place", "date", "version")
PARTY_KEYS = (
    "name",
    "short_name",
    "kind_label",
    "head_title",
    "representative_name",
    "representative_function",
    "seat",
    "teryt",
)
SIGNATORY_KEYS = ("position", "full_name", "function", "organisation_name")

#: Attributes a template may read from each system variable (or its items).
SYSTEM_ATTRIBUTES: Mapping[str, tuple[str, ...]] = {
    "document": DOCUMENT_KEYS,
    "parties": PARTY_KEYS,
    "signatories": SIGNATORY_KEYS,
}

DEFAULT_LIMITS = RenderLimits()


@dataclass(frozen=True)
class DocumentInfo:
    """What the application knows about the document being rendered."""

    reference: str
    """Case reference (znak sprawy), e.g. "IGE/RYB/2026/014"."""
    title: str
    kind: str
    """Template kind, e.g. "list_intencyjny"."""
    place: str
    """Place of signing, nominative: "Rybnik"."""
    date: date
    version: int


@dataclass(frozen=True)
class Party:
    """A party to the agreement: e-Izba or a local government unit."""

    name: str
    """Full name, e.g. "Miasto Rybnik"."""
    short_name: str
    """Name used in the text after the first mention, e.g. "Miasto"."""
    kind_label: str
    """Kind in words, e.g. "miasto na prawach powiatu"."""
    head_title: str
    """Title of the unit's head, stored per unit: "Prezydent Miasta Rybnika"."""
    representative_name: str
    representative_function: str
    """Function of the person acting, e.g. "Prezydent Miasta Rybnika" or "z upoważnienia"."""
    seat: str
    """Address of the seat."""
    teryt: str = ""
    """TERYT (TERC) code of a local government unit; empty for e-Izba."""


@dataclass(frozen=True)
class Signatory:
    """A person who signs, in the set order."""

    position: int
    full_name: str
    function: str
    organisation_name: str


def build_context(
    values: Mapping[str, object],
    *,
    document: DocumentInfo,
    parties: Sequence[Party],
    signatories: Sequence[Signatory],
) -> dict[str, object]:
    """Merge validated field values with the system variables."""
    clash = SYSTEM_VARIABLES & set(values)
    if clash:
        raise InvalidInput(sorted(clash)[0], ErrorCode.SYSTEM_VARIABLE_AS_FIELD)
    return {
        **values,
        "document": document,
        "parties": list(parties),
        "signatories": sorted(signatories, key=operator.attrgetter("position")),
    }


def _data_pl(value: object) -> str:
    if isinstance(value, datetime):
        return format_datetime_long(value)
    if isinstance(value, date):
        return format_date_long(value)
    raise jinja2.TemplateRuntimeError(f"data_pl expects a date, got {type(value).__name__}")


def _kwota(value: object) -> str:
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return format_money(value)
    raise jinja2.TemplateRuntimeError(f"kwota expects a Decimal, got {type(value).__name__}")


def make_environment(limits: RenderLimits = DEFAULT_LIMITS) -> SandboxedEnvironment:
    """The jinja2 environment of one render (or one lint): it carries that render's budget."""
    filters: dict[str, Callable[..., Any]] = {"data_pl": _data_pl, "kwota": _kwota}
    return TemplateSandbox(
        limits, filters=filters, autoescape=True, undefined=jinja2.StrictUndefined
    )


def open_template(template: bytes, *, name: str) -> DocxTemplate:
    """Open .docx bytes as a docxtpl template, or raise ``InvalidInput("template", ...)``
    (``TEMPLATE_UNREADABLE``)."""
    tpl = DocxTemplate(io.BytesIO(template))
    try:
        tpl.init_docx()
    # lxml's XMLSyntaxError is a SyntaxError; catching that keeps lxml (untyped) out of here.
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, SyntaxError) as exc:
        raise InvalidInput(
            "template", ErrorCode.TEMPLATE_UNREADABLE, template=name, detail=str(exc)
        ) from exc
    return tpl


def _refused(code: ErrorCode, name: str, detail: str) -> InvalidInput:
    return InvalidInput("template", code, template=name, detail=detail)


def render_docx(
    template: bytes,
    context: Mapping[str, object],
    *,
    name: str = "template",
    limits: RenderLimits = DEFAULT_LIMITS,
) -> bytes:
    """Render template bytes with ``context``; return the filled-in .docx bytes.

    A render that would exceed ``limits`` (size of one value, all output, time) stops with
    ``InvalidInput("template", ...)`` naming the limit (its code, and its value among the
    parameters); any other error of the template is ``InvalidInput("template", ...)`` too.
    """
    env = make_environment(limits)  # the time limit counts from here
    tpl = open_template(template, name=name)
    try:
        tpl.render(dict(context), jinja_env=env, autoescape=True)
    except LimitExceeded as exc:
        raise InvalidInput("template", exc.code, template=name, **exc.params) from exc
    except jinja2.exceptions.SecurityError as exc:
        raise _refused(ErrorCode.TEMPLATE_NOT_ALLOWED, name, str(exc)) from exc
    except RecursionError as exc:
        raise InvalidInput("template", ErrorCode.TEMPLATE_NESTED_TOO_DEEPLY, template=name) from exc
    except jinja2.UndefinedError as exc:
        message = exc.message or ""
        quoted = re.findall(r"'([^']*)'", message)
        raise InvalidInput(
            "template",
            ErrorCode.TEMPLATE_UNDEFINED,
            template=name,
            name=quoted[-1] if quoted else message,
            detail=message,
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise InvalidInput(
            "template",
            ErrorCode.TEMPLATE_SYNTAX_ERROR,
            template=name,
            line=exc.lineno,
            detail=exc.message or "",
        ) from exc
    except jinja2.TemplateError as exc:
        raise _refused(ErrorCode.TEMPLATE_FAILED, name, exc.message or type(exc).__name__) from exc
    except (TypeError, ValueError, ArithmeticError) as exc:
        # Operations on values inside a template ({{ a + b }} with text and number).
        raise _refused(ErrorCode.TEMPLATE_FAILED, name, f"{type(exc).__name__}: {exc}") from exc
    out = io.BytesIO()
    tpl.save(out)
    # Second line behind the upload check: a field instruction filled from values, or a
    # template stored before that check, must not make the converter load anything.
    return strip_external_references(out.getvalue())
