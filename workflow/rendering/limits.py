"""What one render may cost, and how the sandbox measures it before paying.

Python cannot interrupt C code, so the sandbox never lets a C call start whose result would
be larger than ``RenderLimits.value_chars``: widths, counts and repetitions are checked
before ``str.center``, ``'%0200000000d' % 1`` or ``'x' * n`` run (``estimate_*`` below).
Everything the render produces is added to one budget (``output_chars``), and every hook of
the sandbox (attribute, call, operator, loop step, filter, output) checks the deadline
(``seconds``); with every single step bounded, a render stops within about a step of it.

Sizes are counted in characters of text: ``text_size`` is an upper bound on
``len(str(value))`` that stops counting once it passes the cap, so measuring a value costs
at most about ``cap`` steps however the value is nested or shared.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from string import Formatter
from typing import Any

from jinja2.exceptions import SecurityError

from workflow.errors import ErrorCode


@dataclass(frozen=True)
class RenderLimits:
    """Ceilings for one render of one template (all its XML parts)."""

    value_chars: int = 1_000_000
    """Largest single value (text, list, number as text) a template may build or print."""
    output_chars: int = 20_000_000
    """All text a render produces: its XML parts and every value built on the way."""
    seconds: float = 10.0
    """Wall-clock time of one render, from opening the .docx to the last XML part."""
    number_bits: int = 10_000
    """Largest integer a template may compute (about 3,000 digits)."""
    items: int = 100_000
    """Largest list or number of slices/batches a template may build (jinja's MAX_RANGE)."""

    def value_limit(self) -> str:
        return f"value size limit {_megabytes(self.value_chars)}"

    def output_limit(self) -> str:
        return f"output size limit {_megabytes(self.output_chars)}"

    def time_limit(self) -> str:
        return f"render time limit {self.seconds:g} s"


def _megabytes(chars: int) -> str:
    return f"{chars / 1_000_000:g} MB"


class LimitExceeded(SecurityError):
    """A render stopped at one of its ``RenderLimits``; ``limit`` names it (in English, for
    logs), ``code`` and ``params`` say it to a user (the limit's value, the detail)."""

    def __init__(self, code: ErrorCode, limit: str, detail: str, /, **params: object) -> None:
        super().__init__(f"{limit} ({detail})")
        self.limit = limit
        self.detail = detail
        self.code = code
        self.params: dict[str, object] = {**params, "detail": detail}


class RenderBudget:
    """The limits of one render and what it has used of them (one per environment)."""

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.produced = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(
                ErrorCode.TEMPLATE_TIME_LIMIT,
                self.limits.time_limit(),
                "the template is still running",
                seconds=f"{self.limits.seconds:g}",
            )

    def allow_value(self, size: int, what: str) -> None:
        """Refuse, before it is built, a value of ``size`` characters."""
        if size > self.limits.value_chars:
            raise LimitExceeded(
                ErrorCode.TEMPLATE_VALUE_LIMIT,
                self.limits.value_limit(),
                f"{what} would make {size:,} chars",
                limit=_megabytes(self.limits.value_chars),
            )

    def allow_items(self, count: int, what: str) -> None:
        if count > self.limits.items:
            raise LimitExceeded(
                ErrorCode.TEMPLATE_ITEM_LIMIT,
                f"item count limit {self.limits.items}",
                f"{what}: {count:,}",
                limit=self.limits.items,
            )

    def allow_bits(self, bits: int, what: str) -> None:
        if bits > self.limits.number_bits:
            raise LimitExceeded(
                ErrorCode.TEMPLATE_NUMBER_LIMIT,
                f"number size limit {self.limits.number_bits} bits",
                f"{what} would have {bits:,} bits",
                limit=self.limits.number_bits,
            )

    def produce(self, size: int, what: str) -> None:
        """Count ``size`` characters made by the render (and check the deadline)."""
        self.tick()
        self.produced += size
        if self.produced > self.limits.output_chars:
            raise LimitExceeded(
                ErrorCode.TEMPLATE_OUTPUT_LIMIT,
                self.limits.output_limit(),
                f"at {what}",
                limit=_megabytes(self.limits.output_chars),
            )

    def measure(self, value: object) -> int:
        return text_size(value, self.limits.value_chars)


def text_size(value: object, cap: int) -> int:
    """An upper bound on ``len(str(value))``, or some number above ``cap``."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        total += _own_size(item)
        if total > cap:
            return total
        if isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
    return total


def _own_size(item: object) -> int:
    if isinstance(item, str | bytes):
        return len(item)
    if isinstance(item, bool) or item is None:
        return 5
    if isinstance(item, int):
        return item.bit_length() * 3 // 10 + 2
    if isinstance(item, Decimal):
        if not item.is_finite():
            return 10
        _sign, digits, exponent = item.as_tuple()
        return len(digits) + abs(int(exponent)) + 3  # "{:f}" writes every zero
    if isinstance(item, Mapping):
        return 2 + 4 * len(item)
    if isinstance(item, list | tuple | set | frozenset):
        return 2 + 2 * len(item)
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return len(type(item).__name__) + 2 + sum(len(f.name) + 3 for f in dataclasses.fields(item))
    return 330  # floats ("%f" of 1e308), dates, and the short reprs of other objects


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.)", re.DOTALL)


def _spec_number(text: str) -> int:
    return int(text) if len(text) < 12 else 10**12


def estimate_printf(budget: RenderBudget, fmt: str, args: object) -> int:
    """Upper bound on ``len(fmt % args)``."""
    values: Iterable[object]
    if isinstance(args, tuple):
        values = args
    elif isinstance(args, Mapping):
        values = args.values()
    else:
        values = (args,)
    values = list(values)
    stars = max((abs(v) for v in values if isinstance(v, int)), default=0)
    sizes = [budget.measure(v) for v in values]
    size = len(fmt) + sum(sizes)
    for match in _PRINTF.finditer(fmt):
        for part in (match.group(1), match.group(2)):
            if part == "*":
                size += stars
            elif part:
                size += _spec_number(part)
        if isinstance(args, Mapping):
            size += max(sizes, default=0)  # %(name)s may repeat one value
        size += 330
    return size


def estimate_format(budget: RenderBudget, fmt: str, args: tuple[Any, ...], kwargs: Any) -> int:
    """Upper bound on ``fmt.format(*args, **kwargs)`` (and ``format_map``)."""
    values = [*args, *(kwargs.values() if isinstance(kwargs, Mapping) else ())]
    largest = max((budget.measure(v) for v in values), default=0)
    widest = max((abs(v) for v in values if isinstance(v, int)), default=0)
    size = 0
    try:
        fields = list(Formatter().parse(fmt))
    except ValueError:
        return len(fmt)  # str.format raises the same error itself
    for literal, field, spec, _conversion in fields:
        size += len(literal)
        if field is None:
            continue
        size += largest + 330
        if spec and "{" in spec:
            size += widest  # a nested field such as {:{width}}
        size += sum(_spec_number(n) for n in re.findall(r"\d+", spec or ""))
    return size


def estimate_str_method(budget: RenderBudget, method: Any, args: tuple[Any, ...]) -> int | None:
    """Upper bound on the result of a growing ``str``/``bytes``/``int`` method, else None."""
    owner, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
    if isinstance(owner, int) and not isinstance(owner, bool) and name == "to_bytes":
        return _int_arg(args, 0, 1)
    if not isinstance(owner, str | bytes):
        return None
    if name in ("center", "ljust", "rjust", "zfill"):
        return max(len(owner), _int_arg(args, 0, 0))
    if name == "expandtabs":
        tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
        return len(owner) + tabs * max(_int_arg(args, 0, 8), 1)
    if name == "replace" and len(args) >= 2:
        return estimate_replace(budget, owner, args[0], args[1], args[2] if len(args) > 2 else -1)
    if name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((budget.measure(v) for v in args[0].values()), default=1)
        return len(owner) * max(longest, 1)
    return None


def _int_arg(args: tuple[Any, ...], index: int, default: int) -> int:
    value = args[index] if len(args) > index else default
    return value if isinstance(value, int) else default


def estimate_replace(budget: RenderBudget, text: Any, old: Any, new: Any, count: Any) -> int:
    if not isinstance(text, str | bytes):
        text = str(text) if budget.measure(text) <= budget.limits.value_chars else ""
    if isinstance(text, bytes):
        found = text.count(old) if isinstance(old, bytes) else 0  # else the call raises
    else:
        found = text.count(old if isinstance(old, str) else str(old))
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    growth = budget.measure(new) - budget.measure(old)
    return len(text) + found * max(growth, 0)
