"""The payment gateway interface: four verbs, our own dataclasses, our own errors.

Design overview
---------------
A gateway adapter (one module per gateway, chosen by name from the registry in
`ledger/gateways/__init__.py`) turns the gateway's API into:

- `create_payment(request)`: start a payment for a top-up; returns what the browser
  needs (`CreatedPayment.client`, answered under the provider's name).
- `fetch_payment(ref)`: the gateway's own record of the payment (`GatewayPayment`).
  Crediting trusts only this, never a webhook's body.
- `refund(...)`: refund all or part of a payment, safely retryable (`GatewayRefund`).
- `parse_webhook(body, headers)`: verify the signature over the raw body and say what
  the event is about (`GatewayEvent`); raises `InvalidSignature` otherwise.
- `fetch_disputes(...)`: the gateway's record of a payment's chargebacks (`GatewayDispute`).
- `amount_limits`: the smallest and largest amount per currency the gateway takes
  (from configuration), checked before any call.

Adapters never return SDK objects; they wrap SDK and HTTP failures as
`GatewayError` (a definitive refusal, with the gateway's code and message) or
`GatewayUnavailable` (no answer, a timeout, a 5xx, or "busy, try again" such as Stripe's
409/429: the outcome is unknown, ask again). A refusal by the bank or PG behind the
gateway (PortOne's `PG_PROVIDER`, though answered 502) is a `GatewayError`: an answer.
Amounts are integers in the currency's minor unit, passed through unchanged.
"""

import abc
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The payment record lives in the domain (the top-up rules read it); adapters use it as gw.*.
from ledger.domain.payments import (  # noqa: F401
    PAYMENT_CANCELED,
    PAYMENT_FAILED,
    PAYMENT_PAID,
    PAYMENT_PENDING,
    AmountLimits,
    GatewayPayment,
)

# One error tree for every path: the adapters raise ledger.errors' gateway errors.
from ledger.errors import GatewayError, GatewayUnavailable  # noqa: F401


@dataclass(frozen=True)
class OrganizationRef:
    id: uuid.UUID
    name: str
    billing_email: str
    customer_id: str | None  # the gateway's customer for this organisation, if it has one


@dataclass(frozen=True)
class PaymentRequest:
    topup_id: uuid.UUID
    order_id: str
    amount: int
    currency: str
    order_name: str
    organization: OrganizationRef
    checkout: bool = False


@dataclass(frozen=True)
class CreatedPayment:
    payment_id: str | None  # Stripe PaymentIntent id, PortOne paymentId
    client: dict[str, Any]  # what the browser needs; answered as `<provider>: {...}`
    checkout_id: str | None = None  # Stripe Checkout Session id
    customer_id: str | None = None  # a customer the gateway made for the organisation


@dataclass(frozen=True)
class PaymentRef:
    payment_id: str | None
    checkout_id: str | None = None


REFUND_SUCCEEDED = "succeeded"
REFUND_PENDING = "pending"
REFUND_FAILED = "failed"


@dataclass(frozen=True)
class GatewayRefund:
    id: str
    payment_id: str
    amount: int
    currency: str
    status: str  # REFUND_*
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class RefundAccount:
    """Where a bank-transfer payment's refund goes (PortOne: `refundAccount`)."""

    bank: str  # PortOne's bank code, e.g. SHINHAN
    number: str
    holder_name: str


# Our words for a dispute's state at the gateway.
DISPUTE_OPEN = "open"
DISPUTE_WON = "won"
DISPUTE_LOST = "lost"


@dataclass(frozen=True)
class GatewayDispute:
    id: str  # unique per provider
    payment_id: str | None  # the disputed payment, as the gateway's record names it
    status: str  # DISPUTE_*
    amount: int  # the disputed amount
    currency: str
    gateway_status: str  # the gateway's own word, for operators
    reason: str | None = None


@dataclass(frozen=True)
class GatewayCustomer:
    id: str
    deleted: bool
    org_id: str | None  # what the gateway's record says it belongs to


# What an event asks us to do.
EVENT_PAYMENT = "payment"  # a payment may have changed: fetch it and apply
EVENT_REFUND = "refund"  # a refund may have changed (refunds service)
EVENT_CUSTOMER = "customer"  # the gateway's customer changed
EVENT_DISPUTE = "dispute"  # a chargeback opened or changed: fetch it and apply
EVENT_IGNORED = "ignored"  # stored and acknowledged only


@dataclass(frozen=True)
class GatewayEvent:
    id: str  # unique per provider; duplicates have no second effect
    type: str  # the gateway's own type
    action: str  # EVENT_*
    payload: dict[str, Any]
    payment: PaymentRef | None = None
    topup_id: str | None = None  # a hint from the event (metadata); verified before use
    refund_id: str | None = None
    customer_id: str | None = None
    dispute_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class PaymentGateway(abc.ABC):
    """One payment gateway."""

    name: str
    currencies: frozenset[str]
    amount_limits: Mapping[str, AmountLimits]
    required_settings: tuple[str, ...]  # config keys without which the gateway is off

    @classmethod
    @abc.abstractmethod
    def from_config(cls, config: Mapping[str, Any]) -> "PaymentGateway":
        """Build the adapter from the app's config (keys, API base, timeouts)."""

    @abc.abstractmethod
    def create_payment(self, request: PaymentRequest) -> CreatedPayment:
        """Start a payment for a top-up (idempotent on the top-up)."""

    @abc.abstractmethod
    def fetch_payment(self, ref: PaymentRef) -> GatewayPayment:
        """The gateway's own record of the payment."""

    @abc.abstractmethod
    def refund(
        self,
        *,
        payment_id: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        reason: str,
        refundable_before: int,
        refund_account: RefundAccount | None = None,
    ) -> GatewayRefund:
        """Refund `amount` of the payment. `refundable_before` is what we believe is still
        refundable at the gateway; gateways without idempotency keys use it to refuse a
        double refund. `refund_account` is where a bank-transfer payment's money goes."""

    @abc.abstractmethod
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        """Verify the signature over the raw body and parse the event.

        Raises:
            ledger.errors.InvalidSignature: bad, missing or stale signature.
        """

    @abc.abstractmethod
    def read_event(self, event_id: str, payload: dict[str, Any]) -> GatewayEvent:
        """What a verified event (as stored in the inbox) is about; used again on retries."""

    def fetch_refund(self, refund_id: str, *, payment_id: str | None = None) -> GatewayRefund:
        """The gateway's record of one refund (for refunds left `processing`). Gateways that
        keep refunds inside their payment (PortOne) need the refunded payment's id."""
        raise NotImplementedError

    def fetch_disputes(
        self, *, payment_id: str | None, dispute_id: str | None
    ) -> list[GatewayDispute]:
        """The gateway's record of the disputes an event is about: the one named, or (for
        gateways that keep disputes inside their payment) all of the payment's."""
        raise NotImplementedError

    def fetch_customer(self, customer_id: str) -> GatewayCustomer:
        """The gateway's record of a customer (gateways that keep customers)."""
        raise NotImplementedError

    def label_customer(self, customer_id: str, org_id: uuid.UUID) -> None:
        """Name the organisation on the gateway's customer again."""
        raise NotImplementedError
