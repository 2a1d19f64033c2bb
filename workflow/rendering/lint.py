"""Check an uploaded template against its schema before anyone renders it.

docxtpl first "patches" the Word XML (joins tags split across runs, turns ``{%tr`` into
plain jinja around a table row); we lint that patched text, parsed and compiled with the
same sandboxed environment that renders, so what passes here renders later.

To say *where* a problem is, every ``w:p`` gets a numbered marker attribute before
patching; a jinja line number (docxtpl puts each paragraph on its own line) then leads
back to its paragraph. Paragraphs are counted 1-based in document order, table cells
included, per part (document body, each header and footer).

Found: jinja syntax errors; unknown filters and tests (jinja itself finds those inside an
``if`` only at render time); tags not closed in their paragraph; Polish typographic quotes
„ ‚ « » inside a tag (docxtpl fixes English curly quotes, not these); variables used but
not declared (and not system, loop or ``set`` variables); attributes that system
variables or table rows do not have; attributes of a ``choice`` value (it is the option's
value, a string: ``unit_kind.label`` would fail at render); fields declared but never used;
whatever the sandbox will always refuse (``lint_sandbox``: ``__class__``, ``attr('_x')``,
``lipsum``...).
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from docx.oxml import parse_xml
from docx.oxml.xmlchemy import BaseOxmlElement
from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from workflow.errors import ErrorCode, InvalidInput
from workflow.i18n import render_message
from workflow.rendering.engine import (
    SYSTEM_ATTRIBUTES,
    SYSTEM_VARIABLES,
    make_environment,
    open_template,
)
from workflow.rendering.fields import FieldSchema
from workflow.rendering.lint_sandbox import forbidden_names, sandbox_findings

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MARK = "estrategia-lint-p"
_MARK_RE = re.compile(_MARK + r'="(\d+)"')
_TAG_RE = re.compile(r"\{\{.*?(?:\}\}|$)|\{%.*?(?:%\}|$)")
_STATEMENT_RE = re.compile(r"\{%.*?%\}", re.DOTALL)
_REMOVED_TAGS_RE = re.compile(r"(<[^>]+>)((?:\{%.*?%\})+)", re.DOTALL)
_POLISH_QUOTES = "„‚«»"  # typographic quotes docxtpl does not straighten
_HEADER_FOOTER = (DocxTemplate.HEADER_URI, DocxTemplate.FOOTER_URI)
_TEXT_ATTRIBUTES = frozenset(name for name in dir(str) if not name.startswith("_"))
"""What a string has (``upper``, ``replace``...): all a choice value offers a template."""


@dataclass(frozen=True)
class LintProblem:
    """One problem found in a template."""

    template: str
    """Template name, as given to ``lint_template``."""
    variable: str | None
    """The variable concerned, if any."""
    paragraph: int | None
    """1-based paragraph number within ``part``, if known."""
    excerpt: str | None
    """A short piece of the paragraph's text, to find it in Word."""
    code: ErrorCode
    """What is wrong: a ``LINT_*`` code, whose message quotes ``params``."""
    params: Mapping[str, object] = field(default_factory=dict)
    part: str = "word/document.xml"

    @property
    def message(self) -> str:
        """The problem in English, without its place (for logs and tests)."""
        return render_message(self.code, self.params, "en")

    def localized(self, language: str) -> str:
        """The problem and its place (part, paragraph, excerpt) in ``language``."""
        text = render_message(self.code, self.params, language)
        where = []
        if self.part != "word/document.xml":
            where.append(self.part.removeprefix("word/"))
        if self.paragraph is not None:
            where.append(
                render_message("paragraph", {"paragraph": self.paragraph}, language, context="lint")
            )
        if self.excerpt:
            where.append(f'"{self.excerpt}"')
        return f"{text} ({', '.join(where)})" if where else text

    def __str__(self) -> str:
        return self.localized("en")


@dataclass
class _Part:
    """One templated XML part, patched as docxtpl will patch it, split into lines."""

    name: str
    paragraphs: list[str]
    """Plain text of each paragraph before patching (index 0 = paragraph 1)."""
    lines: list[str]
    numbers: list[int | None]
    """Paragraph number of each line."""

    def locate(self, lineno: int | None) -> tuple[int | None, str | None]:
        if lineno is None or not self.lines:
            return None, None
        index = min(max(lineno - 1, 0), len(self.lines) - 1)
        text = html.unescape(re.sub(r"<[^>]+>", "", self.lines[index])).strip()
        return self.numbers[index], _shorten(text) or None


