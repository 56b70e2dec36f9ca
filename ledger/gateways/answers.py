"""One translation of gateway failures into the API's errors, for every path.

Whatever calls a gateway (creating or confirming a top-up, a webhook, a refund, a
dispute), the same failure gets the same answer: no usable answer is
`502 gateway_unavailable` (nothing half-done; ask again), a reused idempotency key with
other parameters is `409 idempotency_conflict`, the gateway's own amount limits are
`422 amount_too_small` / `amount_too_large`, and any other refusal is `502 gateway_error`
with the gateway's code.
"""

from collections.abc import Callable
from typing import TypeVar

from ledger.errors import (
    AmountTooLarge,
    AmountTooSmall,
    GatewayRejected,
    GatewayUnavailable,
    IdempotencyConflict,
    LedgerError,
)
from ledger.gateways import base as gw

T = TypeVar("T")

# Gateway codes a caller can act on, and the error each becomes.
_REFUSALS: dict[str, type[LedgerError]] = {
    "idempotency_error": IdempotencyConflict,  # Stripe: a key reused with other parameters
    "amount_too_small": AmountTooSmall,
    "amount_too_large": AmountTooLarge,
}


def ledger_error(error: gw.GatewayError) -> LedgerError:
    """The API's error for a gateway failure."""
    if isinstance(error, gw.GatewayUnavailable):
        return GatewayUnavailable(error.message)
    refusal = _REFUSALS.get(error.code or "")
    if refusal is not None:
        return refusal(gateway_code=error.code)
    return GatewayRejected(error.message, gateway_code=error.code)


def call(fn: Callable[[], T]) -> T:
    """Run a gateway call, raising the API's error when it fails."""
    try:
        return fn()
    except gw.GatewayError as e:
        raise ledger_error(e) from e
