"""Finishing requests a gateway timeout left `processing`, without refunding twice."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from ledger import clock
from ledger.book import (
    unit_of_work,
)
from ledger.domain import refunds as rules
from ledger.errors import GatewayError, GatewayUnavailable
from ledger.extensions import db
from ledger.gateways import get_gateway
from ledger.models import RefundRequest, Topup
from ledger.services.refunds.gateway import (
    apply_gateway_refund,
    fetch_refund,
    refund_at_gateway,
    refund_call,
)
from ledger.services.refunds.locks import get_request
from ledger.services.refunds.outside import apply_refunded_total


@dataclass(frozen=True)
class ResumeResult:
    succeeded: int = 0
    failed: int = 0
    processing: int = 0
    errors: tuple[str, ...] = ()


def resume_refunds(*, older_than: timedelta) -> ResumeResult:
    """Finish the requests left `processing` for longer than `older_than`.

    The age keeps this from racing an approve whose gateway call is still under way.
    """
    with unit_of_work():
        due = db.session.scalars(
            select(RefundRequest.id)
            .where(
                RefundRequest.status == rules.PROCESSING,
                RefundRequest.updated_at <= clock.now() - older_than,
            )
            .order_by(RefundRequest.updated_at)
        ).all()
    counts = {rules.SUCCEEDED: 0, rules.FAILED: 0, rules.PROCESSING: 0}
    errors = []
    for request_id in due:
        try:
            counts[resume_refund(request_id).status] += 1
        except GatewayError as e:
            errors.append(f"{request_id}: {e.message}")
    return ResumeResult(
        counts[rules.SUCCEEDED], counts[rules.FAILED], counts[rules.PROCESSING], tuple(errors)
    )


def resume_refund(request_id: uuid.UUID) -> RefundRequest:
    """Ask the gateway again about a `processing` request and finish it if it can.

    A known gateway refund is looked up. Otherwise the gateway's total for the payment
    says whether the first attempt went through (then it is settled); if not, the
    refund is asked again with the same key and refundable amount, which the gateway
    cannot turn into a second refund.
    """
    with unit_of_work():  # ends before the gateway calls: no transaction stays open across them
        request = get_request(request_id)
        if request.status != rules.PROCESSING:
            return request
        call = refund_call(request, db.session.get_one(Topup, request.topup_id))
    gateway = get_gateway(call.provider)
    try:
        if call.gateway_refund_id:
            return apply_gateway_refund(request_id, fetch_refund(gateway, call))
        apply_refunded_total(call.topup_id, gateway.fetch_payment(call.payment).refunded_amount)
    except GatewayUnavailable:
        return get_request(request_id)
    with unit_of_work():
        settled = get_request(request_id)
        still_processing = settled.status == rules.PROCESSING
    if not still_processing:
        return settled
    return refund_at_gateway(call)
