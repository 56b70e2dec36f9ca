"""Finding and locking a refund's rows and wallets, and the entries a refund posts."""

import uuid
from typing import Any

from sqlalchemy import select, text

from ledger import clock
from ledger.book import (
    EntryDraft,
    LotMovement,
    Wallet,
    gateway_clearing,
    lock_wallets,
    post_entry,
    record_event,
    settle_shortfalls,
    transfer,
)
from ledger.domain import refunds as rules
from ledger.domain import topups as topup_rules
from ledger.errors import NotFound
from ledger.extensions import db
from ledger.models import RefundRequest, Topup


def get_refund_request(*, request_id: uuid.UUID, org_id: uuid.UUID | None = None) -> RefundRequest:
    """One request; with `org_id`, only that organisation's."""
    query = select(RefundRequest).where(RefundRequest.id == request_id)
    if org_id is not None:
        query = query.where(RefundRequest.org_id == org_id)
    request = db.session.scalar(query)
    if request is None:
        raise NotFound("refund request not found")
    return request


def lock_topup(topup_id: uuid.UUID, org_id: uuid.UUID | None = None) -> Topup:
    query = select(Topup).where(Topup.id == topup_id)
    if org_id is not None:
        query = query.where(Topup.org_id == org_id)
    topup = db.session.scalar(query.with_for_update().execution_options(populate_existing=True))
    if topup is None:
        raise NotFound("top-up not found")
    return topup


def lock_request(
    request_id: uuid.UUID, org_id: uuid.UUID | None = None
) -> tuple[RefundRequest, Topup]:
    """Lock the request's top-up, then the request (the lock order of this module)."""
    topup_id = get_refund_request(request_id=request_id, org_id=org_id).topup_id
    topup = lock_topup(topup_id)
    request = db.session.scalars(
        select(RefundRequest)
        .where(RefundRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return request, topup


def succeeded_request(topup_id: uuid.UUID, refund_id: str | None) -> RefundRequest | None:
    """The top-up's succeeded request whose gateway refund is `refund_id`, if any."""
    if not refund_id:
        return None
    return db.session.scalar(
        select(RefundRequest).where(
            RefundRequest.topup_id == topup_id,
            RefundRequest.gateway_refund_id == refund_id,
            RefundRequest.status == rules.SUCCEEDED,
        )
    )


def open_request(topup_id: uuid.UUID) -> RefundRequest | None:
    return db.session.scalar(
        select(RefundRequest).where(
            RefundRequest.topup_id == topup_id, RefundRequest.status.in_(rules.OPEN)
        )
    )


def lock_open_request(topup_id: uuid.UUID) -> RefundRequest | None:
    """The top-up's open request, locked (call with the top-up locked)."""
    return db.session.scalar(
        select(RefundRequest)
        .where(RefundRequest.topup_id == topup_id, RefundRequest.status.in_(rules.OPEN))
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def get_request(request_id: uuid.UUID) -> RefundRequest:
    return db.session.scalars(
        select(RefundRequest)
        .where(RefundRequest.id == request_id)
        .execution_options(populate_existing=True)
    ).one()


def topup_lot(topup_id: uuid.UUID) -> Any:
    """The lot a paid top-up made (call with the available wallet locked)."""
    return db.session.execute(
        text("SELECT id, kind, remaining FROM lots WHERE topup_id = :topup_id"),
        {"topup_id": topup_id},
    ).one_or_none()


def decide(request: RefundRequest, decided_by: str, note: str | None) -> None:
    request.decided_by = decided_by
    request.decided_at = clock.now()
    request.decision_note = note
    request.updated_at = request.decided_at


def move_hold(
    request: RefundRequest, lot_id: uuid.UUID, wallets: dict[str, Wallet], *, release: bool
) -> None:
    """Hold: the amount leaves the lot and `available` for `held`. Release: the reverse."""
    available, held = wallets["available"], wallets["held"]
    source, destination = (held, available) if release else (available, held)
    post_entry(
        EntryDraft(
            kind="refund_release" if release else "refund_hold",
            org_id=request.org_id,
            currency=request.currency,
            postings=transfer(
                source=source.id,
                destination=destination.id,
                currency=request.currency,
                amount=request.amount,
            ),
            description=f"refund request {request.status}",
            reference=str(request.id),
            topup_id=request.topup_id,
            refund_request_id=request.id,
            lot_movements=(LotMovement(lot_id, request.amount if release else -request.amount),),
        ),
        wallets,
    )


def lock_request_wallets(request: RefundRequest) -> dict[str, Wallet]:
    return lock_wallets(request.org_id, request.currency, "available", "held")


def release(request: RefundRequest, wallets: dict[str, Wallet]) -> None:
    """Give a closed request's hold back to its top-up's lot (top-up and request locked);
    a shortfall the lot owes is settled first. Announces how it closed:
    `refund_request.canceled`, `.rejected` or `.failed`."""
    lot_id = topup_lot(request.topup_id).id
    move_hold(request, lot_id, wallets, release=True)
    settle_shortfalls(request.org_id, request.currency, [(lot_id, request.amount)], wallets)
    request.updated_at = clock.now()
    record_event(org_id=request.org_id, type=f"refund_request.{request.status}", data=request)


def settle(
    request: RefundRequest,
    topup: Topup,
    wallets: dict[str, Wallet],
    gateway_refund_id: str | None,
) -> None:
    """The gateway refunded the request: the held amount goes to gateway clearing."""
    request.status = rules.move(request.status, rules.SUCCEEDED)
    request.gateway_refund_id = request.gateway_refund_id or gateway_refund_id
    request.completed_at = request.updated_at = clock.now()
    post_entry(
        EntryDraft(
            kind="refund",
            org_id=request.org_id,
            currency=request.currency,
            postings=transfer(
                source=wallets["held"].id,
                destination=gateway_clearing(topup.provider, request.currency),
                currency=request.currency,
                amount=request.amount,
            ),
            description=f"{topup.provider} refund",
            reference=request.gateway_refund_id,
            topup_id=topup.id,
            refund_request_id=request.id,
        ),
        wallets,
    )
    record_event(org_id=request.org_id, type="refund_request.succeeded", data=request)
    add_refunded(topup, request.amount)


def add_refunded(topup: Topup, amount: int) -> None:
    new_status = topup_rules.status_after_refund(topup.amount, topup.refunded_amount + amount)
    topup.status = topup_rules.move(topup.status, new_status)
    topup.refunded_amount += amount
    topup.updated_at = clock.now()
    record_event(org_id=topup.org_id, type="topup.refunded", data=topup)
