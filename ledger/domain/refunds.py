"""The refund policy, and what the gateway's record of refunds means for the ledger.

Design overview
---------------
An advertiser may get back the part of a paid top-up's credit they have not used:

- only within `window_days` of `paid_at` (`refund_window_expired`);
- only from what is left of the top-up's `paid` lot: a pending request has already
  taken its amount out of the lot (the hold), and a refunded amount never returns to
  it, so partial refunds add up and never exceed what was paid (`credit_consumed`,
  `amount_exceeds_refundable`);
- never bonus credit (a grant has no top-up, and only a `paid` lot is refundable);
- one open request per top-up at a time (`refund_already_pending`);
- never while the top-up's payment is disputed, or after a dispute was lost
  (`topup_disputed`: the card network, not us, decides where that money goes);
- a top-up paid into a virtual account (bank transfer) is refunded to a bank account,
  which the request must name (`refund_account_required`).

A refund request moves pending -> processing -> succeeded | failed, or ends pending ->
rejected | canceled; a refund that fails at the gateway after it had succeeded (Stripe:
`refund.failed`) moves succeeded -> failed. `move` is the one place that allows a
transition.

`reconcile` compares the gateway's total refunded for a payment with what the ledger
has recorded. Gateway refunds are atomic amounts and the gateway's total only grows,
so whatever the gateway shows beyond our records is either the request we are
refunding right now or a refund made outside the service (the gateway's dashboard).
Applying it under the top-up's lock makes the ledger converge on the gateway's total
whatever the order of webhooks and approve calls.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from ledger.domain.states import StateMachine
from ledger.errors import (
    AmountExceedsRefundable,
    CreditConsumed,
    NotRefundable,
    RefundAccountRequired,
    RefundAlreadyPending,
    RefundWindowExpired,
    TopupDisputed,
)

PENDING = "pending"
PROCESSING = "processing"
SUCCEEDED = "succeeded"
FAILED = "failed"
REJECTED = "rejected"
CANCELED = "canceled"

# Open requests hold their amount in the `held` wallet.
OPEN = frozenset({PENDING, PROCESSING})

TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({PROCESSING, REJECTED, CANCELED}),
    PROCESSING: frozenset({SUCCEEDED, FAILED}),
    SUCCEEDED: frozenset({FAILED}),
    FAILED: frozenset(),
    REJECTED: frozenset(),
    CANCELED: frozenset(),
}

# Top-up states whose credit may be refunded (domain.topups' names).
REFUNDABLE_TOPUP_STATES = frozenset({"paid", "partially_refunded"})

# Where a bank-transfer refund may go: the banks among PortOne's `Bank` codes (its V2
# OpenAPI description), as `refundAccount.bank` takes them.
REFUND_BANKS = frozenset(
    {
        "KDB",
        "IBK",
        "KOOKMIN",
        "SUHYUP",
        "NONGHYUP",
        "LOCAL_NONGHYUP",
        "WOORI",
        "STANDARD_CHARTERED",
        "CITI",
        "DAEGU",
        "BUSAN",
        "KWANGJU",
        "JEJU",
        "JEONBUK",
        "KYONGNAM",
        "KFCC",
        "SHINHYUP",
        "SAVINGS_BANK",
        "POST",
        "HANA",
        "SHINHAN",
        "K_BANK",
        "KAKAO",
        "TOSS",
    }
)


STATUS = StateMachine("refund request", TRANSITIONS)
can_move = STATUS.can_move
move = STATUS.move


@dataclass(frozen=True)
class RefundableTopup:
    """What the policy needs to know about a top-up, read under the wallet lock."""

    status: str
    paid_at: datetime | None
    lot_kind: str | None  # the kind of the lot the top-up made; None before it is paid
    lot_remaining: int
    has_open_request: bool
    disputed: bool = False  # an open or lost dispute
    bank_transfer: bool = False  # paid into a virtual account
    has_refund_account: bool = False


def window_closes_at(paid_at: datetime, window_days: int) -> datetime:
    return paid_at + timedelta(days=window_days)


def is_within_window(paid_at: datetime, now: datetime, window_days: int) -> bool:
    """Refunds are allowed until, not at, `window_days` after payment."""
    return now < window_closes_at(paid_at, window_days)


def refundable_amount(topup: RefundableTopup) -> int:
    """What is left of the top-up's paid lot; bonus credit is never refundable."""
    return topup.lot_remaining if topup.lot_kind == "paid" else 0