def _isolate_tags(match: re.Match[str]) -> str:
    """Put each tag left by a removed ``{%p``/``{%tr`` paragraph on a line of its own."""
    element, tags = match.group(1), match.group(2)
    if element.startswith("<w:t"):  # a tag in running text, not a removed paragraph
        return match.group(0)
    return element + "".join("\n" + tag for tag in _STATEMENT_RE.findall(tags))


def _number_lines(lines: list[str]) -> list[int | None]:
    """A marked line is its paragraph; each isolated tag line is the next (removed) one."""
    numbers: list[int | None] = []
    current = 0
    for line in lines:
        match = _MARK_RE.search(line)
        if match:
            current = int(match.group(1))
        elif line.startswith("{%"):
            current += 1
        numbers.append(current or None)
    return numbers


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parts(tpl: DocxTemplate) -> Iterator[tuple[str, BaseOxmlElement]]:
    docx = tpl.get_docx()
    yield "word/document.xml", copy.deepcopy(docx._element.body)
    for rel in docx._part.rels.values():
        if rel.reltype in _HEADER_FOOTER and not rel.is_external and rel.target_part.blob:
            yield str(rel.target_part.partname).lstrip("/"), parse_xml(rel.target_part.blob)


def _prepare(tpl: DocxTemplate, name: str, element: BaseOxmlElement) -> _Part:
    paragraphs = []
    for number, paragraph in enumerate(element.iter(f"{_W}p"), start=1):
        paragraph.set(_MARK, str(number))
        paragraphs.append("".join(t.text or "" for t in paragraph.iter(f"{_W}t")))
    xml = tpl.patch_xml(tpl.xml_to_string(element))
    xml = _REMOVED_TAGS_RE.sub(_isolate_tags, xml)
    xml = re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)  # as docxtpl's render_xml_part does
    lines = xml.split("\n")
    return _Part(name, paragraphs, lines, _number_lines(lines))


def _paragraph_problems(template: str, part: _Part) -> list[LintProblem]:
    """Problems visible in one paragraph's text: unclosed tags, Polish quotes in tags.

    docxtpl requires every tag to open and close in the same paragraph; an unclosed
    ``{{ x }`` can otherwise swallow the rest of the document without any error.
    """
    problems = []
    for number, text in enumerate(part.paragraphs, start=1):

        def problem(excerpt: str, code: ErrorCode, number: int = number) -> LintProblem:
            return LintProblem(template, None, number, _shorten(excerpt), code, {}, part.name)

        if text.count("{{") != text.count("}}") or text.count("{%") != text.count("%}"):
            problems.append(problem(text, ErrorCode.LINT_UNCLOSED_TAG))
            continue
        for tag in _TAG_RE.findall(text):
            if any(quote in tag for quote in _POLISH_QUOTES):
                problems.append(problem(tag, ErrorCode.LINT_POLISH_QUOTES))
    return problems


def _loop_attributes(ast: nodes.Template, schema: FieldSchema) -> dict[str, set[str]]:
    """Attributes allowed on loop variables over tables and system lists (by loop name)."""
    allowed_by_iterable = {
        field.name: {column.name for column in field.columns}
        for field in schema.fields
        if field.type == "table"
    }
    allowed_by_iterable["parties"] = set(SYSTEM_ATTRIBUTES["parties"])
    allowed_by_iterable["signatories"] = set(SYSTEM_ATTRIBUTES["signatories"])
    loops: dict[str, set[str]] = {}
    for loop in ast.find_all(nodes.For):
        if isinstance(loop.iter, nodes.Name) and isinstance(loop.target, nodes.Name):
            allowed = allowed_by_iterable.get(loop.iter.name)
            if allowed is not None:
                loops.setdefault(loop.target.name, set()).update(allowed)
    return loops


