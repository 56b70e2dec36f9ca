"""Jinja filters: money per currency (₩12,000; $19.99; -₩500) and times in UTC."""

from datetime import UTC, datetime

from flask import Flask

from ledger.money import CURRENCY_EXPONENTS

SYMBOLS = {"KRW": "₩", "USD": "$"}


def format_money(amount: int, currency: str) -> str:
    """Minor units as people read them: integer arithmetic only, never a float."""
    exponent = CURRENCY_EXPONENTS[currency]
    major, minor = divmod(abs(amount), 10**exponent)
    digits = f"{major:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    sign = "-" if amount < 0 else ""
    return f"{sign}{SYMBOLS.get(currency, currency + ' ')}{digits}"


def format_time(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def init_app(app: Flask) -> None:
    app.add_template_filter(format_money, "money")
    app.add_template_filter(format_time, "when")
