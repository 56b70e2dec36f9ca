"""The gateway's record of a payment, in our words: shared by the top-up rules
(`domain.topups`) and the gateway adapters (`ledger/gateways/`), which return it."""

from dataclasses import dataclass
from datetime import datetime

# Our words for a payment's state at the gateway.
PAYMENT_PENDING = "pending"
PAYMENT_PAID = "paid"
PAYMENT_FAILED = "failed"
PAYMENT_CANCELED = "canceled"


@dataclass(frozen=True)
class AmountLimits:
    """The smallest and largest amount (minor units) a gateway takes in one currency."""

    minimum: int
    maximum: int


@dataclass(frozen=True)
class GatewayPayment:
    id: str | None  # None while a checkout has no payment yet
    status: str  # PAYMENT_*
    amount: int
    currency: str  # ISO 4217, upper case
    gateway_status: str  # the gateway's own word, for operators
    # Paid into a virtual account (가상계좌): a refund must name a bank account.
    bank_transfer: bool = False
    org_id: str | None = None  # what the gateway's record says it belongs to
    topup_id: str | None = None
    paid_at: datetime | None = None
    refunded_amount: int = 0
    failure_code: str | None = None
    failure_message: str | None = None
