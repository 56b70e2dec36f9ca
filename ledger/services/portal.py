"""What the advertiser portal shows and does that the API has no single call for.

Each function is one page's use case: the overview (balance, paid against bonus,
30 days of spending), the whole history for a CSV export, what a top-up could still
give back and why, and finishing a Stripe Checkout the customer came back from.
Reads end in a unit of work; changes go through the same services as the API.
"""

import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select, text

from ledger import clock
from ledger.book import REVENUE, reports, unit_of_work
from ledger.domain import refunds as rules
from ledger.errors import LedgerError, NotFound
from ledger.extensions import db
from ledger.models import Organization, RefundRequest, Topup
from ledger.services import disputes, topups
from ledger.services.organizations import get_organization
from ledger.services.refunds.locks import topup_lot

SPENDING_DAYS = 30
EXPORT_PAGE = 500


@dataclass(frozen=True)
class DaySpending:
    day: date
    amount: int


@dataclass(frozen=True)
class Overview:
    organization: Organization
    balance: reports.Balance
    paid: int  # of `available`, what came from top-ups (refundable within the window)
    bonus: int  # and what was granted (never refundable)
    spending: list[DaySpending]  # one per day, oldest first, today last
    recent: list[reports.EntryView]


# Spending is what reached the platform's revenue from the organisation's entries:
# deductions (and hold captures) less reversals, per UTC day.
_SPENDING = text(
    """
    SELECT (e.created_at AT TIME ZONE 'UTC')::date AS day, sum(p.amount) AS amount
    FROM journal_entries e
    JOIN postings p ON p.entry_id = e.id
    JOIN ledger_accounts a ON a.id = p.account_id
    WHERE e.org_id = :org_id AND e.currency = :currency AND e.created_at >= :since
      AND a.org_id IS NULL AND a.kind = :revenue
    GROUP BY 1
    """
)


def overview(*, org_id: uuid.UUID) -> Overview:
    """The portal's first page: balance, where it came from, and 30 days of spending."""
    organization = get_organization(org_id)
    currency = organization.currency
    balance = reports.balance(org_id=org_id, currency=currency)
    today = clock.now().date()
    first = today - timedelta(days=SPENDING_DAYS - 1)
    with unit_of_work():
        rows = db.session.execute(
            _SPENDING,
            {"org_id": org_id, "currency": currency, "since": first, "revenue": REVENUE},
        ).all()
    spent = {row.day: int(row.amount) for row in rows}
    recent = reports.list_entries(org_id=org_id, limit=8).data
    paid = sum(lot.remaining for lot in balance.lots if lot.kind == "paid")
    return Overview(
        organization=organization,
        balance=balance,
        paid=paid,
        bonus=balance.available - paid,
        spending=[
            DaySpending(first + timedelta(days=n), max(0, spent.get(first + timedelta(days=n), 0)))
            for n in range(SPENDING_DAYS)
        ],
        recent=recent,
    )


def all_entries(*, org_id: uuid.UUID, kind: str | None = None) -> Iterator[reports.EntryView]:
    """Every entry of the organisation, newest first, a page at a time (for the CSV)."""
    cursor = None
    while True:
        page = reports.list_entries(org_id=org_id, limit=EXPORT_PAGE, cursor=cursor, kind=kind)
        yield from page.data
        cursor = page.next_cursor
        if cursor is None:
            return


@dataclass(frozen=True)
class RefundOutlook:
    """A top-up as its refund form shows it: what it could give back, and why (not)."""

    topup: Topup
    refundable: int  # what a request could ask for now (0 when `refusal` says why not)
    unused: int  # what is left of its credit (its lot)
    held: int  # what an open refund request of it holds
    consumed: int  # what was spent of it
    window_closes_at: datetime | None
    days_left: int | None
    refusal: LedgerError | None  # the policy's answer to a request now, if it refuses
    requests: list[RefundRequest]


def refund_outlook(*, org_id: uuid.UUID, topup_id: uuid.UUID) -> RefundOutlook:
    """What `request_refund` would hold for this top-up now, by the same policy."""
    window_days = current_app.config["REFUND_WINDOW_DAYS"]
    now = clock.now()
    with unit_of_work():
        topup = topups.get_topup(org_id=org_id, topup_id=topup_id)
        lot = topup_lot(topup.id)
        requests = list(
            db.session.scalars(
                select(RefundRequest)
                .where(RefundRequest.org_id == org_id, RefundRequest.topup_id == topup.id)
                .order_by(RefundRequest.created_at.desc())
            )
        )
        facts = rules.RefundableTopup(
            status=topup.status,
            paid_at=topup.paid_at,
            lot_kind=lot.kind if lot else None,
            lot_remaining=lot.remaining if lot else 0,
            has_open_request=any(r.status in rules.OPEN for r in requests),
            disputed=disputes.is_disputed(topup.id),
            bank_transfer=topup.bank_transfer,
            # The form asks for the bank account a bank-transfer top-up goes back to.
            has_refund_account=True,
        )
    refusal, refundable = None, 0
    try:
        refundable = rules.amount_to_refund(facts, None, now, window_days)
    except LedgerError as e:
        refusal = e
    closes_at = days_left = None
    if topup.paid_at is not None:
        closes_at = rules.window_closes_at(topup.paid_at, window_days)
        days_left = max(0, math.ceil((closes_at - now) / timedelta(days=1)))
    held = sum(r.amount for r in requests if r.status in rules.OPEN)
    unused = facts.lot_remaining
    paid = topup.amount - topup.refunded_amount if topup.paid_at else 0
    return RefundOutlook(
        topup=topup,
        refundable=refundable,
        unused=unused,
        held=held,
        consumed=max(0, paid - unused - held),
        window_closes_at=closes_at,
        days_left=days_left,
        refusal=refusal,
        requests=requests,
    )


def finish_checkout(*, org_id: uuid.UUID, checkout_session_id: str) -> Topup:
    """The customer is back from Stripe Checkout: ask Stripe now, credit if it is paid.

    Raises:
        NotFound: no top-up of this organisation has that Checkout Session.
        GatewayUnavailable: Stripe did not answer (the webhook will still credit it).
    """
    with unit_of_work():
        topup = db.session.scalar(
            select(Topup).where(
                Topup.org_id == org_id,
                Topup.provider == "stripe",
                Topup.gateway_checkout_id == checkout_session_id,
            )
        )
        if topup is None:
            raise NotFound("top-up not found")
        topup_id = topup.id
    return topups.sync_topup(topup_id)
