"""Money on the pages: each currency as people write it, from integer minor units."""

import pytest

from ledger.pages.formatting import format_money


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (12000, "KRW", "₩12,000"),
        (0, "KRW", "₩0"),
        (-500, "KRW", "-₩500"),
        (1999, "USD", "$19.99"),
        (5, "USD", "$0.05"),
        (123456789, "USD", "$1,234,567.89"),
        (-1999, "USD", "-$19.99"),
    ],
)
def test_format_money(amount, currency, shown):
    assert format_money(amount, currency) == shown
