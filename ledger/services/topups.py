"""Top-ups: paying for credit through a gateway, and crediting it exactly once.

Creating a top-up calls the gateway first (idempotently: the top-up's id is derived
from the organisation and order_id, and the gateway's idempotency key from the
top-up), then records it in one transaction; a failed gateway call writes nothing.

`sync_topup` is the one crediting path, shared by `confirm` and by webhooks: it fetches
the gateway's own record of the payment (outside any transaction), then locks the
top-up row and lets `domain.topups.decide` say what it means. Whatever the
interleaving of webhooks and confirms, the row lock and the status transition
credit once.
"""

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from ledger import clock, metrics
from ledger.book import (
    EntryDraft,
    NewLot,
    gateway_clearing,
    idempotency,
    lock_wallets,
    post_entry,
    record_event,
    transfer,
    unit_of_work,
)
from ledger.book.reports import Page, newest_first
from ledger.domain import topups as rules
from ledger.errors import (
    AmountTooLarge,
    AmountTooSmall,
    GatewayError,
    GatewayUnavailable,
    IdempotencyConflict,
    LedgerError,
    NotFound,
    UnsupportedCurrency,
)
from ledger.extensions import db
from ledger.gateways import base as gw
from ledger.gateways import get_gateway
from ledger.models import Organization, Topup

# Top-up ids are derived from (organisation, order_id), so a retry after a gateway
# timeout reaches the gateway with the same idempotency key.
_TOPUP_NAMESPACE = uuid.UUID("6f1c9a52-35a4-4c1e-9a57-0f3c2b7e8d11")


# A gateway's refusals of a new payment that the caller can act on, as the API's own
# errors: Stripe's idempotency key derived from the order_id met other parameters (the
# order_id was reused with another body after a lost answer), or its own amount limits.
_CALLER_ERRORS: dict[str, type[LedgerError]] = {
    "idempotency_error": IdempotencyConflict,
    "amount_too_small": AmountTooSmall,
    "amount_too_large": AmountTooLarge,
}


def topup_id_for(org_id: uuid.UUID, order_id: str) -> uuid.UUID:
    return uuid.uuid5(_TOPUP_NAMESPACE, f"{org_id}:{order_id}")


@dataclass(frozen=True)
class TopupResult:
    topup: Topup
    replayed: bool = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.topup, name)


def _count_failures(create):
    """Failed top-up creations are counted by provider and error code, like the others."""

    @functools.wraps(create)
    def counted(*, provider: str, **kwargs):
        try:
            return create(provider=provider, **kwargs)
        except LedgerError as e:
            metrics.count_topup(provider, e.code)
            raise

    return counted


