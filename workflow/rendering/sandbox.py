"""The jinja2 sandbox templates are rendered in, bounded in size, memory and time.

jinja's ``ImmutableSandboxedEnvironment`` already refuses ``''.__class__`` tricks and
changes to lists and dicts. On top of it, every way a template can build text goes through
a hook that checks the ``RenderLimits`` (``limits.py``) *before* the work is done:

- operators ``*``, ``**``, ``+``, ``%`` (``call_binop``) and ``~`` (the code generator
  emits ``environment.markup_join``/``str_join`` instead of jinja's own);
- filters (each one wrapped: ``format``, ``center``, ``indent``, ``wordwrap``, ``replace``,
  ``join``, ``batch``, ``slice``, ``sum`` checked by their arguments, all others by their
  input and result);
- method calls (``call``): ``str.center``/``ljust``/``rjust``/``zfill``/``expandtabs``/
  ``replace``/``translate``, ``str.format``/``format_map`` and ``int.to_bytes``;
- printed values (``finalize``, before they become text), buffers of macros and
  ``{% set %}`` blocks (``concat``), and each part's output (``BudgetedTemplate.render``);
- each step of every ``{% for %}`` loop (the code generator wraps the iterable).

Globals jinja adds for web pages (``lipsum``, ``cycler``, ``joiner``, ``namespace``) are
removed; ``range`` is jinja's bounded one.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

from workflow.rendering.limits import (
    RenderBudget,
    RenderLimits,
    estimate_format,
    estimate_printf,
    estimate_replace,
    estimate_str_method,
)

_REMOVED_GLOBALS = ("lipsum", "cycler", "joiner", "namespace")
_MAX_EXPONENT = 100


class BudgetedCodeGenerator(CodeGenerator):
    """jinja's code generator, with ``~`` and ``{% for %}`` routed through the budget."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = (
                "(environment.markup_join if context.eval_ctx.autoescape else environment.str_join)"
            )
        elif frame.eval_ctx.autoescape:
            join = "environment.markup_join"
        else:
            join = "environment.str_join"
        self.write(f"{join}((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        stepped = nodes.Call(
            nodes.EnvironmentAttribute("stepped", lineno=node.lineno),
            [node.iter], [], None, None, lineno=node.lineno,
        )  # fmt: skip
        copy = nodes.For(
            node.target, stepped, node.body, node.else_, node.test, node.recursive,
            lineno=node.lineno,
        )  # fmt: skip
        copy.set_environment(self.environment)
        super().visit_For(copy, frame)


