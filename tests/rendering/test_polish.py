from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from workflow.polish.formatting import (
    format_date_long,
    format_datetime_long,
    format_money,
    to_warsaw,
)


def test_long_date_uses_the_genitive_month() -> None:
    assert format_date_long(date(2026, 11, 25)) == "25 listopada 2026 r."
    assert format_date_long(date(2027, 1, 1)) == "1 stycznia 2027 r."


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


@pytest.mark.parametrize("month", range(1, 13))
def test_every_month_has_its_genitive(month: int) -> None:
    assert format_date_long(date(2026, month, 3)) == f"3 {MONTHS_GENITIVE[month - 1]} 2026 r."
    assert format_date_long(date(2026, 3, 7)) == "7 marca 2026 r."  # no leading zero


def test_long_date_refuses_a_datetime() -> None:
    with pytest.raises(TypeError):
        format_date_long(datetime(2026, 11, 25, tzinfo=UTC))


def test_warsaw_time_follows_winter_and_summer_time() -> None:
    assert to_warsaw(datetime(2026, 11, 25, 12, 5, tzinfo=UTC)).hour == 13  # CET, UTC+1
    assert to_warsaw(datetime(2026, 7, 1, 10, 0, tzinfo=UTC)).hour == 12  # CEST, UTC+2


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_warsaw(datetime(2026, 11, 25, 12, 5))


def test_long_datetime_is_in_warsaw_time() -> None:
    moment = datetime(2026, 11, 25, 12, 5, tzinfo=UTC)
    assert format_datetime_long(moment) == "25 listopada 2026 r., godz. 13:05"
    # Late evening UTC is already the next day in Warsaw.
    late = datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(0)))
    assert format_datetime_long(late) == "1 stycznia 2027 r., godz. 00:30"


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("1234567"), "1 234 567,00 zł"),
        (Decimal("0"), "0,00 zł"),
        (Decimal("999.995"), "1 000,00 zł"),  # half up, as in accounting
        (Decimal("-1500.5"), "-1 500,50 zł"),
        (12, "12,00 zł"),
        (Decimal("0.005"), "0,01 zł"),  # half up, not Babel's half to even
        (Decimal("2.345"), "2,35 zł"),
        (Decimal("100000000000000000000"), "100 000 000 000 000 000 000,00 zł"),
    ],
)
def test_money(amount: Decimal, text: str) -> None:
    assert format_money(amount).replace("\u00a0", " ") == text


def test_money_keeps_amount_and_currency_together() -> None:
    assert format_money(Decimal("1234")) == "1\u00a0234,00\u00a0zł"


@pytest.mark.parametrize("bad", [1.5, True, "12"])
def test_money_refuses_floats_and_text(bad: object) -> None:
    with pytest.raises(TypeError):
        format_money(bad)  # type: ignore[arg-type] # the wrong type is the point of the test
