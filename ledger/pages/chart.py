"""The portal's spending chart, drawn on the server as SVG (no script, nothing to load).

`spending_chart(days, currency)` lays out one bar per day on a scale rounded up to a
1-2-5 step, with four gridlines labelled in the currency and a date every week.
The template (`portal/_chart.html`) only draws what this computes.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.pages.formatting import format_money
from ledger.services.portal import DaySpending

WIDTH, HEIGHT = 720, 220
# The least amount the scale reaches, in minor units (₩1,000; $10.00): a quiet month
# still reads as small.
LEAST_TOP = 1000
LEFT, RIGHT, TOP, BOTTOM = 76, 8, 10, 26
GRIDLINES = 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str  # shown on hover


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: float
    bottom: float
    bars: list[Bar]
    gridlines: list[Tick]  # y positions, labelled with the amount
    dates: list[Tick]  # x positions, labelled with the day
    total: int


def _scale_top(largest: int) -> int:
    """The smallest 1-2-5 step times GRIDLINES that reaches `largest` (minor units)."""
    raw = max(1, -(-largest // GRIDLINES))
    magnitude = 10 ** (len(str(raw)) - 1)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return step * GRIDLINES


def spending_chart(days: Sequence[DaySpending], currency: str) -> Chart:
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_height
    top = _scale_top(max([LEAST_TOP, *(d.amount for d in days)]))
    slot = plot_width / max(1, len(days))
    bars = []
    for n, day in enumerate(days):
        height = plot_height * day.amount / top
        bars.append(
            Bar(
                x=round(LEFT + n * slot + slot * 0.15, 2),
                y=round(bottom - height, 2),
                width=round(slot * 0.7, 2),
                height=round(height, 2),
                title=f"{day.day.isoformat()}: {format_money(day.amount, currency)}",
            )
        )
    gridlines = [
        Tick(
            round(bottom - plot_height * i / GRIDLINES, 2),
            format_money(top * i // GRIDLINES, currency),
        )
        for i in range(GRIDLINES + 1)
    ]
    last = len(days) - 1
    dates = [
        Tick(round(LEFT + n * slot + slot / 2, 2), days[n].day.strftime("%m-%d"))
        for n in range(last % 7, len(days), 7)
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        bottom=bottom,
        bars=bars,
        gridlines=gridlines,
        dates=dates,
        total=sum(d.amount for d in days),
    )
