"""What the sandbox will always refuse, found in a template's syntax tree at upload.

The sandbox stays the guard at render time; this walk only makes sure that a template
which can never render (``''.__class__.__mro__``, ``x|attr('__class__')``,
``lipsum.__globals__``, ``self._TemplateReference__context``) is refused at upload with
the paragraph it came from, instead of breaking every document made from it.

Refused: attributes and constant keys starting with ``_`` and Python's internal ones;
keys computed from text (``x['__cla' ~ 'ss__']``); ``attr`` and ``attribute=`` arguments
that are not constant names or that start with ``_``; format strings reaching ``._`` or
``[_``; globals this environment does not provide (``lipsum``, ``cycler``, ``joiner``,
``namespace``, ``self``) or that belong to web frameworks (``config``, ``request``...);
``range`` with constant bounds longer than the sandbox allows; methods that change lists
and dicts; ``include``/``import``/``extends``.
"""

from __future__ import annotations

from collections.abc import Iterator

from jinja2 import nodes
from jinja2.sandbox import MAX_RANGE

from workflow.errors import ErrorCode

#: Globals jinja offers that our environment removes, and the names that mean the template
#: was written for another system (web frameworks): never a field of ours.
UNAVAILABLE_NAMES = frozenset({"lipsum", "cycler", "joiner", "namespace", "self"})
WEB_NAMES = frozenset({"config", "request", "session", "g", "url_for", "get_flashed_messages"})

#: Attributes the sandbox refuses although they do not start with "_" (jinja.sandbox).
_INTERNAL_ATTRIBUTES = frozenset(
    {"mro", "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "ag_code",
     "ag_frame", "f_globals", "f_locals", "f_builtins", "f_code", "f_back", "tb_frame",
     "func_globals", "func_code"}
)  # fmt: skip
_MUTATORS = frozenset(
    {"append", "extend", "insert", "pop", "popitem", "remove", "clear", "update",
     "setdefault", "add", "discard", "difference_update", "intersection_update",
     "symmetric_difference_update"}
)  # fmt: skip
#: Filters whose positional argument at this index names an attribute.
_ATTRIBUTE_ARGUMENT = {
    "attr": 0, "selectattr": 0, "rejectattr": 0, "groupby": 0, "sum": 0,
    "join": 1, "unique": 1, "min": 1, "max": 1, "sort": 2,
}  # fmt: skip

Finding = tuple[int, str | None, ErrorCode, dict[str, object]]
"""(line, variable, code, params): a ``LINT_*`` code and what its message quotes"""


def sandbox_findings(ast: nodes.Template, declared: frozenset[str]) -> list[Finding]:
    """Everything in ``ast`` the sandbox refuses, in document order."""
    found: list[Finding] = []
    for node in ast.find_all(nodes.Node):
        found.extend(_check(node, declared))
    return sorted(found, key=lambda finding: finding[0])


def forbidden_names(ast: nodes.Template, declared: frozenset[str]) -> set[str]:
    """Names ``sandbox_findings`` reports (so lint does not call them undeclared too)."""
    return {
        node.name
        for node in ast.find_all(nodes.Name)
        if node.ctx == "load" and _unavailable(node.name, declared)
    }


def _unavailable(name: str, declared: frozenset[str]) -> bool:
    return name in UNAVAILABLE_NAMES or (name in WEB_NAMES and name not in declared)


def _check(node: nodes.Node, declared: frozenset[str]) -> Iterator[Finding]:
    line = node.lineno
    if isinstance(node, nodes.Getattr):
        yield from _attribute_name(line, node.attr)
    elif isinstance(node, nodes.Getitem):
        yield from _key(line, node.arg)
    elif isinstance(node, nodes.Filter):
        yield from _filter(line, node)
    elif isinstance(node, nodes.Name) and node.ctx == "load" and _unavailable(node.name, declared):
        yield line, node.name, ErrorCode.LINT_NAME_UNAVAILABLE, {"name": node.name}
    elif isinstance(node, nodes.Call):
        yield from _call(line, node)
    elif isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
        yield line, None, ErrorCode.LINT_NO_INCLUDE, {}


def _attribute_name(
    line: int, name: str, code: ErrorCode = ErrorCode.LINT_INTERNAL_ATTRIBUTE
) -> Iterator[Finding]:
    for part in name.split("."):
        if part.startswith("_") or part in _INTERNAL_ATTRIBUTES:
            yield line, None, code, {"name": name}
            return


def _key(line: int, key: nodes.Expr) -> Iterator[Finding]:
    if isinstance(key, nodes.Const):
        if isinstance(key.value, str):
            yield from _attribute_name(line, key.value, ErrorCode.LINT_INTERNAL_KEY)
    elif isinstance(key, nodes.Concat) or any(
        isinstance(const.value, str) for const in key.find_all(nodes.Const)
    ):
        yield line, None, ErrorCode.LINT_COMPUTED_KEY, {}


def _filter(line: int, node: nodes.Filter) -> Iterator[Finding]:
    args = list(node.args)
    name = node.name
    if name == "map" and args and isinstance(args[0], nodes.Const) and args[0].value == "attr":
        name, args = "attr", args[1:]  # map('attr', name) applies attr to each item
    index = _ATTRIBUTE_ARGUMENT.get(name)
    named = [kw.value for kw in node.kwargs if kw.key == "attribute"]
    if index is not None and len(args) > index:
        named.append(args[index])
    elif name == "attr":
        yield line, None, ErrorCode.LINT_ATTR_NEEDS_NAME, {}
    for value in named:
        if not isinstance(value, nodes.Const) or not isinstance(value.value, str | int):
            yield line, None, ErrorCode.LINT_CONSTANT_ATTRIBUTE, {"name": name}
        elif isinstance(value.value, str):
            yield from _attribute_name(line, value.value)


def _call(line: int, node: nodes.Call) -> Iterator[Finding]:
    func = node.node
    if isinstance(func, nodes.Getattr) and func.attr in _MUTATORS:
        yield line, None, ErrorCode.LINT_MUTATOR, {"name": func.attr}
    if (
        isinstance(func, nodes.Getattr)
        and func.attr in ("format", "format_map")
        and isinstance(func.node, nodes.Const)
        and isinstance(func.node.value, str)
        and any(marker in func.node.value for marker in ("._", "[_"))
    ):
        yield line, None, ErrorCode.LINT_FORMAT_INTERNAL, {}
    if isinstance(func, nodes.Name) and func.name == "range":
        bounds = [a.value for a in node.args if isinstance(a, nodes.Const)]
        if len(bounds) == len(node.args) and all(isinstance(b, int) for b in bounds):
            try:
                length = len(range(*bounds))
            except (TypeError, ValueError, OverflowError):
                length = MAX_RANGE + 1
            if length > MAX_RANGE:
                yield line, None, ErrorCode.LINT_RANGE_TOO_LONG, {"limit": MAX_RANGE}
