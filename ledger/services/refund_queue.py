"""What operators see of refunds: the queue, one request's case, and what needs a look.

Pending requests come first, oldest first (they have waited longest); the rest follow
newest first. `refundable` is what the top-up could still give back (its lot plus the
request's own hold while it is open); `consumed` is what was spent of it.

A request's audit trail is read from what the ledger already keeps: the request's own
columns (who asked, who decided, when it finished) and the journal entries booked for
it (the hold, its release, the refund).

Disputes (chargebacks) are listed with the refunds that need a look: they are refunds
the card network forces, and a lost one can leave the platform a shortfall too.
"""

import math
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import text

from ledger import clock
from ledger.book import unit_of_work
from ledger.domain.refunds import OPEN, window_closes_at
from ledger.errors import NotFound
from ledger.extensions import db

_QUEUE = text(
    """
    SELECT r.id, r.status, r.amount, r.currency, r.reason, r.created_at,
           r.requested_by, r.decided_by, r.decided_at, r.decision_note, r.canceled_by,
           r.completed_at, r.updated_at, r.failure_code, r.failure_message,
           o.id AS org_id, o.name AS org_name,
           t.id AS topup_id, t.provider, t.amount AS topup_amount, t.paid_at,
           t.refunded_amount, COALESCE(l.remaining, 0) AS lot_remaining
    FROM refund_requests r
    JOIN organizations o ON o.id = r.org_id
    JOIN topups t ON t.id = r.topup_id
    LEFT JOIN lots l ON l.topup_id = t.id
    WHERE (CAST(:request_id AS uuid) IS NULL OR r.id = :request_id)
      AND (CAST(:statuses AS text[]) IS NULL OR r.status = ANY(:statuses))
    ORDER BY r.status = 'pending' DESC,
             CASE WHEN r.status = 'pending' THEN r.created_at END ASC,
             r.created_at DESC
    LIMIT :limit
    """
)

# The entries booked for a request, with what each did to the organisation's `held` wallet.
_ENTRIES = text(
    """
    SELECT e.id, e.kind, e.created_at, e.description,
           COALESCE(sum(p.amount) FILTER (WHERE a.kind = 'held'), 0) AS held_change
    FROM journal_entries e
    JOIN postings p ON p.entry_id = e.id
    JOIN ledger_accounts a ON a.id = p.account_id
    WHERE e.refund_request_id = :request_id
    GROUP BY e.id
    ORDER BY e.id
    """
)

_SHORTFALLS = text(
    """
    SELECT x.id, x.org_id, o.name AS org_name, x.topup_id, x.provider, x.amount, x.currency,
           x.taken_back, x.shortfall, x.created_at
    FROM external_refunds x JOIN organizations o ON o.id = x.org_id
    WHERE x.shortfall > 0
    ORDER BY x.created_at DESC
    LIMIT :limit
    """
)