def _attribute_problems(
    template: str, part: _Part, ast: nodes.Template, schema: FieldSchema
) -> list[LintProblem]:
    loops = _loop_attributes(ast, schema)
    tables = {f.name: {c.name for c in f.columns} for f in schema.fields if f.type == "table"}
    problems = []
    for node in ast.find_all(nodes.Getattr):
        owner, allowed = _attribute_owner(node.node, loops, tables)
        if allowed is None or node.attr in allowed or node.attr.startswith("_"):
            continue
        paragraph, excerpt = part.locate(node.lineno)
        problems.append(
            LintProblem(
                template,
                f"{owner}.{node.attr}",
                paragraph,
                excerpt,
                ErrorCode.LINT_UNKNOWN_ATTRIBUTE,
                {"variable": f"{owner}.{node.attr}", "known": sorted(allowed)},
                part.name,
            )
        )
    return problems


def _attribute_owner(
    node: nodes.Node, loops: dict[str, set[str]], tables: dict[str, set[str]]
) -> tuple[str, set[str] | None]:
    if isinstance(node, nodes.Name):
        if node.name == "document":
            return node.name, set(SYSTEM_ATTRIBUTES["document"])
        return node.name, loops.get(node.name)
    if isinstance(node, nodes.Getitem) and isinstance(node.node, nodes.Name):
        name = node.node.name  # parties[0].name, actions[0].budget
        if name in ("parties", "signatories"):
            return f"{name}[]", set(SYSTEM_ATTRIBUTES[name])
        if name in tables:
            return f"{name}[]", tables[name]
    return "", None


def _choice_problems(
    template: str, part: _Part, ast: nodes.Template, schema: FieldSchema
) -> list[LintProblem]:
    """Attributes of choice values: a choice gives the template its option's value, a
    string, so ``unit_kind.label`` (or ``row.kind.label`` in a table) fails at render."""
    examples: dict[str, str] = {}  # what a choice is named in the template -> a value
    table_columns: dict[str, dict[str, str]] = {}  # table -> its choice columns -> a value
    list_items: dict[str, str] = {}  # list of choices -> a value
    for f in schema.fields:
        if f.type == "choice":
            examples[f.name] = f.options[0].value
        elif f.type == "table":
            table_columns[f.name] = {c.name: c.options[0].value for c in f.columns if c.options}
        elif f.items is not None and f.items.type == "choice":
            list_items[f.name] = f.items.options[0].value
    rows: dict[str, dict[str, str]] = {}  # loop variable over a table -> its choice columns
    for loop in ast.find_all(nodes.For):
        if isinstance(loop.iter, nodes.Name) and isinstance(loop.target, nodes.Name):
            if loop.iter.name in list_items:
                examples[loop.target.name] = list_items[loop.iter.name]
            if table_columns.get(loop.iter.name):
                rows.setdefault(loop.target.name, {}).update(table_columns[loop.iter.name])
    problems = []
    for node in ast.find_all(nodes.Getattr):
        if node.attr in _TEXT_ATTRIBUTES or node.attr.startswith("_"):
            continue
        owner, example = _choice_owner(node.node, examples, rows, table_columns, list_items)
        if owner is None:
            continue
        paragraph, excerpt = part.locate(node.lineno)
        variable = f"{owner}.{node.attr}"
        params = {"variable": variable, "attribute": node.attr, "example": example}
        problems.append(
            LintProblem(
                template, variable, paragraph, excerpt, ErrorCode.LINT_CHOICE_ATTRIBUTE, params,
                part.name,
            )
        )  # fmt: skip
    return problems


def _choice_owner(
    node: nodes.Node,
    examples: Mapping[str, str],
    rows: Mapping[str, Mapping[str, str]],
    table_columns: Mapping[str, Mapping[str, str]],
    list_items: Mapping[str, str],
) -> tuple[str | None, str]:
    """How the template names the choice value ``node`` is (and one of its values), or
    (None, "") when ``node`` is not a choice value."""
    if isinstance(node, nodes.Name) and node.name in examples:
        return node.name, examples[node.name]  # unit_kind, or a loop variable over choices
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        columns = rows.get(node.node.name, {})
        if node.attr in columns:
            return f"{node.node.name}.{node.attr}", columns[node.attr]  # row.kind
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Getitem):
        inner = node.node.node
        if isinstance(inner, nodes.Name) and node.attr in table_columns.get(inner.name, {}):
            return f"{inner.name}[].{node.attr}", table_columns[inner.name][node.attr]
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.node, nodes.Name)
        and node.node.name in list_items
    ):
        return f"{node.node.name}[]", list_items[node.node.name]  # kinds[0]
    return None, ""


