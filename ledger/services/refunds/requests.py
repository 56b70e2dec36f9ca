"""Refund requests: ask, cancel, reject (the hold moves with them), and reads."""

import uuid

from flask import current_app
from sqlalchemy import select

from ledger import clock
from ledger.book import (
    lock_wallets,
    record_event,
    unit_of_work,
)
from ledger.book.reports import Page, newest_first
from ledger.domain import refunds as rules
from ledger.extensions import db
from ledger.models import ExternalRefund, RefundRequest
from ledger.services import disputes
from ledger.services.refunds.locks import (
    decide,
    lock_open_request,
    lock_request,
    lock_request_wallets,
    lock_topup,
    move_hold,
    release,
    topup_lot,
)


def request_refund(
    *,
    org_id: uuid.UUID,
    topup_id: uuid.UUID,
    reason: str,
    requested_by: str,
    amount: int | None = None,
    refund_account: dict[str, str] | None = None,
) -> RefundRequest:
    """Ask for (part of) a top-up back; the amount is held at once.

    Raises:
        NotFound: no such top-up in this organisation.
        NotRefundable, RefundAlreadyPending, RefundWindowExpired, CreditConsumed,
        AmountExceedsRefundable, TopupDisputed, RefundAccountRequired: the policy
        refuses (`domain.refunds.amount_to_refund`).
    """
    with unit_of_work():
        topup = lock_topup(topup_id, org_id=org_id)
        has_open_request = lock_open_request(topup.id) is not None
        wallets = lock_wallets(org_id, topup.currency, "available", "held")
        lot = topup_lot(topup.id)
        facts = rules.RefundableTopup(
            status=topup.status,
            paid_at=topup.paid_at,
            lot_kind=lot.kind if lot else None,
            lot_remaining=lot.remaining if lot else 0,
            has_open_request=has_open_request,
            disputed=disputes.is_disputed(topup.id),
            bank_transfer=topup.bank_transfer,
            has_refund_account=refund_account is not None,
        )
        held = rules.amount_to_refund(
            facts, amount, clock.now(), current_app.config["REFUND_WINDOW_DAYS"]
        )
        request = RefundRequest(
            id=uuid.uuid4(),
            org_id=org_id,
            topup_id=topup.id,
            amount=held,
            currency=topup.currency,
            status=rules.PENDING,
            reason=reason,
            requested_by=requested_by,
            # Only a bank-transfer refund needs one; it is not kept for any other.
            refund_account=refund_account if topup.bank_transfer else None,
        )
        db.session.add(request)
        db.session.flush()
        move_hold(request, lot.id, wallets, release=False)
        record_event(org_id=org_id, type="refund_request.created", data=request)
    return request


def cancel_refund(*, org_id: uuid.UUID, request_id: uuid.UUID, canceled_by: str) -> RefundRequest:
    """The advertiser withdraws a pending request; the hold returns to the lot."""
    with unit_of_work():
        request, _ = lock_request(request_id, org_id=org_id)
        request.status = rules.move(request.status, rules.CANCELED)
        request.canceled_by = canceled_by
        release(request, lock_request_wallets(request))
    return request


def reject_refund(*, request_id: uuid.UUID, decided_by: str, reason: str) -> RefundRequest:
    """An operator refuses a pending request; the hold returns to the lot."""
    with unit_of_work():
        request, _ = lock_request(request_id)
        request.status = rules.move(request.status, rules.REJECTED)
        decide(request, decided_by, reason)
        release(request, lock_request_wallets(request))
    return request


def list_refund_requests(
    *,
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
    org_id: uuid.UUID | None = None,
) -> Page:
    """Refund requests newest first: one organisation's, or (operators) everyone's."""
    query = select(RefundRequest)
    if org_id is not None:
        query = query.where(RefundRequest.org_id == org_id)
    if status:
        query = query.where(RefundRequest.status == status)
    return newest_first(query, RefundRequest, limit=limit, cursor=cursor)


def list_external_refunds(
    *, limit: int, cursor: str | None = None, with_shortfall: bool = False
) -> Page:
    """Refunds made outside the service, newest first (operators)."""
    query = select(ExternalRefund)
    if with_shortfall:
        query = query.where(ExternalRefund.shortfall > 0)
    return newest_first(query, ExternalRefund, limit=limit, cursor=cursor)
