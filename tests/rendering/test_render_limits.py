"""A render is bounded in the size of each value, its whole output and its time.

Each case once rendered for seconds to minutes and took hundreds of MB to GB (issue 6,
defect 3: ``'%0200000000d'|format(1)`` took 19 s and 1.1 GB); now it stops before the
expensive step with an ``InvalidInput`` naming the limit.
"""

from __future__ import annotations

import pytest

from workflow.errors import ErrorCode, InvalidInput
from workflow.rendering.engine import render_docx
from workflow.rendering.limits import RenderLimits

from .helpers import docx_text, make_docx

# (code, its params, the limit named in the Polish and the English message)
Limit = tuple[set[ErrorCode], dict[str, object], str, str]
VALUE: Limit = (
    {ErrorCode.TEMPLATE_VALUE_LIMIT},
    {"limit": "1 MB"},
    "limit rozmiaru pojedynczej wartości 1 MB",
    "value size limit 1 MB",
)
OUTPUT: Limit = (
    {ErrorCode.TEMPLATE_OUTPUT_LIMIT},
    {"limit": "20 MB"},
    "limit rozmiaru wyniku 20 MB",
    "output size limit 20 MB",
)
NUMBER: Limit = (
    {ErrorCode.TEMPLATE_NUMBER_LIMIT},
    {"limit": 10000},
    "limit wielkości liczby 10000 bitów",
    "number size limit 10000 bits",
)
ITEMS: Limit = (
    {ErrorCode.TEMPLATE_ITEM_LIMIT},
    {"limit": 100000},
    "limit liczby elementów 100000",
    "item count limit 100000",
)
# value or output: whichever comes first
SIZE: Limit = (VALUE[0] | OUTPUT[0], {}, "limit rozmiaru", "size limit")

DOUBLING = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% else %}0123456789{% endif %}{% endmacro %}"  # noqa: E501 (one template line)
SIX_TIMES_B = "{{ b * b * b * b * b * b }}"
NESTED_LISTS = "".join([f"{{% set l{i + 1} = [l{i}, l{i}] %}}" for i in range(40)])


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ '%0200000000d'|format(1) }}", VALUE),
        ("{{ x|center(50000000) }}", VALUE),
        ("{{ '%0200000000d' % 1 }}", VALUE),
        ("{{ '%*d' % (200000000, 1) }}", VALUE),
        ("{{ '%.200000000f'|format(1.5) }}", VALUE),
        ("{{ '{:>100000000}'.format(1) }}", VALUE),
        ("{{ '{:{w}}'.format(1, w=100000000) }}", VALUE),
        ("{{ '{0:>100000000}'.format_map({}) }}", VALUE),
        ("{{ 'x' * 100000000 }}", VALUE),
        ("{{ [big] * 100 }}", VALUE),
        ("{{ x.center(100000000) }}", VALUE),
        ("{{ x.ljust(100000000) }}", VALUE),
        ("{{ x.rjust(100000000) }}", VALUE),
        ("{{ x.zfill(100000000) }}", VALUE),
        ("{{ (x ~ '\\t').expandtabs(100000000) }}", VALUE),
        ("{{ (x * 1000).replace('a', x * 100000) }}", VALUE),
        ("{{ (x * 1000).translate({97: x * 100000}) }}", VALUE),
        ("{{ (1).to_bytes(100000000, 'big') }}", VALUE),
        ("{{ x|indent(100000000, true) }}", VALUE),
        ("{{ ('a\\n' * 20)|indent(x * 100000, true, true) }}", VALUE),
        ("{{ (x * 1000)|replace('a', x * 100000) }}", VALUE),
        ("{{ range(100000)|join(x * 1000) }}", VALUE),
        ("{{ ((x ~ ' ') * 400000)|wordwrap(1) }}", VALUE),
        ("{{ (x * 100000)|wordwrap(1, wrapstring=x * 100) }}", VALUE),
        ("{{ big ~ big }}", VALUE),
        ("{{ big + big }}", VALUE),
        ("{{ [big] + [big] }}", VALUE),
        ("{% set l0 = [x] %}" + NESTED_LISTS + "{{ l40 }}", VALUE),
        ("{% set s %}{% for i in range(100000) %}" + "y" * 100 + "{% endfor %}{% endset %}", VALUE),
        ("{% for i in range(100000) %}" + "y" * 1000 + "{% endfor %}", OUTPUT),
        ("{% for i in range(100000) %}{{ big }}{% endfor %}", OUTPUT),
        ("{{ range(100000)|map('center', 100000)|list|length }}", OUTPUT),
        (DOUBLING + "{{ f(40) }}", SIZE),
        ("{% set a = 10 ** 100 %}{% set b = a ** 100 %}{{ b ** 100 }}", NUMBER),
        ("{% set a = 7 ** 99 %}{% set b = a * a * a * a * a * a * a %}" + SIX_TIMES_B, NUMBER),
        ("{{ range(10)|batch(100000000, x)|list }}", ITEMS),
        ("{{ range(10)|slice(100000000)|list }}", ITEMS),
    ],
)
def test_a_render_stops_at_its_limits(template: str, expected: Limit) -> None:
    codes, params, polish, english = expected
    context = {"x": "a", "big": "b" * 600_000}
    with pytest.raises(InvalidInput) as caught:
        render_docx(make_docx(template), context, name="t.docx")
    error = caught.value
    assert error.field == "template"
    assert error.code in codes, error
    assert params.items() <= error.params.items()
    assert error.params["template"] == "t.docx"
    assert polish in error.message("pl") and "„t.docx”" in error.message("pl")
    assert english in error.message("en")


@pytest.mark.parametrize(
    "template",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{% for c in x * 90000 %}{% endfor %}{% endfor %}",
        DOUBLING.replace("0123456789", "") + "{{ f(60) }}",
    ],
)
def test_a_render_stops_at_its_time_limit(template: str) -> None:
    limits = RenderLimits(seconds=0.5)
    with pytest.raises(InvalidInput) as caught:
        render_docx(make_docx(template), {"x": "a"}, name="t.docx", limits=limits)
    error = caught.value
    assert (error.code, error.params["seconds"]) == (ErrorCode.TEMPLATE_TIME_LIMIT, "0.5")
    assert "limit czasu wypełniania 0.5 s" in error.message("pl")
    assert "render time limit 0.5 s" in error.message("en")


def test_ordinary_uses_of_the_bounded_operations_still_work() -> None:
    template = make_docx(
        "{{ '%05d'|format(42) }}|{{ 'ab'|center(6) }}|{{ goals|join(', ') }}",
        "{{ '{:>4}'.format('x') }}|{{ 'x'.zfill(3) }}|{{ 'a-b'|replace('-', ' i ') }}",
        "{{ '%s/%s' % (1, 2) }}|{{ 'ab' * 2 }}|{{ [1] + [2] }}|{{ 'x' ~ 1 }}|{{ 2 ** 10 }}",
        "{% for g in goals %}{{ loop.index }}{{ loop.length }}{% endfor %}"
        "|{{ 'a b c'|wordwrap(3) }}",
    )
    text = docx_text(render_docx(template, {"goals": ["e-usługi", "dane"]}, name="t.docx"))
    assert text.split("\n")[:4] == [
        "00042|  ab  |e-usługi, dane",
        "   x|00x|a i b",
        "1/2|abab|[1, 2]|x1|1024",
        "1222|a b",
    ]
