"""Top-up states, and what to do when the gateway's record of a payment arrives.

Only the gateway's own record (fetched, never taken from a webhook body) can move a
top-up to `paid`, and only if it matches what we expected: status paid, the exact
amount and currency, and the organisation and top-up it names. A mismatch leaves the
top-up `pending` and flags it for an operator.

Nothing stops a refund in the gateway's dashboard (or a PortOne console cancel) between
the payment succeeding and our crediting it, and the gateway's record already shows it:
then only what the gateway kept is credited, and the refund is recorded on the top-up
(`credited_amount`); a payment refunded in full credits nothing and the top-up is
`refunded` at once.
"""

from dataclasses import dataclass

from ledger.domain.payments import (
    PAYMENT_CANCELED,
    PAYMENT_FAILED,
    PAYMENT_PAID,
    AmountLimits,
    GatewayPayment,
)
from ledger.domain.states import StateMachine
from ledger.errors import AmountTooLarge, AmountTooSmall

PENDING = "pending"
PAID = "paid"
FAILED = "failed"
CANCELED = "canceled"
PARTIALLY_REFUNDED = "partially_refunded"
REFUNDED = "refunded"

TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({PAID, FAILED, CANCELED, PARTIALLY_REFUNDED, REFUNDED}),
    # The customer may retry a failed PaymentIntent and succeed later.
    FAILED: frozenset({PAID, CANCELED, PARTIALLY_REFUNDED, REFUNDED}),
    CANCELED: frozenset(),
    PAID: frozenset({PARTIALLY_REFUNDED, REFUNDED}),
    # A refund that fails after it had succeeded gives its amount back.
    PARTIALLY_REFUNDED: frozenset({PARTIALLY_REFUNDED, REFUNDED, PAID}),
    REFUNDED: frozenset({PARTIALLY_REFUNDED, PAID}),
}


STATUS = StateMachine("top-up", TRANSITIONS)
can_move = STATUS.can_move
move = STATUS.move


def status_after_refund(amount: int, refunded_amount: int) -> str:
    return REFUNDED if refunded_amount >= amount else PARTIALLY_REFUNDED


@dataclass(frozen=True)
class TopupFacts:
    id: str
    org_id: str
    status: str
    amount: int
    currency: str
    payment_id: str | None


@dataclass(frozen=True)
class Decision:
    action: str  # "credit", "refunded", "fail", "cancel", "flag", "none"
    reason: str | None = None


def credited_amount(amount: int, refunded_before: int) -> int:
    """What crediting puts in the wallet: what the gateway kept of the payment."""
    return max(0, amount - refunded_before)


def status_when_credited(amount: int, refunded_before: int) -> str:
    return PAID if refunded_before <= 0 else status_after_refund(amount, refunded_before)


def mismatch(topup: TopupFacts, payment: GatewayPayment) -> str | None:
    """Why the gateway's record does not match the top-up, or None."""
    if payment.amount != topup.amount:
        return f"gateway amount {payment.amount} differs from top-up amount {topup.amount}"
    if payment.currency != topup.currency:
        return f"gateway currency {payment.currency} differs from top-up currency {topup.currency}"
    if payment.org_id is not None and payment.org_id != topup.org_id:
        return f"gateway record names organisation {payment.org_id}"
    if payment.topup_id is not None and payment.topup_id != topup.id:
        return f"gateway record names top-up {payment.topup_id}"
    if topup.payment_id is not None and payment.id is not None and payment.id != topup.payment_id:
        return f"gateway payment {payment.id} is not this top-up's {topup.payment_id}"
    return None


def decide(topup: TopupFacts, payment: GatewayPayment) -> Decision:
    """What the gateway's record of the payment means for the top-up."""
    if payment.status == PAYMENT_PAID:
        if not can_move(topup.status, PAID):
            return Decision("none")  # credited already (or refunded since)
        reason = mismatch(topup, payment)
        if reason:
            return Decision("flag", reason)
        if credited_amount(topup.amount, payment.refunded_amount) == 0:
            return Decision("refunded")  # all of it went back before we credited anything
        return Decision("credit")
    if payment.status == PAYMENT_FAILED and can_move(topup.status, FAILED):
        return Decision("fail")
    if payment.status == PAYMENT_CANCELED and can_move(topup.status, CANCELED):
        return Decision("cancel")
    return Decision("none")


def check_amount(amount: int, limits: AmountLimits | None) -> None:
    """Refuse an amount the gateway would refuse, before anything is called.

    Raises:
        AmountTooSmall, AmountTooLarge: outside the gateway's limits for the currency.
    """
    if limits is None:
        return
    if amount < limits.minimum:
        raise AmountTooSmall(minimum=limits.minimum)
    if amount > limits.maximum:
        raise AmountTooLarge(maximum=limits.maximum)
