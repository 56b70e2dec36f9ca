"""Reading an organisation's lots under its wallet lock, and expiring them.

Lots are created by the entry that funds them (`EntryDraft.new_lots`), so the posting
engine writes every lot and every lot movement."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from ledger import clock
from ledger.book.accounts import BREAKAGE, platform_account
from ledger.book.engine import post_entry
from ledger.book.outbox import lot_data, record_event
from ledger.book.transaction import lock_wallets, unit_of_work
from ledger.domain.entries import EntryDraft, LotMovement, transfer
from ledger.domain.lots import LotBalance
from ledger.extensions import db

_OPEN_LOTS = text(
    "SELECT id, kind, remaining, expires_at, created_at FROM lots "
    "WHERE org_id = :org_id AND currency = :currency AND remaining > 0"
)


def open_lots(org_id: object, currency: str) -> list[LotBalance]:
    """The lots with credit left. Call with the `available` wallet locked."""
    rows = db.session.execute(_OPEN_LOTS, {"org_id": org_id, "currency": currency})
    return [LotBalance(r.id, r.kind, r.remaining, r.expires_at, r.created_at) for r in rows]


def expired_lot(lot: Any, amount: int) -> dict[str, Any]:
    """A lot as `GET .../balance` showed it, with what its expiry took (`expired`)."""
    shown = lot_data(
        id=lot.id, kind=lot.kind, remaining=0, expires_at=lot.expires_at, currency=lot.currency
    )
    return {**shown, "expired": amount}


@dataclass(frozen=True)
class ExpiryResult:
    lots_expired: int
    amount_expired: dict[str, int]


def expire_lots() -> ExpiryResult:
    """Move what is left of every expired lot out of its wallet into breakage.

    One entry per lot, and its `lot.expired` event. Each lot is re-read under its
    wallet lock, so running this twice, or concurrently, expires each remaining
    amount once.
    """
    due = db.session.execute(
        text(
            "SELECT id, org_id, currency, kind, expires_at FROM lots "
            "WHERE remaining > 0 AND expires_at <= :now ORDER BY expires_at"
        ),
        {"now": clock.now()},
    ).all()
    db.session.rollback()
    expired = 0
    amounts: dict[str, int] = {}
    for lot in due:
        with unit_of_work():
            wallet = lock_wallets(lot.org_id, lot.currency)["available"]
            remaining = db.session.execute(
                text("SELECT remaining FROM lots WHERE id = :id"), {"id": lot.id}
            ).scalar_one()
            if remaining == 0:
                continue
            post_entry(
                EntryDraft(
                    kind="expiry",
                    org_id=lot.org_id,
                    currency=lot.currency,
                    postings=transfer(
                        source=wallet.id,
                        destination=platform_account(BREAKAGE, lot.currency),
                        currency=lot.currency,
                        amount=remaining,
                    ),
                    description="expired credit",
                    reference=str(lot.id),
                    lot_movements=(LotMovement(lot.id, -remaining),),
                ),
                [wallet],
            )
            record_event(org_id=lot.org_id, type="lot.expired", data=expired_lot(lot, remaining))
        expired += 1
        amounts[lot.currency] = amounts.get(lot.currency, 0) + remaining
    return ExpiryResult(expired, amounts)
