"""Reading an organisation's lots under its wallet lock, expiring them, and the shortfalls
they owe (credit the gateway took back after it had been spent).

Lots are created by the entry that funds them (`EntryDraft.new_lots`), so the posting
engine writes every lot and every lot movement."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from ledger import clock
from ledger.book.accounts import BREAKAGE, REFUND_SHORTFALL, platform_account
from ledger.book.engine import post_entry
from ledger.book.outbox import lot_data, record_event
from ledger.book.transaction import Wallet, lock_wallets, unit_of_work
from ledger.domain.disputes import settle_shortfall_first
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


def owe_shortfall(lot_id: object, amount: int) -> None:
    """The gateway took back `amount` of the lot's top-up after it was spent (wallet locked)."""
    db.session.execute(
        text("UPDATE lots SET shortfall = shortfall + :amount WHERE id = :id"),
        {"id": lot_id, "amount": amount},
    )


def settle_shortfalls(
    org_id: object, currency: str, returned: list[tuple[object, int]], wallets: dict[str, Wallet]
) -> None:
    """Credit just given back to lots that owe a shortfall settles it first.

    One `shortfall_settlement` entry moves the settled part from `available` (and the
    lots) to the platform's shortfall account, whose loss it makes good; only the rest
    stays spendable. Call with the `available` wallet locked, right after the give-back.
    """
    owed: dict[object, int] = {
        row.id: row.shortfall
        for row in db.session.execute(
            text("SELECT id, shortfall FROM lots WHERE id = ANY(:ids) AND shortfall > 0"),
            {"ids": [lot_id for lot_id, _ in returned]},
        )
    }
    settled = [
        (lot_id, settle_shortfall_first(amount, owed[lot_id])[0])
        for lot_id, amount in returned
        if lot_id in owed
    ]
    settled = [(lot_id, amount) for lot_id, amount in settled if amount > 0]
    if not settled:
        return
    total = sum(amount for _, amount in settled)
    post_entry(
        EntryDraft(
            kind="shortfall_settlement",
            org_id=org_id,
            currency=currency,
            postings=transfer(
                source=wallets["available"].id,
                destination=platform_account(REFUND_SHORTFALL, currency),
                currency=currency,
                amount=total,
            ),
            description="credit returned to a lot settles what the gateway took back",
            lot_movements=tuple(LotMovement(lot_id, -amount) for lot_id, amount in settled),
        ),
        wallets,
    )
    for lot_id, amount in settled:
        db.session.execute(
            text("UPDATE lots SET shortfall = shortfall - :amount WHERE id = :id"),
            {"id": lot_id, "amount": amount},
        )