@_count_failures
def create_topup(
    *,
    org_id: uuid.UUID,
    order_id: str,
    amount: int,
    currency: str,
    provider: str,
    checkout: bool = False,
) -> TopupResult:
    """Start a top-up at the gateway; the top-up stays `pending` until the gateway says paid.

    Raises:
        UnsupportedCurrency: the gateway does not take this currency (nothing is called).
        AmountTooSmall, AmountTooLarge: outside the gateway's limits (nothing is called).
        IdempotencyConflict: `order_id` was used for a different top-up (here, or at the
            gateway's idempotency key derived from it).
        GatewayUnavailable, GatewayError: the gateway call failed (nothing is written).
    """
    gateway = get_gateway(provider)
    if currency not in gateway.currencies:
        raise UnsupportedCurrency(
            f"{provider} top-ups are not served in {currency}",
            currency=currency,
            provider=provider,
        )
    request = {"amount": amount, "currency": currency, "provider": provider, "checkout": checkout}
    earlier = idempotency.lookup(org_id=org_id, kind="topup", order_id=order_id, request=request)
    if earlier is not None:
        return TopupResult(db.session.get_one(Topup, uuid.UUID(earlier)), replayed=True)
    rules.check_amount(amount, gateway.amount_limits.get(currency))

    with unit_of_work():  # ends before the gateway call: no transaction stays open across it
        org = db.session.get_one(Organization, org_id)
        organization = gw.OrganizationRef(
            org.id, org.name, org.billing_email, org.stripe_customer_id
        )
    topup_id = topup_id_for(org_id, order_id)
    request_at_gateway = gw.PaymentRequest(
        topup_id=topup_id,
        order_id=order_id,
        amount=amount,
        currency=currency,
        order_name=f"Prepaid credit {order_id}",
        organization=organization,
        checkout=checkout,
    )
    try:
        created = gateway.create_payment(request_at_gateway)
    except GatewayUnavailable:
        raise
    except GatewayError as e:
        refusal = _CALLER_ERRORS.get(e.gateway_code or "")
        if refusal is None:
            raise
        raise refusal(gateway_code=e.gateway_code) from e
    with unit_of_work():
        # The organisation's row first: setting its (unique) customer id takes a FOR UPDATE row
        # lock, which waits on the KEY SHARE that another top-up's claim takes through its
        # foreign key; taken after the claim, two first top-ups deadlock.
        if created.customer_id:
            _remember_customer(org_id, created.customer_id)
        claim = idempotency.claim(org_id=org_id, kind="topup", order_id=order_id, request=request)
        if claim.replay_of is not None:
            return TopupResult(db.session.get_one(Topup, uuid.UUID(claim.replay_of)), replayed=True)
        topup = Topup(
            id=topup_id,
            org_id=org_id,
            order_id=order_id,
            provider=provider,
            amount=amount,
            currency=currency,
            status=rules.PENDING,
            gateway_payment_id=created.payment_id,
            gateway_checkout_id=created.checkout_id,
            gateway_data=created.client,
            refunded_amount=0,
        )
        db.session.add(topup)
        db.session.flush()
        idempotency.record(claim, topup.id)
    metrics.count_topup(provider, "created")
    return TopupResult(topup)


def _remember_customer(org_id: uuid.UUID, customer_id: str) -> None:
    """Map the organisation to the gateway's customer the first time one is made."""
    db.session.execute(
        text(
            "UPDATE organizations SET stripe_customer_id = :customer "
            "WHERE id = :org_id AND stripe_customer_id IS NULL"
        ),
        {"customer": customer_id, "org_id": org_id},
    )


def get_topup(*, org_id: uuid.UUID, topup_id: uuid.UUID) -> Topup:
    topup = db.session.scalar(select(Topup).where(Topup.id == topup_id, Topup.org_id == org_id))
    if topup is None:
        raise NotFound("top-up not found")
    return topup


def list_topups(
    *, org_id: uuid.UUID, limit: int, cursor: str | None = None, status: str | None = None
) -> Page:
    """Top-ups newest first."""
    query = select(Topup).where(Topup.org_id == org_id)
    if status:
        query = query.where(Topup.status == status)
    return newest_first(query, Topup, limit=limit, cursor=cursor)


def confirm_topup(*, org_id: uuid.UUID, topup_id: uuid.UUID) -> Topup:
    """Ask the gateway now and credit the top-up if it is paid (same path as webhooks)."""
    with unit_of_work():
        get_topup(org_id=org_id, topup_id=topup_id)
    return sync_topup(topup_id)


def find_topup_id(provider: str, ref: gw.PaymentRef, topup_hint: str | None) -> uuid.UUID | None:
    """The top-up a gateway event is about: by payment id, checkout id, then the hint."""
    with unit_of_work():
        row = db.session.execute(
            text(
                "SELECT id FROM topups WHERE provider = :provider AND ("
                " (CAST(:payment_id AS text) IS NOT NULL AND gateway_payment_id = :payment_id) OR"
                " (CAST(:checkout_id AS text) IS NOT NULL AND gateway_checkout_id = :checkout_id)"
                " OR (CAST(:hint AS text) IS NOT NULL AND CAST(id AS text) = :hint)) LIMIT 1"
            ),
            {
                "provider": provider,
                "payment_id": ref.payment_id,
                "checkout_id": ref.checkout_id,
                "hint": topup_hint,
            },
        ).first()
    return row.id if row else None


def is_pending(topup_id: uuid.UUID) -> bool:
    with unit_of_work():
        return db.session.scalar(select(Topup.status).where(Topup.id == topup_id)) == rules.PENDING


