"""Stripe: customers, PaymentIntents and Checkout Sessions, refunds, signed events.

Design overview
---------------
This is the only module that imports `stripe`. It talks to Stripe through one
`StripeClient` (API base from `STRIPE_API_BASE`, timeout `GATEWAY_TIMEOUT_SECONDS`,
SDK retries `STRIPE_MAX_NETWORK_RETRIES`) and answers with our dataclasses.

- Every create carries an idempotency key derived from our own ids, so a retry after a
  timeout (ours or the SDK's) returns what Stripe made the first time:
  `customer-<org>` for the organisation's customer (two concurrent first top-ups get
  one customer), `topup-<id>` for its PaymentIntent, `topup-<id>-checkout` for its
  Checkout Session; refunds take the caller's key.
- Amounts pass through unchanged (KRW is zero-decimal, USD is in cents); currency codes
  go to Stripe in lower case and come back upper case.
- `fetch_payment` reads the PaymentIntent (through the Checkout Session while a
  checkout has none yet); its metadata names the organisation and top-up, which the
  crediting path checks.
- `parse_webhook` verifies `Stripe-Signature` over the raw body with the SDK (default
  300 s tolerance) and says what the event is about; it never reads money from it.
- `stripe.APIConnectionError` (timeouts included) and 5xx become `GatewayUnavailable`
  (outcome unknown, ask again), and so do 409 (a request with the same idempotency key
  still executing), 429 (rate limited) and any answer with `Stripe-Should-Retry: true`:
  Stripe asks to be asked again, which the SDK does itself up to
  `STRIPE_MAX_NETWORK_RETRIES` times; they are never a refusal. Any other `StripeError`
  is a `GatewayError` carrying Stripe's code. A 500 is replayed for its idempotency key
  for 24 hours ("Idempotent requests"), so the same outage answers the same every time.
- Disputes (`charge.dispute.*`) are re-fetched (`GET /v1/disputes/{id}`): `won` and
  `warning_closed` (an inquiry that never became a chargeback) release, `lost` is lost,
  every other status is open.
"""

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import stripe

from ledger.errors import InvalidSignature
from ledger.gateways import base as gw

T = TypeVar("T")

