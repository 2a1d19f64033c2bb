"""Polish formatting of dates, times and money for documents.

Through Babel's copy of CLDR, not ``locale``: the process locale is global, rarely has
``pl_PL`` generated on servers, and ``strftime("%B")`` gives the nominative month
("listopad") where a date needs the genitive ("25 listopada 2026 r."). CLDR's long Polish
date has the genitive; the "r." (roku) of Polish official letters is added here. Amounts
are grouped with a no-break space (U+00A0), which keeps "1 234 567,00 zł" on one line in
Word and LibreOffice; pdftotext returns it as U+00A0, so readers normalise it to a space.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_currency

WARSAW = ZoneInfo("Europe/Warsaw")

_GROSZ = Decimal("0.01")


def format_date_long(d: date) -> str:
    """``date(2026, 11, 25)`` -> ``"25 listopada 2026 r."``."""
    if isinstance(d, datetime):
        # A datetime would silently lose its time zone here; callers must choose.
        raise TypeError("format_date_long() takes a date; use format_datetime_long()")
    if not isinstance(d, date):
        raise TypeError(f"format_date_long() takes a date, not {type(d).__name__}")
    return f"{format_date(d, 'long', locale='pl')} r."


def to_warsaw(dt: datetime) -> datetime:
    """Convert an aware datetime (normally UTC) to Polish civil time (CET/CEST)."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("naive datetime: give a timezone-aware datetime (UTC)")
    return dt.astimezone(WARSAW)


def format_datetime_long(dt: datetime) -> str:
    """Aware ``datetime`` -> ``"25 listopada 2026 r., godz. 13:05"`` in Warsaw time."""
    local = to_warsaw(dt)
    return f"{format_date_long(local.date())}, godz. {local:%H:%M}"


def format_money(amount: Decimal | int) -> str:
    """``Decimal("1234567")`` -> ``"1 234 567,00 zł"`` (no-break spaces, rounded half up).

    Floats are refused: money that went through binary floating point is already wrong.
    """
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"format_money() takes a Decimal or int, not {type(amount).__name__}")
    value = Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount}")
    # Rounded here: Babel rounds half to even, accounting rounds half up.
    rounded = value.quantize(_GROSZ, rounding=ROUND_HALF_UP)
    return format_currency(rounded, "PLN", locale="pl_PL")
