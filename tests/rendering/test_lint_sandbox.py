"""Upload refuses templates the sandbox will always refuse (issue 6, defect 4).

Each of these was stored with 201 and broke every document created from it. Now lint
names the paragraph; legitimate templates (the shipped ones, the CLEAN paragraphs of
test_template_lint) still pass.
"""

from __future__ import annotations

import pytest

from workflow.errors import ErrorCode, InvalidInput
from workflow.rendering.fields import FieldSchema
from workflow.rendering.lint import check_template, lint_template

from .helpers import make_docx
from .test_template_lint import CLEAN, SCHEMA

INTERNAL = "is internal: templates cannot use it"
SELF_CONTEXT = "_TemplateReference__context"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", f"attribute '__class__' {INTERNAL}"),
        ("{{ cycler.__init__.__globals__ }}", "'cycler' is not available in templates"),
        ("{{ cycler.__init__.__globals__ }}", f"attribute '__init__' {INTERNAL}"),
        ("{{ goals|attr('__class__') }}", f"attribute '__class__' {INTERNAL}"),
        ("{{ lipsum.__globals__ }}", "'lipsum' is not available in templates"),
        ("{{ lipsum.__globals__ }}", f"attribute '__globals__' {INTERNAL}"),
        ("{{ self._TemplateReference__context }}", "'self' is not available in templates"),
        (
            "{{ self._TemplateReference__context }}",
            f"attribute '_TemplateReference__context' {INTERNAL}",
        ),
        ("{{ goals['__class__'] }}", f"key '__class__' {INTERNAL}"),
        ("{{ goals|attr('_private') }}", f"attribute '_private' {INTERNAL}"),
        ("{{ goals.__len__() }}", f"attribute '__len__' {INTERNAL}"),
        ("{% set f = goals.__class__ %}{{ f }}", f"attribute '__class__' {INTERNAL}"),
        # jinja joins constant pieces itself: the name it builds is checked like any other
        ("{{ goals|attr('__cla' ~ 'ss__') }}", f"attribute '__class__' {INTERNAL}"),
        ("{{ goals|attr('__cla' ~ goals[0]) }}", "'attr' needs a constant attribute name"),
        ("{{ goals|attr(goals[0]) }}", "'attr' needs a constant attribute name"),
        ("{{ goals['__cla' ~ 'ss__'] }}", f"key '__class__' {INTERNAL}"),
        ("{{ goals['__cla' ~ goals[0]] }}", "a key computed from text; use a constant name"),
        ("{{ goals|map('attr', '__class__')|list }}", f"attribute '__class__' {INTERNAL}"),
        ("{{ goals|map(attribute='__class__')|list }}", f"attribute '__class__' {INTERNAL}"),
        ("{{ actions|map(attribute='a._b')|list }}", f"attribute 'a._b' {INTERNAL}"),
        ("{{ actions|map(attribute=goals[0])|list }}", "'map' needs a constant attribute name"),
        ("{{ actions|selectattr('__class__')|list }}", f"attribute '__class__' {INTERNAL}"),
        ("{{ actions|sum(attribute='__class__') }}", f"attribute '__class__' {INTERNAL}"),
        ("{{ actions|groupby('_x')|list }}", f"attribute '_x' {INTERNAL}"),
        ("{{ actions|join(', ', '__doc__') }}", f"attribute '__doc__' {INTERNAL}"),
        ("{{ goals.mro() }}", f"attribute 'mro' {INTERNAL}"),
        ("{{ '{0.__class__}'.format(goals) }}", "a format string reaching an internal attribute"),
        ("{{ namespace(x=1) }}", "'namespace' is not available in templates"),
        ("{{ joiner() }}", "'joiner' is not available in templates"),
        ("{{ config }}", "'config' is not available in templates"),
        ("{{ request.args }}", "'request' is not available in templates"),
        ("{{ range(10000000)|length }}", "range longer than 100000 items"),
        ("{{ goals.append(1) }}", "templates cannot change lists or dicts ('append')"),
        ("{% include 'x.xml' %}", "templates cannot include, import or extend other templates"),
    ],
)
def test_what_the_sandbox_refuses_is_refused_at_upload(expression: str, message: str) -> None:
    problems = lint_template(make_docx(*CLEAN, expression), SCHEMA, name="wzor.docx")
    assert message in [p.message for p in problems], [str(p) for p in problems]
    found = next(p for p in problems if p.message == message)
    assert found.paragraph == len(CLEAN) + 1  # the paragraph it came from
    with pytest.raises(InvalidInput) as caught:
        check_template(make_docx(*CLEAN, expression), SCHEMA, name="wzor.docx")
    assert caught.value.field == "template"
    assert caught.value.code == ErrorCode.TEMPLATE_LINT_FAILED
    english = caught.value.message("en")
    assert message in english and f"paragraph {len(CLEAN) + 1}" in english
    assert f"akapit {len(CLEAN) + 1}" in caught.value.message("pl")


@pytest.mark.parametrize(
    "expression",
    [
        "{{ goals[0] }} {{ goals[-1] }} {{ goals[1:]|join(', ') }}",
        "{% for a in actions %}{{ a['action'] }} {{ a|attr('action') }}{% endfor %}",
        "{{ actions|map(attribute='budget')|sum }} {{ actions|sum(attribute='budget')|kwota }}",
        "{{ actions|selectattr('budget')|list|length }} {{ actions|sort(attribute='action') }}",
        "{% for i in range(3) %}{{ goals[i] }}{% endfor %}",
        "{{ '{:>5}'.format(goals[0]) }} {{ '%s.'|format(goals[0]) }}",
        "{% for g in goals %}{{ loop.cycle('a', 'b') }}{% if loop.last %}.{% endif %}{% endfor %}",
    ],
)
def test_legitimate_templates_still_pass(expression: str) -> None:
    assert lint_template(make_docx(*CLEAN, expression), SCHEMA, name="wzor.docx") == []


def test_a_field_named_like_a_web_global_is_a_field() -> None:
    schema = FieldSchema.parse(
        {"fields": [{"name": "request", "type": "string", "label": "Wniosek"}]}, source="t"
    )
    assert lint_template(make_docx("{{ request }}"), schema, name="t.docx") == []