_PAYMENT_EVENTS = {
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
}
_CHECKOUT_EVENTS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
}
_CHARGE_REFUND_EVENTS = {"charge.refunded"}
_REFUND_EVENTS = {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
_CUSTOMER_EVENTS = {"customer.updated", "customer.deleted"}
_DISPUTE_EVENTS = {
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
    "charge.dispute.closed",
}
_DISPUTE_STATUSES = {
    "won": gw.DISPUTE_WON,
    "warning_closed": gw.DISPUTE_WON,
    "lost": gw.DISPUTE_LOST,
}
# Answers Stripe asks to be retried: a concurrent request with the key, a rate limit.
_RETRY_STATUSES = {409, 429}

# Refund.failure_reason, in words an operator can act on.
_REFUND_FAILURES = {
    "lost_or_stolen_card": "the card was reported lost or stolen",
    "expired_or_canceled_card": "the card has expired or was canceled",
    "charge_for_pending_refund_disputed": "the charge was disputed while the refund was pending",
    "insufficient_funds": "the Stripe balance was too low to refund",
    "declined": "the card network declined the refund",
    "merchant_request": "the refund was canceled at our request",
    "unknown": "the refund failed for an unknown reason",
}
_REFUND_STATUSES = {
    "succeeded": gw.REFUND_SUCCEEDED,
    "pending": gw.REFUND_PENDING,
    "requires_action": gw.REFUND_PENDING,
    "failed": gw.REFUND_FAILED,
    "canceled": gw.REFUND_FAILED,
}

# Past this many customers replaced within Stripe's idempotency window, something is wrong.
_MAX_CUSTOMER_GENERATIONS = 5


class StripeGateway(gw.PaymentGateway):
    """Stripe behind our gateway interface."""

    name = "stripe"
    currencies = frozenset({"KRW", "USD"})
    required_settings = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")

    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        webhook_secret: str,
        success_url: str,
        cancel_url: str,
        amount_limits: Mapping[str, gw.AmountLimits] | None = None,
    ):
        self._client = client
        self.amount_limits = amount_limits or {}
        self._webhook_secret = webhook_secret
        self._success_url = success_url
        self._cancel_url = cancel_url

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "StripeGateway":
        client = stripe.StripeClient(
            config["STRIPE_SECRET_KEY"],
            base_addresses={"api": config["STRIPE_API_BASE"]},
            http_client=stripe.RequestsClient(timeout=config["GATEWAY_TIMEOUT_SECONDS"]),
            max_network_retries=config["STRIPE_MAX_NETWORK_RETRIES"],
        )
        return cls(
            client,
            webhook_secret=config["STRIPE_WEBHOOK_SECRET"],
            success_url=config["STRIPE_CHECKOUT_SUCCESS_URL"],
            cancel_url=config["STRIPE_CHECKOUT_CANCEL_URL"],
            amount_limits={
                currency: gw.AmountLimits(*limits)
                for currency, limits in config["STRIPE_AMOUNT_LIMITS"].items()
            },
        )

    # Payments

    def create_payment(self, request: gw.PaymentRequest) -> gw.CreatedPayment:
        """A PaymentIntent (or a Checkout Session) for the top-up, for the org's customer."""
        new_customer = None
        customer_id = request.organization.customer_id
        if customer_id is None:
            customer_id = new_customer = self._create_customer(request.organization)
        metadata = {
            "organization_id": str(request.organization.id),
            "topup_id": str(request.topup_id),
            "order_id": request.order_id,
        }
        if request.checkout:
            session = self._create_checkout(request, customer_id, metadata)
            return gw.CreatedPayment(
                payment_id=None,
                client={"checkout_session_id": session["id"], "checkout_url": session["url"]},
                checkout_id=session["id"],
                customer_id=new_customer,
            )
        intent = _call(
            lambda: self._client.v1.payment_intents.create(
                params={
                    "amount": request.amount,
                    "currency": request.currency.lower(),
                    "customer": customer_id,
                    "description": request.order_name,
                    "metadata": metadata,
                    "automatic_payment_methods": {"enabled": True},
                },
                options={"idempotency_key": f"topup-{request.topup_id}"},
            )
        )
        return gw.CreatedPayment(
            payment_id=intent["id"],
            client={"payment_intent_id": intent["id"], "client_secret": intent["client_secret"]},
            customer_id=new_customer,
        )

    def _create_checkout(
        self, request: gw.PaymentRequest, customer_id: str, metadata: dict[str, str]
    ) -> stripe.checkout.Session:
        return _call(
            lambda: self._client.v1.checkout.sessions.create(
                params={
                    "mode": "payment",
                    "customer": customer_id,
                    "client_reference_id": str(request.topup_id),
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": request.currency.lower(),
                                "unit_amount": request.amount,
                                "product_data": {"name": request.order_name},
                            },
                        }
                    ],
                    "metadata": metadata,
                    # The PaymentIntent Stripe makes later carries the same names.
                    "payment_intent_data": {"metadata": metadata},
                    "success_url": self._success_url,
                    "cancel_url": self._cancel_url,
                },
                options={"idempotency_key": f"topup-{request.topup_id}-checkout"},
            )
        )

    def _create_customer(self, organization: gw.OrganizationRef) -> str:
        """The organisation's Stripe customer, made once however many callers race.

        The idempotency key is derived from the organisation. If Stripe replays a customer
        that has since been deleted (the key is still within Stripe's 24-hour window),
        the next key is derived from that customer, so every racer follows the same chain
        to the same new customer.
        """
        key = f"customer-{organization.id}"
        for _ in range(_MAX_CUSTOMER_GENERATIONS):
            customer = _call(
                partial(
                    self._client.v1.customers.create,
                    params={
                        "name": organization.name,
                        "email": organization.billing_email,
                        "metadata": {"organization_id": str(organization.id)},
                    },
                    options={"idempotency_key": key},
                )
            )
            replayed = customer.last_response is not None and (
                customer.last_response.headers.get("Idempotent-Replayed") == "true"
            )
            if not replayed or not self.fetch_customer(customer.id).deleted:
                return customer.id
            key = f"customer-{organization.id}-after-{customer.id}"
        raise gw.GatewayError(
            "too many deleted Stripe customers for this organisation",
            gateway_code="customer_deleted",
        )

    def fetch_payment(self, ref: gw.PaymentRef) -> gw.GatewayPayment:
        """Stripe's record: the PaymentIntent, or the Checkout Session until it has one."""
        payment_intent_id = ref.payment_id
        if payment_intent_id is None:
            checkout_id = ref.checkout_id
            if checkout_id is None:
                raise ValueError("a Stripe payment is found by its PaymentIntent or its Session")
            session = _call(lambda: self._client.v1.checkout.sessions.retrieve(checkout_id))
            if session["payment_intent"] is None:
                return _payment_from_session(session.to_dict())
            payment_intent_id = session["payment_intent"]
        intent = _call(
            lambda: self._client.v1.payment_intents.retrieve(
                payment_intent_id, params={"expand": ["latest_charge"]}
            )
        )
        return _payment_from_intent(intent.to_dict())

    # Refunds

    def refund(
        self,
        *,
        payment_id: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        reason: str,
        refundable_before: int,
        refund_account: gw.RefundAccount | None = None,
    ) -> gw.GatewayRefund:
        """Refund `amount` of the PaymentIntent's charge.

        Stripe's idempotency key is the double-refund guard, so `refundable_before` is not
        sent; the money goes back to the card, so no `refund_account` either. The currency
        is the charge's own, and the answer carries it for the caller to check. Stripe
        refuses more than is left (`amount_too_large`), a fully refunded charge
        (`charge_already_refunded`) and a disputed one (`charge_disputed`); each arrives as
        a `GatewayError` with that code.
        """
        refund = _call(
            lambda: self._client.v1.refunds.create(
                params={
                    "payment_intent": payment_id,
                    "amount": amount,
                    "reason": "requested_by_customer",
                    # Stripe's reasons are a fixed list; ours is free text, and Stripe
                    # caps metadata values at 500 characters.
                    "metadata": {"reason": reason[:500]},
                },
                options={"idempotency_key": idempotency_key},
            )
        )
        return _refund_from(refund.to_dict())

    def fetch_refund(self, refund_id: str, *, payment_id: str | None = None) -> gw.GatewayRefund:
        return _refund_from(_call(lambda: self._client.v1.refunds.retrieve(refund_id)).to_dict())

    # Disputes

    def fetch_disputes(
        self, *, payment_id: str | None, dispute_id: str | None
    ) -> list[gw.GatewayDispute]:
        """The dispute an event names, as Stripe has it now."""
        if not dispute_id:
            return []
        dispute = _call(lambda: self._client.v1.disputes.retrieve(dispute_id)).to_dict()
        return [
            gw.GatewayDispute(
                id=dispute["id"],
                payment_id=_id_of(dispute.get("payment_intent")),
                status=_DISPUTE_STATUSES.get(dispute["status"], gw.DISPUTE_OPEN),
                amount=dispute["amount"],
                currency=dispute["currency"].upper(),
                gateway_status=dispute["status"],
                reason=dispute.get("reason"),
            )
        ]

    # Customers

    def fetch_customer(self, customer_id: str) -> gw.GatewayCustomer:
        customer = _call(lambda: self._client.v1.customers.retrieve(customer_id)).to_dict()
        return gw.GatewayCustomer(
            id=customer["id"],
            deleted=bool(customer.get("deleted")),
            org_id=(customer.get("metadata") or {}).get("organization_id"),
        )

    def label_customer(self, customer_id: str, org_id: uuid.UUID) -> None:
        """Put the organisation's id back on its customer (someone edited it away)."""
        _call(
            lambda: self._client.v1.customers.update(
                customer_id, params={"metadata": {"organization_id": str(org_id)}}
            )
        )

    # Webhooks

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> gw.GatewayEvent:
        """Verify `Stripe-Signature` over the raw body, then say what the event is about."""
        try:
            event = self._client.construct_event(
                body, headers.get("Stripe-Signature"), self._webhook_secret
            )
        except (stripe.SignatureVerificationError, ValueError) as e:
            raise InvalidSignature() from e
        payload = event.to_dict()
        return self.read_event(payload["id"], payload)

    def read_event(self, event_id: str, payload: dict[str, Any]) -> gw.GatewayEvent:
        return _event_from(event_id, payload.get("type", ""), payload)


