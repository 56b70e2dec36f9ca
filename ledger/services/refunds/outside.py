"""The gateway's record (webhooks): settle our refund, or record one made outside the service."""

import uuid

from ledger.book import (
    REFUND_SHORTFALL,
    EntryDraft,
    LotMovement,
    PostingDraft,
    Wallet,
    gateway_clearing,
    lock_wallets,
    owe_shortfall,
    platform_account,
    post_entry,
    unit_of_work,
)
from ledger.domain import refunds as rules
from ledger.extensions import db
from ledger.gateways import base as gw
from ledger.gateways import get_gateway
from ledger.models import ExternalRefund, Topup
from ledger.services.refunds.gateway import (
    apply_gateway_refund,
    fetch_refund,
    refund_call,
)
from ledger.services.refunds.locks import (
    add_refunded,
    lock_open_request,
    lock_topup,
    open_request,
    release,
    settle,
    succeeded_request,
    topup_lot,
)

# Who a request's cancellation is attributed to when the gateway's record forced it.
CANCELED_BY_GATEWAY = "system:outside-refund"


def sync_refunds(topup_id: uuid.UUID, *, refund_id: str | None = None) -> None:
    """Bring the top-up's refunds in line with the gateway's record of them: the refund
    being made, a refund of ours an event names (it may have failed after succeeding),
    then the payment's total.

    Raises:
        GatewayError: the gateway could not be asked (the webhook is retried).
    """
    with unit_of_work():  # ends before the gateway calls: no transaction stays open across them
        topup = db.session.get_one(Topup, topup_id)
        request = open_request(topup_id)
        processing = request if request and request.status == rules.PROCESSING else None
        calls = [refund_call(processing, topup)] if processing else []
        named = succeeded_request(topup_id, refund_id)
        if named is not None:
            calls.append(refund_call(named, topup))
        ref = gw.PaymentRef(topup.gateway_payment_id, topup.gateway_checkout_id)
        gateway = get_gateway(topup.provider)
    for call in calls:
        if call.gateway_refund_id:
            apply_gateway_refund(call.request_id, fetch_refund(gateway, call))
    apply_refunded_total(topup_id, gateway.fetch_payment(ref).refunded_amount)


def apply_refunded_total(topup_id: uuid.UUID, gateway_refunded: int) -> None:
    """Book what the gateway's total refunded shows beyond our records (see `reconcile`)."""
    with unit_of_work():
        topup = lock_topup(topup_id)
        if topup.status not in rules.REFUNDABLE_TOPUP_STATES:
            return  # not credited (nothing to take back), or refunded in full already
        request = lock_open_request(topup.id)
        wallets = lock_wallets(topup.org_id, topup.currency, "available", "held")
        lot = topup_lot(topup.id)
        processing = request if request and request.status == rules.PROCESSING else None
        pending = request if request and request.status == rules.PENDING else None
        decision = rules.reconcile(
            rules.RefundState(
                gateway_refunded=gateway_refunded,
                recorded=topup.refunded_amount,
                lot_remaining=lot.remaining,
                processing_amount=processing.amount if processing else 0,
                processing_refund_known=bool(processing and processing.gateway_refund_id),
                pending_amount=pending.amount if pending else 0,
            )
        )
        if processing and decision.settle_processing:
            settle(processing, topup, wallets, None)
        if pending and decision.cancel_pending:
            pending.status = rules.move(pending.status, rules.CANCELED)
            pending.canceled_by = CANCELED_BY_GATEWAY
            pending.failure_message = "the gateway refunded this top-up outside the service"
            release(pending, wallets)
        if decision.outside:
            record_outside_refund(topup, lot.id, wallets, decision, gateway_refunded)


def record_outside_refund(
    topup: Topup,
    lot_id: uuid.UUID,
    wallets: dict[str, Wallet],
    decision: rules.Reconciliation,
    gateway_refunded: int,
) -> None:
    """One entry: the gateway's money out of clearing, from the wallet and the shortfall."""
    currency = topup.currency
    postings = [
        PostingDraft(gateway_clearing(topup.provider, currency), currency, decision.outside)
    ]
    if decision.taken_back:
        postings.append(PostingDraft(wallets["available"].id, currency, -decision.taken_back))
    if decision.shortfall:
        postings.append(
            PostingDraft(
                platform_account(REFUND_SHORTFALL, currency), currency, -decision.shortfall
            )
        )
    posted = post_entry(
        EntryDraft(
            kind="external_refund",
            org_id=topup.org_id,
            currency=currency,
            postings=tuple(postings),
            description=f"refunded outside the service at {topup.provider}",
            reference=topup.gateway_payment_id,
            topup_id=topup.id,
            lot_movements=(
                (LotMovement(lot_id, -decision.taken_back),) if decision.taken_back else ()
            ),
        ),
        wallets,
    )
    db.session.add(
        ExternalRefund(
            org_id=topup.org_id,
            topup_id=topup.id,
            provider=topup.provider,
            amount=decision.outside,
            currency=currency,
            taken_back=decision.taken_back,
            shortfall=decision.shortfall,
            gateway_refunded=gateway_refunded,
            entry_id=posted.id,
        )
    )
    if decision.shortfall:
        owe_shortfall(lot_id, decision.shortfall)
    add_refunded(topup, decision.outside)
