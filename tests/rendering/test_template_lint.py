from __future__ import annotations

import pytest

from workflow.errors import ErrorCode, InvalidInput
from workflow.rendering.fields import FieldSchema
from workflow.rendering.lint import LintProblem, check_template, lint_template

from .helpers import make_docx

SCHEMA = FieldSchema.parse(
    {
        "fields": [
            {"name": "goals", "type": "list", "items": {"type": "string"}, "label": "Cele"},
            {"name": "approved", "type": "boolean", "label": "Zatwierdzony"},
            {
                "name": "actions",
                "type": "table",
                "label": "Działania",
                "columns": [
                    {"name": "action", "type": "string", "label": "Działanie"},
                    {"name": "budget", "type": "decimal", "label": "Budżet"},
                ],
            },
        ]
    },
    source="test",
)
CLEAN = (
    "{{ document.place }}, {{ document.date|data_pl }}",
    "{% for goal in goals %}{{ loop.index }}) {{ goal }}{% endfor %}",
    "{% set flag = approved %}{% if flag %}Tak{% endif %}",
    "{% for a in actions %}{{ a.action }}: {{ a.budget|kwota }}{% endfor %}",
    "{% for p in parties %}{{ p.representative_name }}{% endfor %}",
)


def lint(*paragraphs: str, header: str | None = None) -> list[LintProblem]:
    return lint_template(make_docx(*paragraphs, header=header), SCHEMA, name="wzor.docx")


def test_the_real_templates_are_clean(
    letter_template: bytes,
    letter_schema: FieldSchema,
    strategy_template: bytes,
    strategy_schema: FieldSchema,
) -> None:
    assert lint_template(letter_template, letter_schema, name="list_intencyjny.docx") == []
    assert lint_template(strategy_template, strategy_schema, name="e_strategia.docx") == []


def test_a_clean_template_passes() -> None:
    assert lint(*CLEAN) == []
    check_template(make_docx(*CLEAN), SCHEMA, name="wzor.docx")


def test_syntax_error_names_template_and_paragraph() -> None:
    problems = lint(*CLEAN[:2], "Zatwierdzony: {% if approved %}tak", *CLEAN[2:])
    assert len(problems) == 1
    problem = problems[0]
    assert problem.template == "wzor.docx"
    assert problem.code == ErrorCode.LINT_SYNTAX_ERROR
    assert "endif" in str(problem.params["detail"])
    with pytest.raises(InvalidInput) as caught:
        check_template(make_docx(*CLEAN, "{{ goals | }}"), SCHEMA, name="wzor.docx")
    error = caught.value
    assert (error.field, error.code) == ("template", ErrorCode.TEMPLATE_LINT_FAILED)
    assert error.params["template"] == "wzor.docx"
    assert error.message("pl") == (
        'Szablon „wzor.docx” zawiera błędy: błąd składni szablonu (akapit 6, "{{ goals | }}").'
    )
    assert error.message("en").startswith("Template 'wzor.docx' has problems: template syntax")
    assert 'paragraph 6, "{{ goals | }}"' in error.message("en")


def test_syntax_error_paragraph_is_exact() -> None:
    [problem] = lint("Wstęp", "Akapit drugi", "{{ goals[0] + }}", "Koniec")
    assert problem.paragraph == 3
    assert problem.excerpt == "{{ goals[0] + }}"


def test_unknown_filter_is_caught() -> None:
    [problem] = lint(*CLEAN, "{{ document.date|datapl }}")
    assert problem.code == ErrorCode.LINT_SYNTAX_ERROR
    assert "No filter named 'datapl'" in str(problem.params["detail"])
    assert problem.paragraph == 6


def test_polish_quotes_inside_a_tag() -> None:
    problems = lint(
        *CLEAN, "Decyzja: {{ „Tak” if approved else „Nie” }}", "Cytat „poza tagiem” jest w porządku"
    )
    assert len(problems) == 1  # reported once, not also as the syntax error it causes
    assert problems[0].paragraph == 6
    assert problems[0].code == ErrorCode.LINT_POLISH_QUOTES
    assert problems[0].localized("pl").startswith("polski cudzysłów typograficzny")


def test_undeclared_variable() -> None:
    problems = lint(*CLEAN, "Budżet: {{ total_budget|kwota }}")
    assert [(p.variable, p.paragraph) for p in problems] == [("total_budget", 6)]
    assert problems[0].code == ErrorCode.LINT_UNDECLARED_VARIABLE
    assert problems[0].localized("pl") == (
        "zmiennej „total_budget” nie ma w schemacie pól "
        '(akapit 6, "Budżet: {{ total_budget|kwota }}")'
    )


def test_loop_and_set_variables_are_not_undeclared() -> None:
    assert (
        lint(
            *CLEAN,
            "{% set n = goals|length %}{{ n }}",
            "{% for i in range(3) %}{{ i }}{% endfor %}",
        )
        == []
    )


def test_unused_declared_variable() -> None:
    problems = lint(*CLEAN[:3], CLEAN[4])  # the actions table is never shown
    assert [(p.variable, p.paragraph) for p in problems] == [("actions", None)]
    assert problems[0].code == ErrorCode.LINT_UNUSED_FIELD