class BudgetedTemplate(jinja2.Template):
    """A template whose output counts against the render's output budget as it is made."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        env = self.environment
        if not isinstance(env, TemplateSandbox):  # only TemplateSandbox makes these
            raise TypeError("a BudgetedTemplate needs a TemplateSandbox")
        ctx = self.new_context(dict(*args, **kwargs))
        try:
            chunks = []
            for chunk in self.root_render_func(ctx):
                env.budget.produce(len(chunk), "the template's output")
                chunks.append(chunk)
            return "".join(chunks)
        except Exception:
            env.handle_exception()


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """The sandbox of one render: one ``RenderBudget`` per environment."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = BudgetedCodeGenerator
    template_class = BudgetedTemplate

    def __init__(
        self, limits: RenderLimits, *, filters: dict[str, Callable[..., Any]], **options: Any
    ) -> None:
        super().__init__(finalize=self._finalize, **options)
        self.budget = RenderBudget(limits)
        for name in _REMOVED_GLOBALS:
            self.globals.pop(name, None)
        self.globals["range"] = safe_range
        self.filters.update(filters)
        for name, func in list(self.filters.items()):
            self.filters[name] = _guarded_filter(self, name, func)

    # -- hooks jinja calls ---------------------------------------------------------------

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.budget.tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.budget.tick()
        return super().getitem(obj, argument)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = __self.budget
        budget.tick()
        name = getattr(__obj, "__name__", "call")
        wrapped: Any = getattr(__obj, "__wrapped__", None)  # str.format, as the sandbox wraps it
        fmt = getattr(wrapped, "__self__", None)
        if name in ("format", "format_map") and isinstance(fmt, str):
            mapping = args[0] if name == "format_map" and args else kwargs
            positional = () if name == "format_map" else args
            budget.allow_value(estimate_format(budget, fmt, positional, mapping), f"'{name}'")
        else:
            estimate = estimate_str_method(budget, __obj, args)
            if estimate is not None:
                budget.allow_value(estimate, f"'{name}'")
        result = super().call(__context, __obj, *args, **kwargs)
        _count_result(budget, result, f"'{name}'")
        return result

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget = self.budget
        budget.tick()
        if operator == "**":
            _check_power(budget, left, right)
        elif operator == "*":
            _check_repeat(budget, left, right)
        elif operator == "+" and isinstance(left, str | list | tuple):
            budget.allow_value(budget.measure(left) + budget.measure(right), "'+'")
        elif operator == "%" and isinstance(left, str):
            budget.allow_value(estimate_printf(budget, left, right), "'%'")
        result = super().call_binop(context, operator, left, right)
        _count_result(budget, result, f"'{operator}'")
        return result

    def _finalize(self, value: Any) -> Any:
        """Every ``{{ ... }}`` before it becomes text (``str(list)`` happens in C)."""
        self.budget.tick()
        self.budget.allow_value(self.budget.measure(value), "a printed value")
        return value

    def concat(self, chunks: Iterable[str]) -> str:
        """Buffers of macros, ``{% set %}``/``{% filter %}`` blocks and ``caller()``."""
        budget, buffer, size = self.budget, [], 0
        for chunk in chunks:
            size += len(chunk)
            budget.allow_value(size, "a block")
            buffer.append(chunk)
        budget.produce(size, "a block")
        return "".join(buffer)

    def markup_join(self, seq: Iterable[Any]) -> str:
        return self._join(seq, markup_join)

    def str_join(self, seq: Iterable[Any]) -> str:
        return self._join(seq, str_join)

    def _join(self, seq: Iterable[Any], join: Callable[[Iterable[Any]], str]) -> str:
        items = list(seq)
        size = sum(self.budget.measure(item) for item in items)
        self.budget.allow_value(size, "'~'")
        self.budget.produce(size, "'~'")
        return join(items)

    def stepped(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """The iterable of a ``{% for %}``, checking the deadline at every step."""
        tick = self.budget.tick
        for item in iterable:
            tick()
            yield item


def _count_result(budget: RenderBudget, result: Any, what: str) -> None:
    if isinstance(result, str | bytes | list | tuple | dict):
        size = budget.measure(result)
        budget.allow_value(size, what)
        budget.produce(size, what)


def _check_power(budget: RenderBudget, left: Any, right: Any) -> None:
    if isinstance(right, int | float) and abs(right) > _MAX_EXPONENT:
        raise jinja2.exceptions.SecurityError("exponent too large")
    if isinstance(left, int) and isinstance(right, int) and right > 0:
        budget.allow_bits(left.bit_length() * right, "'**'")


def _check_repeat(budget: RenderBudget, left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        budget.allow_bits(left.bit_length() + right.bit_length(), "'*'")
        return
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, str | bytes | list | tuple) and isinstance(count, int) and count > 0:
            if len(seq) * count > budget.limits.items and not isinstance(seq, str | bytes):
                budget.allow_items(len(seq) * count, "'*'")
            budget.allow_value(budget.measure(seq) * count, "'*'")


# -- filters -------------------------------------------------------------------------------

Arguments = dict[str, Any]
_PASSED_NAMES = ("eval_ctx", "environment", "context")


def _check_center(budget: RenderBudget, a: Arguments) -> None:
    budget.allow_value(max(budget.measure(a["value"]), _int(a.get("width"))), "'center'")


def _check_indent(budget: RenderBudget, a: Arguments) -> None:
    text, width = a["s"], a.get("width", 4)
    lines = str(text).count("\n") + 1 if budget.measure(text) <= budget.limits.value_chars else 1
    step = budget.measure(width) if isinstance(width, str) else _int(width)
    budget.allow_value(budget.measure(text) + lines * step, "'indent'")


def _check_wordwrap(budget: RenderBudget, a: Arguments, newline: str) -> None:
    text = str(a["s"]) if budget.measure(a["s"]) <= budget.limits.value_chars else ""
    wrap = a.get("wrapstring") or newline
    breaks = text.count("\n") + 1 if _int(a.get("width")) >= len(text) else len(text)
    budget.allow_value(len(text) + breaks * budget.measure(wrap), "'wordwrap'")


def _check_replace(budget: RenderBudget, a: Arguments) -> None:
    count = a.get("count")
    estimate = estimate_replace(budget, a["s"], a["old"], a["new"], -1 if count is None else count)
    budget.allow_value(estimate, "'replace'")


def _check_format(budget: RenderBudget, a: Arguments) -> None:
    args = a.get("kwargs") or a.get("args", ())
    text = a["value"] if isinstance(a["value"], str) else ""
    budget.allow_value(estimate_printf(budget, text, args), "'format'")


def _check_join(budget: RenderBudget, a: Arguments) -> None:
    items = list(a["value"])
    budget.allow_items(len(items), "'join'")
    size = sum(budget.measure(item) for item in items)
    size += max(len(items) - 1, 0) * budget.measure(a.get("d", ""))
    budget.allow_value(size, "'join'")
    a["value"] = items  # consumed here, so handed on as a list


def _check_sum(budget: RenderBudget, a: Arguments) -> None:
    if not isinstance(a.get("start", 0), int | float):
        raise jinja2.exceptions.TemplateRuntimeError("'sum' adds numbers only")


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _checks(env: TemplateSandbox) -> dict[str, Callable[[RenderBudget, Arguments], None]]:
    return {
        "center": _check_center,
        "indent": _check_indent,
        "wordwrap": lambda b, a: _check_wordwrap(b, a, env.newline_sequence),
        "replace": _check_replace,
        "format": _check_format,
        "join": _check_join,
        "batch": lambda b, a: b.allow_items(_int(a.get("linecount")), "'batch'"),
        "slice": lambda b, a: b.allow_items(_int(a.get("slices")), "'slice'"),
        "sum": _check_sum,
    }


def _guarded_filter(
    env: TemplateSandbox, name: str, func: Callable[..., Any]
) -> Callable[..., Any]:
    check = _checks(env).get(name)
    passes_first = getattr(func, "jinja_pass_arg", None) is not None
    signature = inspect.signature(func)
    # jinja's async variants take eval_ctx without naming it in their (sync) signature.
    unnamed = passes_first and next(iter(signature.parameters), "") not in _PASSED_NAMES
    skip = 1 if unnamed else 0

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = env.budget
        budget.tick()
        value = args[1 if passes_first else 0] if len(args) > passes_first else None
        budget.allow_value(budget.measure(value), f"the input of '{name}'")
        if check is not None:
            try:
                bound = signature.bind(*args[skip:], **kwargs)
            except TypeError:
                return func(*args, **kwargs)  # raises the same TypeError with jinja's words
            bound.apply_defaults()
            check(budget, bound.arguments)
            args, kwargs = (*args[:skip], *bound.args), bound.kwargs
        result = func(*args, **kwargs)
        _count_result(budget, result, f"'{name}'")
        return result

    return guarded