def sync_topup(topup_id: uuid.UUID) -> Topup:
    """Fetch the gateway's record of the top-up's payment and apply it, once.

    Raises:
        GatewayUnavailable: the gateway did not answer (nothing changes; retry later).
    """
    with unit_of_work():  # ends before the gateway call: no transaction stays open across it
        topup = db.session.get(Topup, topup_id)
        if topup is None:
            raise NotFound("top-up not found")
        ref = gw.PaymentRef(topup.gateway_payment_id, topup.gateway_checkout_id)
        gateway = get_gateway(topup.provider)
    payment = gateway.fetch_payment(ref)
    return apply_payment(topup_id, payment)


def apply_payment(topup_id: uuid.UUID, payment: gw.GatewayPayment) -> Topup:
    """Apply the gateway's record to the top-up under its row lock."""
    with unit_of_work():
        topup = db.session.scalars(
            select(Topup).where(Topup.id == topup_id).with_for_update()
        ).one()
        facts = rules.TopupFacts(
            str(topup.id),
            str(topup.org_id),
            topup.status,
            topup.amount,
            topup.currency,
            topup.gateway_payment_id,
        )
        decision = rules.decide(facts, payment)
        if topup.gateway_payment_id is None and payment.id and decision.action != "flag":
            topup.gateway_payment_id = payment.id
        if decision.action == "credit":
            _credit(topup, payment)
        elif decision.action == "refunded":
            _mark_paid(topup, payment)  # refunded in full before crediting: nothing to credit
        elif decision.action == "fail":
            topup.status = rules.move(topup.status, rules.FAILED)
            topup.failure_code = payment.failure_code
            topup.failure_message = payment.failure_message
        elif decision.action == "cancel":
            topup.status = rules.move(topup.status, rules.CANCELED)
        elif decision.action == "flag":
            topup.flagged_reason = decision.reason
        if decision.action != "none":
            topup.updated_at = clock.now()
        if decision.action in _EVENTS:
            record_event(org_id=topup.org_id, type=_EVENTS[decision.action], data=topup)
        if decision.action == "credit" and topup.refunded_amount:
            # Credited less what the gateway refunded before: that refund is recorded too.
            record_event(org_id=topup.org_id, type="topup.refunded", data=topup)
    if decision.action != "none":
        metrics.count_topup(topup.provider, _OUTCOMES[decision.action])
    return topup


# The event each decision sends (a flag waits for an operator: no event).
_EVENTS = {
    "credit": "topup.succeeded",
    "refunded": "topup.refunded",  # refunded in full at the gateway before it was credited
    "fail": "topup.failed",
    "cancel": "topup.canceled",
}

# How each decision is counted in /metrics.
_OUTCOMES = {
    "credit": "paid",
    "refunded": "refunded",
    "fail": "failed",
    "cancel": "canceled",
    "flag": "flagged",
}


def _credit(topup: Topup, payment: gw.GatewayPayment) -> None:
    """Put what the gateway kept of a paid top-up in the wallet as a `paid` lot, and record
    what it refunded before we credited (top-up row locked)."""
    refunded = payment.refunded_amount
    credited = rules.credited_amount(topup.amount, refunded)
    description = f"{topup.provider} top-up"
    if refunded:
        description += f" ({refunded} refunded at {topup.provider} before it was credited)"
    wallet = lock_wallets(topup.org_id, topup.currency)["available"]
    post_entry(
        EntryDraft(
            kind="topup",
            org_id=topup.org_id,
            currency=topup.currency,
            postings=transfer(
                source=gateway_clearing(topup.provider, topup.currency),
                destination=wallet.id,
                currency=topup.currency,
                amount=credited,
            ),
            order_id=topup.order_id,
            description=description,
            reference=payment.id,
            topup_id=topup.id,
            new_lots=(NewLot(uuid.uuid4(), "paid", credited, topup_id=topup.id),),
        ),
        [wallet],
    )
    _mark_paid(topup, payment)


def _mark_paid(topup: Topup, payment: gw.GatewayPayment) -> None:
    refunded = min(payment.refunded_amount, topup.amount)
    topup.status = rules.move(topup.status, rules.status_when_credited(topup.amount, refunded))
    topup.refunded_amount = refunded
    topup.bank_transfer = payment.bank_transfer
    topup.paid_at = payment.paid_at or clock.now()
    topup.flagged_reason = None
    topup.failure_code = None
    topup.failure_message = None
