"""The portal's spending chart: its scale, bars and dates (no database)."""

from datetime import date, timedelta

import pytest

from ledger.pages.chart import spending_chart
from ledger.services.portal import DaySpending


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
