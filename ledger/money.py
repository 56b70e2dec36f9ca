"""Money: integer minor units with an ISO 4217 currency, never floats.

The exponent table says how many decimals a currency has; the ledger itself never
converts, it stores and moves minor units (KRW: won, USD: cents) as given.
"""

# Minor-unit exponents of the currencies the service serves.
CURRENCY_EXPONENTS = {"KRW": 0, "USD": 2}

MIN_AMOUNT = 1
MAX_AMOUNT = 10**12


class MoneyError(ValueError):
    """Raised for an amount or currency the service does not accept."""


def validate_currency(currency: object) -> str:
    if not isinstance(currency, str) or currency not in CURRENCY_EXPONENTS:
        raise MoneyError(f"currency must be one of {sorted(CURRENCY_EXPONENTS)}")
    return currency


def validate_amount(amount: object) -> int:
    # bool is an int subclass; True must not mean 1 won.
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MoneyError("amount must be an integer in minor units")
    if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        raise MoneyError(f"amount must be between {MIN_AMOUNT} and {MAX_AMOUNT}")
    return amount