# Open disputes first (their credit is frozen), then the closed ones, newest first.
_DISPUTES = text(
    """
    SELECT d.id, d.org_id, o.name AS org_name, d.topup_id, d.provider, d.amount, d.currency,
           d.frozen, d.shortfall, d.status, d.reason, d.created_at, d.closed_at
    FROM disputes d JOIN organizations o ON o.id = d.org_id
    ORDER BY d.status = 'open' DESC, d.created_at DESC
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
    failure_code: str | None
    failure_message: str | None


@dataclass(frozen=True)
class TrailStep:
    """One thing that happened to a request: `what` is a message key of the pages."""

    at: datetime
    what: str
    by: str | None = None
    detail: str | None = None
    amount: int | None = None


@dataclass(frozen=True)
class RefundCase:
    refund: QueuedRefund
    trail: list[TrailStep]


@dataclass(frozen=True)
class OutsideShortfall:
    """A refund made outside the service whose credit had partly been spent."""

    id: uuid.UUID
    org_id: uuid.UUID
    org_name: str
    topup_id: uuid.UUID
    provider: str
    amount: int
    currency: str
    taken_back: int
    shortfall: int
    created_at: datetime


@dataclass(frozen=True)
class DisputeRow:
    id: uuid.UUID
    org_id: uuid.UUID
    org_name: str
    topup_id: uuid.UUID
    provider: str
    amount: int
    currency: str
    frozen: int
    shortfall: int
    status: str
    reason: str | None
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class RefundTroubles:
    """What an operator must look at: refunds stuck or failed, money the platform lost,
    and disputes."""

    processing: list[QueuedRefund]
    failed: list[QueuedRefund]
    shortfalls: list[OutsideShortfall]
    disputes: list[DisputeRow]


def refund_queue(
    *, statuses: Collection[str] | None = None, limit: int = 100
) -> list[QueuedRefund]:
    """Refund requests of every organisation, pending first (operators)."""
    with unit_of_work():
        rows = _queue_rows(statuses=statuses, limit=limit)
    return [_queued(row) for row in rows]


def refund_case(request_id: uuid.UUID) -> RefundCase:
    """One request as the queue shows it, with its audit trail (operators).

    Raises:
        NotFound: no such request.
    """
    with unit_of_work():
        rows = _queue_rows(request_id=request_id, limit=1)
        if not rows:
            raise NotFound("refund request not found")
        entries = db.session.execute(_ENTRIES, {"request_id": request_id}).all()
    return RefundCase(_queued(rows[0]), _trail(rows[0], entries))


def refund_troubles(*, limit: int = 100) -> RefundTroubles:
    """Refunds `processing` or `failed`, outside refunds with a shortfall, and disputes
    (operators)."""
    with unit_of_work():
        processing = _queue_rows(statuses=["processing"], limit=limit)
        failed = _queue_rows(statuses=["failed"], limit=limit)
        shortfalls = db.session.execute(_SHORTFALLS, {"limit": limit}).all()
        disputes = db.session.execute(_DISPUTES, {"limit": limit}).all()
    return RefundTroubles(
        processing=[_queued(row) for row in processing],
        failed=[_queued(row) for row in failed],
        shortfalls=[OutsideShortfall(**row._asdict()) for row in shortfalls],
        disputes=[DisputeRow(**row._asdict()) for row in disputes],
    )


def _queue_rows(
    *, request_id: uuid.UUID | None = None, statuses: Collection[str] | None = None, limit: int
) -> list:
    params = {
        "request_id": request_id,
        "statuses": list(statuses) if statuses is not None else None,
        "limit": limit,
    }
    return list(db.session.execute(_QUEUE, params).all())


def _queued(row) -> QueuedRefund:
    window_days = current_app.config["REFUND_WINDOW_DAYS"]
    held = row.amount if row.status in OPEN else 0
    refundable = row.lot_remaining + held
    days_left = None
    if row.paid_at is not None:
        left = window_closes_at(row.paid_at, window_days) - clock.now()
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
        failure_code=row.failure_code,
        failure_message=row.failure_message,
    )


# What an operator's decision is called, by the status it led to.
_DECISIONS = {
    "processing": "approved",
    "succeeded": "approved",
    "failed": "approved",
    "rejected": "rejected",
}


def _trail(row, entries) -> list[TrailStep]:
    steps = [TrailStep(row.created_at, "requested", row.requested_by, row.reason, row.amount)]
    if row.decided_at is not None:
        decision = _DECISIONS.get(row.status, "decided")
        steps.append(TrailStep(row.decided_at, decision, row.decided_by, row.decision_note))
    if row.status == "canceled":
        steps.append(TrailStep(row.updated_at or row.created_at, "canceled", row.canceled_by))
    if row.status in ("succeeded", "failed"):
        finished = row.completed_at or row.updated_at or row.decided_at or row.created_at
        steps.append(TrailStep(finished, row.status, detail=row.failure_message))
    steps.extend(
        TrailStep(e.created_at, f"entry {e.kind}", detail=f"#{e.id}", amount=int(e.held_change))
        for e in entries
    )
    # Entries and decisions share a transaction's time; entries show after what caused them.
    return sorted(steps, key=lambda step: (step.at, step.what.startswith("entry")))