def amount_to_refund(
    topup: RefundableTopup, requested: int | None, now: datetime, window_days: int
) -> int:
    """The amount a new refund request should hold: `requested`, or all that is refundable.

    Raises:
        NotRefundable: the top-up is not paid (or already fully refunded), or its credit is bonus.
        RefundAlreadyPending: the top-up already has an open request.
        RefundWindowExpired: the top-up was paid `window_days` or more ago.
        CreditConsumed: nothing of the top-up's credit is left.
        AmountExceedsRefundable: `requested` is more than what is left.
        TopupDisputed: the top-up's payment is disputed (or the dispute was lost).
        RefundAccountRequired: a bank-transfer top-up, and no account to refund to.
    """
    if topup.status not in REFUNDABLE_TOPUP_STATES or topup.paid_at is None:
        raise NotRefundable(f"a {topup.status} top-up cannot be refunded", status=topup.status)
    if topup.lot_kind != "paid":
        raise NotRefundable("bonus credit is never refundable")
    if topup.disputed:
        raise TopupDisputed()
    if topup.bank_transfer and not topup.has_refund_account:
        raise RefundAccountRequired()
    if topup.has_open_request:
        raise RefundAlreadyPending()
    if not is_within_window(topup.paid_at, now, window_days):
        raise RefundWindowExpired(
            window_closed_at=window_closes_at(topup.paid_at, window_days).isoformat()
        )
    refundable = refundable_amount(topup)
    if refundable == 0:
        raise CreditConsumed(refundable=0)
    if requested is not None and requested > refundable:
        raise AmountExceedsRefundable(refundable=refundable)
    return refundable if requested is None else requested


@dataclass(frozen=True)
class RefundState:
    """One top-up's refunds as the gateway and the ledger see them."""

    gateway_refunded: int  # the gateway's total refunded on the payment
    recorded: int  # what the ledger has recorded as refunded (the top-up's refunded_amount)
    lot_remaining: int  # what is left of the top-up's lot, not counting an open hold
    processing_amount: int = 0  # the request being refunded at the gateway, if any
    # Whether that request's gateway refund is known (then its own record decides it).
    processing_refund_known: bool = False
    pending_amount: int = 0  # a request still waiting for an operator, if any


@dataclass(frozen=True)
class Reconciliation:
    settle_processing: bool  # the processing request's refund shows at the gateway
    cancel_pending: bool  # the pending request's hold is needed to take back an outside refund
    outside: int  # refunded outside the service
    taken_back: int  # of which taken back from the top-up's lot
    shortfall: int  # of which already consumed: the platform's loss, for operators

    @property
    def changes_anything(self) -> bool:
        return self.settle_processing or self.outside > 0


def reconcile(state: RefundState) -> Reconciliation:
    """What the gateway's total says we have not recorded yet, and where it comes from.

    The request being refunded accounts for its amount first: once the gateway shows
    it, it is settled (unless its own refund record is known, which then decides), and
    until then its amount is not mistaken for a refund made elsewhere. The rest was
    refunded outside the service: it is taken back from what is left of the lot (the
    pending request's hold is released for it when the lot alone is not enough), and
    what was already spent becomes a shortfall rather than a negative wallet.
    """
    unexplained = max(0, state.gateway_refunded - state.recorded)
    settle = False
    outside = unexplained
    if state.processing_amount:
        if unexplained >= state.processing_amount:
            settle = not state.processing_refund_known
            outside = unexplained - state.processing_amount
        elif state.processing_refund_known:
            # Its gateway refund may not count in the total yet; wait for its record.
            outside = 0
    cancel_pending = bool(state.pending_amount) and outside > state.lot_remaining
    takeable = state.lot_remaining + (state.pending_amount if cancel_pending else 0)
    taken_back = min(outside, takeable)
    return Reconciliation(settle, cancel_pending, outside, taken_back, outside - taken_back)
