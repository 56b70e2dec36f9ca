"""Refunds at the gateway: one attempt at a request's refund, and applying its answer."""

import uuid
from dataclasses import dataclass

from ledger import clock
from ledger.book import (
    EntryDraft,
    LotMovement,
    Wallet,
    gateway_clearing,
    post_entry,
    record_event,
    settle_shortfalls,
    transfer,
    unit_of_work,
)
from ledger.domain import refunds as rules
from ledger.domain import topups as topup_rules
from ledger.errors import GatewayError, GatewayUnavailable
from ledger.gateways import base as gw
from ledger.gateways import get_gateway
from ledger.models import RefundRequest, Topup
from ledger.services import disputes
from ledger.services.refunds.locks import (
    get_request,
    lock_request,
    lock_request_wallets,
    release,
    settle,
    topup_lot,
)


def gateway_idempotency_key(request_id: uuid.UUID) -> str:
    """The same for every attempt at one request's refund, so retries never refund twice."""
    return f"refund-request-{request_id}"


@dataclass(frozen=True)
class RefundCall:
    """What one gateway refund attempt needs, read before the transaction ends."""

    request_id: uuid.UUID
    topup_id: uuid.UUID
    provider: str
    payment_id: str
    checkout_id: str | None
    amount: int
    currency: str
    reason: str
    refundable_before: int
    gateway_refund_id: str | None
    refund_account: gw.RefundAccount | None

    @property
    def payment(self) -> gw.PaymentRef:
        return gw.PaymentRef(self.payment_id, self.checkout_id)


def refund_at_gateway(call: RefundCall) -> RefundRequest:
    """Call the gateway's refund (no transaction open) and apply its answer."""
    gateway = get_gateway(call.provider)
    try:
        refund = gateway.refund(
            payment_id=call.payment_id,
            amount=call.amount,
            currency=call.currency,
            idempotency_key=gateway_idempotency_key(call.request_id),
            reason=call.reason,
            refundable_before=call.refundable_before,
            refund_account=call.refund_account,
        )
    except GatewayUnavailable:
        return get_request(call.request_id)
    except GatewayError as e:
        # A refusal (Stripe's, or the PG's behind PortOne) is an answer: fail, release.
        return fail(call.request_id, e.gateway_code, e.message)
    return apply_gateway_refund(call.request_id, refund)


def apply_gateway_refund(request_id: uuid.UUID, refund: gw.GatewayRefund) -> RefundRequest:
    """Apply the gateway's record of a request's refund: a processing request settles or
    fails; a succeeded one whose refund failed afterwards gives the credit back."""
    with unit_of_work():
        request, topup = lock_request(request_id)
        if request.status == rules.SUCCEEDED and refund.status == gw.REFUND_FAILED:
            undo(request, topup, lock_request_wallets(request), refund)
            return request
        if request.status != rules.PROCESSING:
            return request  # settled or failed already (by a webhook, or an earlier answer)
        if refund.status == gw.REFUND_SUCCEEDED:
            settle(request, topup, lock_request_wallets(request), refund.id)
        elif refund.status == gw.REFUND_FAILED:
            fail_locked(
                request, refund.failure_code, refund.failure_message or "the gateway refund failed"
            )
        else:
            request.gateway_refund_id = refund.id
            request.updated_at = clock.now()
    return request


def fail(request_id: uuid.UUID, code: str | None, message: str) -> RefundRequest:
    with unit_of_work():
        request, _ = lock_request(request_id)
        if request.status == rules.PROCESSING:
            fail_locked(request, code, message)
    return request


def fail_locked(request: RefundRequest, code: str | None, message: str) -> None:
    """The gateway refused: the request fails and its hold goes back to the lot (frozen
    again if the top-up is disputed meanwhile, as Stripe's `charge_disputed` says)."""
    request.status = rules.move(request.status, rules.FAILED)
    request.failure_code = code
    request.failure_message = message
    wallets = lock_request_wallets(request)
    release(request, wallets)
    disputes.freeze_returned([topup_lot(request.topup_id).id], wallets)


def undo(
    request: RefundRequest, topup: Topup, wallets: dict[str, Wallet], refund: gw.GatewayRefund
) -> None:
    """The gateway's refund failed after it had succeeded (the money never reached the
    card): the request fails, the credit goes back to the same lot (a shortfall it owes is
    settled first), and the top-up's refunded amount comes back down."""
    request.status = rules.move(request.status, rules.FAILED)
    request.failure_code = refund.failure_code
    request.failure_message = refund.failure_message or "the gateway refund failed"
    request.updated_at = clock.now()
    lot_id = topup_lot(topup.id).id
    post_entry(
        EntryDraft(
            kind="refund_failure",
            org_id=request.org_id,
            currency=request.currency,
            postings=transfer(
                source=gateway_clearing(topup.provider, request.currency),
                destination=wallets["available"].id,
                currency=request.currency,
                amount=request.amount,
            ),
            description=f"{topup.provider} refund failed after it had succeeded",
            reference=refund.id,
            topup_id=topup.id,
            refund_request_id=request.id,
            lot_movements=(LotMovement(lot_id, request.amount),),
        ),
        wallets,
    )
    settle_shortfalls(request.org_id, request.currency, [(lot_id, request.amount)], wallets)
    disputes.freeze_returned([lot_id], wallets)
    refunded = topup.refunded_amount - request.amount
    topup.status = topup_rules.move(
        topup.status, topup_rules.status_when_credited(topup.amount, refunded)
    )
    topup.refunded_amount = refunded
    topup.updated_at = clock.now()
    record_event(org_id=request.org_id, type="refund_request.failed", data=request)


def fetch_refund(gateway: gw.PaymentGateway, call: RefundCall) -> gw.GatewayRefund:
    """The gateway's record of the call's refund (callers check the gateway gave it an id)."""
    if call.gateway_refund_id is None:
        raise ValueError(f"refund request {call.request_id} has no gateway refund to fetch")
    return gateway.fetch_refund(call.gateway_refund_id, payment_id=call.payment_id)


def refund_call(request: RefundRequest, topup: Topup) -> RefundCall:
    payment_id, refundable_before = topup.gateway_payment_id, request.gateway_refundable_before
    if payment_id is None or refundable_before is None:
        # Only an approved request (which recorded the refundable amount) on a paid top-up
        # reaches the gateway.
        raise RuntimeError(f"refund request {request.id} is not ready for the gateway")
    return RefundCall(
        request_id=request.id,
        topup_id=topup.id,
        provider=topup.provider,
        payment_id=payment_id,
        checkout_id=topup.gateway_checkout_id,
        amount=request.amount,
        currency=request.currency,
        reason=request.reason,
        refundable_before=refundable_before,
        gateway_refund_id=request.gateway_refund_id,
        refund_account=gw.RefundAccount(**request.refund_account)
        if request.refund_account
        else None,
    )