def _call(call: Callable[[], T]) -> T:
    """Run an SDK call, turning its errors into ours."""
    try:
        return call()
    except stripe.APIConnectionError as e:
        raise gw.GatewayUnavailable(f"Stripe did not answer: {e.user_message}") from e
    except stripe.StripeError as e:
        code = e.code or (e.error.type if e.error else None)
        if _asks_to_retry(e):
            raise gw.GatewayUnavailable(
                f"Stripe failed: {e.user_message}", gateway_code=code, gateway_status=e.http_status
            ) from e
        raise gw.GatewayError(
            e.user_message or str(e), gateway_code=code, gateway_status=e.http_status
        ) from e


def _asks_to_retry(error: stripe.StripeError) -> bool:
    """A 5xx, 409, 429 or `Stripe-Should-Retry: true`: no answer yet, ask again."""
    headers = {k.lower(): v for k, v in (error.headers or {}).items()}
    status = error.http_status or 0
    return (
        status >= 500 or status in _RETRY_STATUSES or headers.get("stripe-should-retry") == "true"
    )


def _timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


def _payment_from_intent(intent: dict[str, Any]) -> gw.GatewayPayment:
    status = intent["status"]
    metadata = intent.get("metadata") or {}
    charge = intent.get("latest_charge")
    charge = charge if isinstance(charge, dict) else {}
    error = intent.get("last_payment_error") or {}
    common = {
        "id": intent["id"],
        "currency": intent["currency"].upper(),
        "gateway_status": status,
        "org_id": metadata.get("organization_id"),
        "topup_id": metadata.get("topup_id"),
        "refunded_amount": charge.get("amount_refunded", 0),
    }
    if status == "succeeded":
        # What was received, not what was asked for, is what may be credited.
        return gw.GatewayPayment(
            status=gw.PAYMENT_PAID,
            amount=intent["amount_received"],
            paid_at=_timestamp(charge.get("created")),
            **common,
        )
    if status == "requires_payment_method" and error:
        return gw.GatewayPayment(
            status=gw.PAYMENT_FAILED,
            amount=intent["amount"],
            failure_code=error.get("decline_code") or error.get("code"),
            failure_message=error.get("message"),
            **common,
        )
    if status == "canceled":
        return gw.GatewayPayment(status=gw.PAYMENT_CANCELED, amount=intent["amount"], **common)
    return gw.GatewayPayment(status=gw.PAYMENT_PENDING, amount=intent["amount"], **common)


