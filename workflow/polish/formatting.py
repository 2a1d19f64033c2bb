"""Polish formatting of dates, times and money for documents.

Written out by hand instead of through ``locale``: the process locale is global, rarely
has ``pl_PL`` generated on servers, and ``strftime("%B")`` gives the nominative month
("listopad") where a date needs the genitive ("25 listopada 2026 r.").
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")

MONTHS_GENITIVE = (
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
)

#: Thousands separator: a no-break space keeps "1 234 567,00 zł" on one line in Word and
#: LibreOffice; pdftotext returns it as U+00A0, so readers normalise it to a space.
THOUSANDS_SEPARATOR = "\u00a0"

_GROSZ = Decimal("0.01")


def format_date_long(d: date) -> str:
    """``date(2026, 11, 25)`` -> ``"25 listopada 2026 r."``."""
    if isinstance(d, datetime):
        # A datetime would silently lose its time zone here; callers must choose.
        raise TypeError("format_date_long() takes a date; use format_datetime_long()")
    if not isinstance(d, date):
        raise TypeError(f"format_date_long() takes a date, not {type(d).__name__}")
    return f"{d.day} {MONTHS_GENITIVE[d.month - 1]} {d.year} r."


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
    rounded = value.quantize(_GROSZ, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    groups = []
    while whole:
        groups.append(whole[-3:])
        whole = whole[:-3]
    grouped = THOUSANDS_SEPARATOR.join(reversed(groups))
    return f"{sign}{grouped},{fraction}{THOUSANDS_SEPARATOR}zł"