def test_unknown_attributes_of_rows_and_system_variables() -> None:
    problems = lint(
        *CLEAN,
        "{% for a in actions %}{{ a.cost }}{% endfor %}",
        "{{ document.titel }}",
        "{% for s in signatories %}{{ s.name }}{% endfor %}",
        "{{ parties[0].nazwa }}",
    )
    assert [(p.variable, p.paragraph) for p in problems] == [
        ("a.cost", 6),
        ("document.titel", 7),
        ("s.name", 8),
        ("parties[].nazwa", 9),
    ]
    assert problems[0].code == ErrorCode.LINT_UNKNOWN_ATTRIBUTE
    assert problems[0].params["known"] == ["action", "budget"]
    assert "dostępne: action, budget" in problems[0].localized("pl")


def test_problems_in_headers_name_the_part() -> None:
    [problem] = lint(*CLEAN, header="Znak: {{ document.reference }")
    assert problem.part.startswith("word/header")
    assert "header" in str(problem)


def test_table_row_loops_are_linted_as_docxtpl_patches_them(
    strategy_template: bytes, strategy_schema: FieldSchema
) -> None:
    data = strategy_schema.to_json()
    data["fields"] = [f for f in data["fields"] if f["name"] != "kpis"]
    schema = FieldSchema.parse(data, source="x")
    problems = lint_template(strategy_template, schema, name="e_strategia.docx")
    assert [p.variable for p in problems] == ["kpis"]


def test_errors_in_removed_paragraph_tags_point_at_their_own_paragraph() -> None:
    [problem] = lint("Wstęp", "Cele:", "{%p for goal in %}", "{{ goal }}", "{%p endfor %}", *CLEAN)
    assert problem.paragraph == 3
    assert problem.excerpt == "{% for goal in %}"


def test_an_unclosed_tag_is_reported_before_it_swallows_the_document() -> None:
    problems = lint(*CLEAN, "{%p for goal in goals %}", "{{ goal }", "{%p endfor %}")
    assert [(p.paragraph, p.excerpt) for p in problems] == [(7, "{{ goal }")]
    assert problems[0].code == ErrorCode.LINT_UNCLOSED_TAG


def test_unknown_filters_and_tests_inside_conditions() -> None:
    problems = lint(*CLEAN, "{% if approved is zatwierdzony %}{{ goals|lista }}{% endif %}")
    assert [(p.code, p.params) for p in problems] == [
        (ErrorCode.LINT_UNKNOWN_TEST, {"name": "zatwierdzony"}),
        (ErrorCode.LINT_UNKNOWN_FILTER, {"name": "lista"}),
    ]
    assert {p.paragraph for p in problems} == {6}


def test_an_expression_nested_too_deeply_is_a_problem_not_a_crash() -> None:
    """Found by fuzzing the upload: 2,000 nested parentheses overflowed the parser."""
    deep = "{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}"
    problems = lint_template(
        make_docx(deep), FieldSchema.parse({"fields": []}, source="t"), name="t"
    )
    assert [p.code for p in problems] == [ErrorCode.LINT_NESTED_TOO_DEEPLY]


CHOICES = FieldSchema.parse(
    {"fields": [
        {"name": "unit_kind", "type": "choice", "label": "Rodzaj",
         "options": [{"value": "gmina", "label": "gmina", "label_en": "municipality"}]},
        {"name": "kinds", "type": "list", "label": "Rodzaje",
         "items": {"type": "choice", "options": [{"value": "powiat", "label": "powiat"}]}},
        {"name": "partners", "type": "table", "label": "Partnerzy", "columns": [
            {"name": "name", "type": "string", "label": "Nazwa"},
            {"name": "kind", "type": "choice", "label": "Rodzaj",
             "options": [{"value": "miasto", "label": "miasto"}]},
        ]},
    ]},
    source="choices",
)  # fmt: skip
CHOICES_CLEAN = (
    "{{ unit_kind }} {{ unit_kind.upper() }}",
    '{% if unit_kind == "gmina" %}Wójt{% endif %}',
    "{% for k in kinds %}{{ k }}{% endfor %} {{ kinds[0] }}",
    "{% for p in partners %}{{ p.name }}: {{ p.kind|upper }}{% endfor %}",
)


def test_a_choice_is_text_to_lint() -> None:
    assert lint_template(make_docx(*CHOICES_CLEAN), CHOICES, name="wybor.docx") == []
    check_template(make_docx(*CHOICES_CLEAN), CHOICES, name="wybor.docx")


@pytest.mark.parametrize(
    ("paragraph", "variable", "example"),
    [
        ("{{ unit_kind.label }}", "unit_kind.label", "gmina"),
        ("{% for k in kinds %}{{ k.label_en }}{% endfor %}", "k.label_en", "powiat"),
        ("{{ kinds[0].value }}", "kinds[].value", "powiat"),
        ("{% for p in partners %}{{ p.kind.label }}{% endfor %}", "p.kind.label", "miasto"),
        ("{{ partners[0].kind.label }}", "partners[].kind.label", "miasto"),
    ],
)
def test_an_attribute_of_a_choice_value_is_a_problem(
    paragraph: str, variable: str, example: str
) -> None:
    problems = lint_template(make_docx(*CHOICES_CLEAN, paragraph), CHOICES, name="wybor.docx")
    assert [(p.code, p.variable, p.paragraph) for p in problems] == [
        (ErrorCode.LINT_CHOICE_ATTRIBUTE, variable, 5)
    ]
    attribute = variable.rsplit(".", 1)[1]
    expected = (
        f"„{variable}”: pole wyboru daje szablonowi wartość opcji, czyli tekst "
        f"(np. „{example}”), bez atrybutu „{attribute}”"
    )
    assert problems[0].localized("pl").startswith(expected)
