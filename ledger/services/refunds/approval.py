"""An operator's approval: mark the request `processing`, then refund at the gateway."""

import uuid

from ledger.book import (
    unit_of_work,
)
from ledger.domain import refunds as rules
from ledger.models import RefundRequest
from ledger.services.refunds.gateway import refund_at_gateway, refund_call
from ledger.services.refunds.locks import decide, lock_request


def approve_refund(
    *, request_id: uuid.UUID, decided_by: str, note: str | None = None
) -> RefundRequest:
    """An operator approves: refund through the gateway, then book it.

    Returns the request: `succeeded`, `failed` (the gateway refused; hold released) or
    `processing` (no answer yet; a webhook or `resume_refunds` finishes it).

    Raises:
        NotFound: no such request.
        InvalidState: the request is not pending.
    """
    # Two units of work on purpose: `processing` is committed before the gateway is
    # called, so no lock is held while it thinks and a lost answer is finished by
    # `resume_refunds`; the answer is applied in a second one (`apply_gateway_refund`).
    with unit_of_work():
        request, topup = lock_request(request_id)
        request.status = rules.move(request.status, rules.PROCESSING)
        decide(request, decided_by, note)
        # Our record of what the gateway can still refund; if the gateway disagrees
        # (a refund we have not booked yet), PortOne refuses instead of refunding twice.
        request.gateway_refundable_before = topup.amount - topup.refunded_amount
        call = refund_call(request, topup)
    return refund_at_gateway(call)