def _sandbox_problems(
    template: str, part: _Part, ast: nodes.Template, declared: frozenset[str]
) -> list[LintProblem]:
    problems = []
    for lineno, variable, code, params in sandbox_findings(ast, declared):
        paragraph, excerpt = part.locate(lineno)
        problems.append(
            LintProblem(template, variable, paragraph, excerpt, code, params, part.name)
        )
    return problems


def _unknown_filter_problems(
    template: str, part: _Part, ast: nodes.Template, env: SandboxedEnvironment
) -> list[LintProblem]:
    problems = []
    for node in ast.find_all((nodes.Filter, nodes.Test)):
        known = env.filters if isinstance(node, nodes.Filter) else env.tests
        if node.name not in known:
            code = (
                ErrorCode.LINT_UNKNOWN_FILTER
                if isinstance(node, nodes.Filter)
                else ErrorCode.LINT_UNKNOWN_TEST
            )
            paragraph, excerpt = part.locate(node.lineno)
            params = {"name": node.name}
            problems.append(
                LintProblem(template, None, paragraph, excerpt, code, params, part.name)
            )
    return problems


def _first_use(ast: nodes.Template, names: set[str]) -> dict[str, int]:
    first: dict[str, int] = {}
    for node in ast.find_all(nodes.Name):
        if node.ctx == "load" and node.name in names and node.name not in first:
            first[node.name] = node.lineno
    return first


def lint_template(docx: bytes, schema: FieldSchema, *, name: str) -> list[LintProblem]:
    """Every problem found in the template, in document order per kind; [] if it is clean."""
    tpl = open_template(docx, name=name)
    env: SandboxedEnvironment = make_environment()
    problems: list[LintProblem] = []
    used: set[str] = set()
    parsed_all = True
    for part_name, element in _parts(tpl):
        part = _prepare(tpl, part_name, element)
        text_problems = _paragraph_problems(name, part)
        problems.extend(text_problems)
        source = "\n".join(part.lines)
        try:
            ast = env.parse(source)
            env.compile(ast)  # also catches unknown filters and tests
        except TemplateSyntaxError as exc:
            parsed_all = False
            paragraph, excerpt = part.locate(exc.lineno)
            if not text_problems:  # they explain the syntax error better
                code, params = ErrorCode.LINT_SYNTAX_ERROR, {"detail": exc.message or ""}
                problems.append(
                    LintProblem(name, None, paragraph, excerpt, code, params, part.name)
                )
            continue
        except RecursionError:
            parsed_all = False
            code = ErrorCode.LINT_NESTED_TOO_DEEPLY
            problems.append(LintProblem(name, None, None, None, code, {}, part.name))
            continue
        declared = frozenset(schema.names)
        problems.extend(_sandbox_problems(name, part, ast, declared))
        unavailable = forbidden_names(ast, declared)  # reported above, not as undeclared
        referenced = meta.find_undeclared_variables(ast) - set(env.globals) - unavailable
        used |= referenced
        undeclared = referenced - set(schema.names) - SYSTEM_VARIABLES
        for variable, lineno in sorted(_first_use(ast, undeclared).items()):
            paragraph, excerpt = part.locate(lineno)
            code, params = ErrorCode.LINT_UNDECLARED_VARIABLE, {"variable": variable}
            problems.append(
                LintProblem(name, variable, paragraph, excerpt, code, params, part.name)
            )
        problems.extend(_attribute_problems(name, part, ast, schema))
        problems.extend(_choice_problems(name, part, ast, schema))
        problems.extend(_unknown_filter_problems(name, part, ast, env))
    if parsed_all:  # after a syntax error we cannot know what the template uses
        for declared_field in schema.fields:
            if declared_field.name not in used:
                code, params = ErrorCode.LINT_UNUSED_FIELD, {"variable": declared_field.name}
                problems.append(LintProblem(name, declared_field.name, None, None, code, params))
    return problems


def check_template(docx: bytes, schema: FieldSchema, *, name: str) -> None:
    """Raise ``InvalidInput("template", TEMPLATE_LINT_FAILED)`` listing every problem (its
    ``problems`` parameter: ``LintProblem``s, each said in the language of the message)."""
    problems = lint_template(docx, schema, name=name)
    if problems:
        raise InvalidInput(
            "template", ErrorCode.TEMPLATE_LINT_FAILED, template=name, problems=problems
        )
