"""Money: integer minor units with an ISO 4217 currency, never floats.

The exponent table says how many decimals a currency has; the ledger itself never
converts, it stores and moves minor units (KRW: won, USD: cents) as given.
"""

import re

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


_WRITTEN = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.(\d+))?$")


def parse_amount(written: str, currency: str) -> int:
    """An amount as people write it ("12,000", "19.99") in minor units, without floats.

    Raises:
        MoneyError: not a plain positive number, more decimals than the currency has,
            or outside 1 to 10^12 minor units.
    """
    exponent = CURRENCY_EXPONENTS[validate_currency(currency)]
    match = _WRITTEN.match(written.strip())
    decimals = (match.group(4) or "") if match else ""
    if match is None or len(decimals) > exponent:
        places = f"at most {exponent} decimals" if exponent else "no decimals"
        raise MoneyError(f"write the amount as a number with {places}, such as 12,000")
    major = int(match.group(1).replace(",", ""))
    return validate_amount(major * 10**exponent + int(decimals.ljust(exponent, "0") or 0))
