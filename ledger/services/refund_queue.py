"""The operators' refund queue: each request with what an operator needs to decide it.

Pending requests come first, oldest first (they have waited longest); the rest follow
newest first. `refundable` is what the top-up could still give back (its lot plus the
request's own hold while it is open); `consumed` is what was spent of it.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import text

from ledger import clock
from ledger.book import unit_of_work
from ledger.domain.refunds import OPEN, window_closes_at
from ledger.extensions import db

_QUEUE = text(
    """
    SELECT r.id, r.status, r.amount, r.currency, r.reason, r.created_at,
           o.id AS org_id, o.name AS org_name,
           t.id AS topup_id, t.provider, t.amount AS topup_amount, t.paid_at,
           t.refunded_amount, COALESCE(l.remaining, 0) AS lot_remaining
    FROM refund_requests r
    JOIN organizations o ON o.id = r.org_id
    JOIN topups t ON t.id = r.topup_id
    LEFT JOIN lots l ON l.topup_id = t.id
    ORDER BY r.status = 'pending' DESC,
             CASE WHEN r.status = 'pending' THEN r.created_at END ASC,
             r.created_at DESC
    LIMIT :limit
    """
)


@dataclass(frozen=True)
class QueuedRefund:
    id: uuid.UUID
    status: str
    amount: int
    currency: str
    reason: str
    created_at: datetime
    org_id: uuid.UUID
    org_name: str
    topup_id: uuid.UUID
    provider: str
    topup_amount: int
    paid_at: datetime | None
    days_left: int | None  # in the refund window; None before payment
    refundable: int
    consumed: int


def refund_queue(*, limit: int = 100) -> list[QueuedRefund]:
    """Refund requests of every organisation, pending first (operators)."""
    with unit_of_work():
        rows = db.session.execute(_QUEUE, {"limit": limit}).all()
    window = timedelta(days=current_app.config["REFUND_WINDOW_DAYS"])
    return [_queued(row, window, clock.now()) for row in rows]


def _queued(row, window: timedelta, now: datetime) -> QueuedRefund:
    held = row.amount if row.status in OPEN else 0
    refundable = row.lot_remaining + held
    days_left = None
    if row.paid_at is not None:
        left = window_closes_at(row.paid_at, window.days) - now
        days_left = max(0, math.ceil(left / timedelta(days=1)))
    return QueuedRefund(
        id=row.id,
        status=row.status,
        amount=row.amount,
        currency=row.currency,
        reason=row.reason,
        created_at=row.created_at,
        org_id=row.org_id,
        org_name=row.org_name,
        topup_id=row.topup_id,
        provider=row.provider,
        topup_amount=row.topup_amount,
        paid_at=row.paid_at,
        days_left=days_left,
        refundable=refundable,
        consumed=max(0, row.topup_amount - row.refunded_amount - refundable),
    )
