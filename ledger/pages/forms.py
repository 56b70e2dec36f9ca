"""Reading the pages' forms: fields through the API's own schemas, amounts as people type them.

`load(schema, fields)` validates like the API does (a page never accepts what the API
would refuse) and raises `ValidationFailed` (422, shown as an error page).
`amount(text, currency)` reads "50,000" (KRW) or "19.99" (USD) as minor units with
integer arithmetic only.
"""

import re
import uuid
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError

from ledger.errors import ValidationFailed
from ledger.money import CURRENCY_EXPONENTS

_AMOUNT = re.compile(r"^\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*$")


def load(schema: type[Schema], fields: Mapping[str, Any]) -> dict[str, Any]:
    """The form's fields as the API schema loads them (missing optional fields left out)."""
    data = {k: v for k, v in fields.items() if v is not None and v not in ("", [])}
    try:
        return schema().load(data)
    except ValidationError as e:
        raise ValidationFailed("the form is not valid", fields=e.messages) from e


def amount(text: str | None, currency: str) -> int | None:
    """Minor units from an amount in major units; None when the field was left empty.

    Raises:
        ValidationFailed: not a plain positive amount with at most the currency's decimals.
    """
    if text is None or not text.strip():
        return None
    exponent = CURRENCY_EXPONENTS[currency]
    match = _AMOUNT.match(text)
    decimals = (match.group(2) or "") if match else ""
    if match is None or len(decimals) > exponent:
        example = "10,000" if exponent == 0 else "19.99"
        raise ValidationFailed(f"enter an amount such as {example}", field="amount")
    major = int(match.group(1).replace(",", ""))
    return major * 10**exponent + int(decimals.ljust(exponent, "0") or 0)


def new_order_id(prefix: str) -> str:
    """A fresh order_id for a form: submitting the same form twice replays, never repeats."""
    return f"{prefix}-{uuid.uuid4().hex}"
