"""Amounts as operators type them into the console, in minor units, never via floats."""

import pytest

from ledger.money import MoneyError, parse_amount


@pytest.mark.parametrize(
    ("written", "currency", "minor"),
    [
        ("12000", "KRW", 12000),
        ("12,000", "KRW", 12000),
        (" 1,000,000 ", "KRW", 1000000),
        ("19.99", "USD", 1999),
        ("19.9", "USD", 1990),
        ("1,234.50", "USD", 123450),
        ("7", "USD", 700),
        ("0.01", "USD", 1),
        ("10000000000", "USD", 10**12),
    ],
)
def test_parse_amount(written, currency, minor):
    assert parse_amount(written, currency) == minor


@pytest.mark.parametrize(
    ("written", "currency"),
    [
        ("", "KRW"),
        ("12.5", "KRW"),  # won have no decimals
        ("19.999", "USD"),
        ("-5", "KRW"),
        ("0", "KRW"),
        ("1e3", "KRW"),
        ("12,00", "KRW"),
        ("₩12,000", "KRW"),
        ("10000000000.01", "USD"),
        ("5", "EUR"),
    ],
)
def test_parse_amount_refuses(written, currency):
    with pytest.raises(MoneyError):
        parse_amount(written, currency)