def _payment_from_session(session: dict[str, Any]) -> gw.GatewayPayment:
    """A Checkout Session nobody has paid yet: pending while open, canceled once expired."""
    metadata = session.get("metadata") or {}
    return gw.GatewayPayment(
        id=None,
        status=gw.PAYMENT_CANCELED if session["status"] == "expired" else gw.PAYMENT_PENDING,
        amount=session["amount_total"],
        currency=session["currency"].upper(),
        gateway_status=f"checkout_session_{session['status']}",
        org_id=metadata.get("organization_id"),
        topup_id=metadata.get("topup_id"),
    )


def _refund_from(refund: dict[str, Any]) -> gw.GatewayRefund:
    failure = refund.get("failure_reason")
    return gw.GatewayRefund(
        id=refund["id"],
        payment_id=refund["payment_intent"],
        amount=refund["amount"],
        currency=refund["currency"].upper(),
        status=_REFUND_STATUSES.get(refund["status"], gw.REFUND_PENDING),
        failure_code=failure,
        failure_message=_REFUND_FAILURES.get(failure, failure) if failure else None,
    )


def _event_from(event_id: str, type_: str, payload: dict[str, Any]) -> gw.GatewayEvent:
    """What a Stripe event asks of us. Money is never read from it: handlers re-fetch."""
    obj = payload.get("data", {}).get("object", {})
    metadata = obj.get("metadata") or {}
    common: dict[str, Any] = {"id": event_id, "type": type_, "payload": payload}
    if type_ in _PAYMENT_EVENTS:
        return gw.GatewayEvent(
            action=gw.EVENT_PAYMENT,
            payment=gw.PaymentRef(obj.get("id")),
            topup_id=metadata.get("topup_id"),
            **common,
        )
    if type_ in _CHECKOUT_EVENTS:
        return gw.GatewayEvent(
            action=gw.EVENT_PAYMENT,
            payment=gw.PaymentRef(_id_of(obj.get("payment_intent")), checkout_id=obj.get("id")),
            topup_id=metadata.get("topup_id"),
            **common,
        )
    if type_ in _CHARGE_REFUND_EVENTS:
        return gw.GatewayEvent(
            action=gw.EVENT_REFUND,
            payment=gw.PaymentRef(_id_of(obj.get("payment_intent"))),
            details={"charge_id": obj.get("id")},
            **common,
        )
    if type_ in _REFUND_EVENTS:
        return gw.GatewayEvent(
            action=gw.EVENT_REFUND,
            payment=gw.PaymentRef(_id_of(obj.get("payment_intent"))),
            refund_id=obj.get("id"),
            **common,
        )
    if type_ in _CUSTOMER_EVENTS:
        return gw.GatewayEvent(action=gw.EVENT_CUSTOMER, customer_id=obj.get("id"), **common)
    if type_ in _DISPUTE_EVENTS:
        return gw.GatewayEvent(
            action=gw.EVENT_DISPUTE,
            payment=gw.PaymentRef(_id_of(obj.get("payment_intent"))),
            dispute_id=obj.get("id"),
            **common,
        )
    return gw.GatewayEvent(action=gw.EVENT_IGNORED, **common)


def _id_of(value: Any) -> str | None:
    """An id, whether Stripe sent the id or the expanded object."""
    return value.get("id") if isinstance(value, dict) else value
