"""docxtpl rendering in the sandbox, without LibreOffice."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from workflow.errors import ErrorCode, InvalidInput
from workflow.rendering.engine import build_context, render_docx
from workflow.rendering.fields import FieldSchema

from .helpers import docx_text, make_docx
from .sample_data import PARTIES, SIGNATORIES, letter_document

AWKWARD_NAME = "& Partnerzy <sp. z o.o.>"


def document_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("word/document.xml").decode("utf-8")


def test_markup_characters_survive_intact() -> None:
    out = render_docx(make_docx("Firma: {{ firm }}"), {"firm": AWKWARD_NAME}, name="t.docx")
    assert f"Firma: {AWKWARD_NAME}" in docx_text(out)
    assert "&amp; Partnerzy &lt;sp. z o.o.&gt;" in document_xml(out)


def test_markup_cannot_inject_word_xml() -> None:
    payload = "</w:t></w:r><w:r><w:t>wstrzyknięte"
    out = render_docx(make_docx("{{ x }}"), {"x": payload}, name="t.docx")
    assert payload in docx_text(out)


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ parties.__class__.__init__.__globals__ }}",
        "{{ 10 ** 100000 }}",
        "{{ [].append(1) }}",
    ],
)
def test_the_sandbox_refuses_unsafe_expressions(expression: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        render_docx(make_docx(expression), {"parties": []}, name="zly.docx")
    assert caught.value.field == "template"
    assert caught.value.code == ErrorCode.TEMPLATE_NOT_ALLOWED
    assert caught.value.params["template"] == "zly.docx"
    assert caught.value.message("pl") == (
        "Szablon „zly.docx” używa konstrukcji niedozwolonej w szablonach."
    )


def test_a_missing_variable_is_an_error_not_an_empty_line() -> None:
    with pytest.raises(InvalidInput) as caught:
        render_docx(make_docx("Cel: {{ goal }}"), {}, name="list.docx")
    assert caught.value.code == ErrorCode.TEMPLATE_UNDEFINED
    assert caught.value.params["name"] == "goal"
    assert caught.value.message("pl") == (
        "Szablon „list.docx” odwołuje się do nieistniejącej zmiennej lub atrybutu „goal”."
    )


def test_a_missing_attribute_is_an_error() -> None:
    context = build_context(
        {}, document=letter_document(), parties=PARTIES, signatories=SIGNATORIES
    )
    with pytest.raises(InvalidInput) as caught:
        render_docx(make_docx("{{ document.titel }}"), context, name="t.docx")
    assert caught.value.code == ErrorCode.TEMPLATE_UNDEFINED
    assert caught.value.params["name"] == "titel"


def test_syntax_errors_at_render_name_the_template() -> None:
    with pytest.raises(InvalidInput) as caught:
        render_docx(make_docx("{% for x in %}"), {}, name="t.docx")
    assert (caught.value.field, caught.value.code) == ("template", ErrorCode.TEMPLATE_SYNTAX_ERROR)
    assert caught.value.message("pl").startswith("Błąd składni w szablonie „t.docx”")


def test_polish_filters() -> None:
    template = make_docx(
        "{{ d|data_pl }}",
        "{{ t|data_pl }}",
        "{{ k|kwota }}",
        "{{ items|sum(attribute='b')|kwota }}",
    )
    context = {
        "d": date(2026, 11, 25),
        "t": datetime(2026, 11, 25, 12, 5, tzinfo=UTC),
        "k": Decimal("1234567"),
        "items": [{"b": Decimal("0.10")}, {"b": Decimal("0.20")}],
    }
    text = docx_text(render_docx(template, context, name="t.docx")).replace("\u00a0", " ")
    assert text.split("\n")[:4] == [
        "25 listopada 2026 r.",
        "25 listopada 2026 r., godz. 13:05",
        "1 234 567,00 zł",
        "0,30 zł",
    ]


def test_filters_refuse_wrong_types() -> None:
    with pytest.raises(InvalidInput) as caught:
        render_docx(make_docx("{{ d|data_pl }}"), {"d": "2026-11-25"}, name="t.docx")
    assert caught.value.code == ErrorCode.TEMPLATE_FAILED
    assert caught.value.params["detail"] == "data_pl expects a date, got str"
    with pytest.raises(InvalidInput) as caught:
        render_docx(make_docx("{{ k|kwota }}"), {"k": 1.5}, name="t.docx")
    assert caught.value.params["detail"] == "kwota expects a Decimal, got float"


def test_multi_line_text_becomes_line_breaks() -> None:
    out = render_docx(make_docx("{{ text }}"), {"text": "pierwsza\ndruga"}, name="t.docx")
    assert "<w:br/>" in document_xml(out)
    assert "pierwsza\ndruga" in docx_text(out)


def test_headers_are_rendered_too() -> None:
    out = render_docx(make_docx("treść", header="Znak: {{ ref }}"), {"ref": "IGE/1"}, name="t.docx")
    with zipfile.ZipFile(io.BytesIO(out)) as archive:
        headers = [n for n in archive.namelist() if n.startswith("word/header")]
        assert any("Znak: IGE/1" in archive.read(n).decode() for n in headers)


def test_not_a_docx_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        render_docx(b"PK\x03\x04 garbage", {}, name="t.docx")
    assert caught.value.code == ErrorCode.TEMPLATE_UNREADABLE
    assert caught.value.message("pl") == "Szablon „t.docx” nie jest czytelnym plikiem .docx."


def test_system_variables_cannot_be_overridden_by_fields() -> None:
    with pytest.raises(InvalidInput) as caught:
        build_context({"document": "x"}, document=letter_document(), parties=[], signatories=[])
    assert caught.value.field == "document"
    assert caught.value.code == ErrorCode.SYSTEM_VARIABLE_AS_FIELD


def test_signatories_are_in_signing_order() -> None:
    context = build_context(
        {}, document=letter_document(), parties=PARTIES, signatories=SIGNATORIES[::-1]
    )
    signatories = context["signatories"]
    assert isinstance(signatories, list)
    assert [s.position for s in signatories] == [1, 2]


def test_the_real_templates_render_the_sample_data(
    letter_docx: bytes, strategy_docx: bytes
) -> None:
    letter = docx_text(letter_docx)
    assert "Prezydent Miasta Rybnika" in letter
    assert "Kowalski & Partnerzy <sp. z o.o.>" in letter
    assert "{{" not in letter
    assert "{%" not in letter
    strategy = docx_text(strategy_docx).replace("\u00a0", " ")
    assert "2 005 500,50 zł" in strategy
    assert "31 grudnia 2027 r." in strategy
    assert "{{" not in strategy
    assert "{%" not in strategy


def test_a_choice_renders_as_its_value_and_templates_map_values_themselves() -> None:
    options = [
        {"value": "gmina", "label": "gmina", "label_en": "municipality"},
        {"value": "powiat", "label": "powiat", "label_en": "county"},
    ]
    schema = FieldSchema.parse(
        {"fields": [
            {"name": "unit_kind", "type": "choice", "label": "Rodzaj", "required": True,
             "options": options},
            {"name": "partners", "type": "table", "label": "Partnerzy", "columns": [
                {"name": "name", "type": "string", "label": "Nazwa"},
                {"name": "kind", "type": "choice", "label": "Rodzaj", "options": options},
            ]},
        ]},
        source="t.schema.json",
    )  # fmt: skip
    template = make_docx(
        "Rodzaj: {{ unit_kind }}",
        '{% if unit_kind == "powiat" %}Starosta{% else %}Wójt{% endif %}',
        "{% for p in partners %}{{ p.name }}={{ p.kind }}|{% endfor %}",
    )
    values = schema.validate(
        {"unit_kind": "powiat", "partners": [{"name": "Rybnik", "kind": "gmina"}, {"name": "X"}]}
    )
    text = docx_text(render_docx(template, values, name="t.docx"))
    assert text.splitlines() == ["Rodzaj: powiat", "Starosta", "Rybnik=gmina|X=None|"]
