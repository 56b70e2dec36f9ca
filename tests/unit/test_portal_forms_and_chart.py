"""Amounts as people type them, and the spending chart's scale (no database)."""

from datetime import date, timedelta

import pytest

from ledger.errors import ValidationFailed
from ledger.pages.chart import spending_chart
from ledger.pages.forms import amount
from ledger.services.portal import DaySpending


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("50,000", "KRW", 50000),
        (" 1200 ", "KRW", 1200),
        ("19.99", "USD", 1999),
        ("19.9", "USD", 1990),
        ("1,234.05", "USD", 123405),
        ("5", "USD", 500),
        ("", "KRW", None),
    ],
)
def test_amounts_are_read_in_major_units(text, currency, minor):
    assert amount(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("12.5", "KRW"),
        ("1.999", "USD"),
        ("-5", "KRW"),
        ("1e3", "KRW"),
        ("1,00", "KRW"),
        ("₩5", "KRW"),
    ],
)
def test_anything_else_is_refused(text, currency):
    with pytest.raises(ValidationFailed):
        amount(text, currency)


def _days(amounts):
    first = date(2026, 11, 1)
    return [DaySpending(first + timedelta(days=n), a) for n, a in enumerate(amounts)]


def test_the_chart_scale_rounds_up_to_a_1_2_5_step():
    chart = spending_chart(_days([0] * 28 + [15_800, 4_000]), "KRW")
    assert [tick.label for tick in chart.gridlines] == [
        "₩0",
        "₩5,000",
        "₩10,000",
        "₩15,000",
        "₩20,000",
    ]
    tallest, smallest = chart.bars[28], chart.bars[29]
    assert tallest.height == pytest.approx((chart.bottom - chart.gridlines[-1].position) * 0.79)
    assert smallest.height < tallest.height
    assert chart.bars[0].height == 0
    assert chart.total == 19_800
    assert [tick.label for tick in chart.dates][-1] == "11-30"


def test_a_month_without_spending_draws_an_empty_scale():
    chart = spending_chart(_days([0] * 30), "USD")
    assert {bar.height for bar in chart.bars} == {0}
    assert chart.gridlines[-1].label == "$20.00"
