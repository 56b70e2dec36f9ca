"""Grants: bonus credit an operator gives an organisation (never refundable)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from ledger.book import (
    GRANT_EXPENSE,
    EntryDraft,
    NewLot,
    idempotency,
    lock_wallets,
    platform_account,
    post_entry,
    transfer,
    unit_of_work,
)
from ledger.extensions import db


@dataclass(frozen=True)
class Grant:
    lot_id: uuid.UUID
    entry_id: int
    order_id: str
    amount: int
    currency: str
    expires_at: datetime | None
    reason: str
    balance_after: int
    created_at: datetime
    replayed: bool = False


def grant_credit(
    *,
    org_id: uuid.UUID,
    order_id: str,
    amount: int,
    currency: str,
    reason: str,
    granted_by: str,
    expires_at: datetime | None = None,
) -> Grant:
    """Give an organisation a `bonus` lot, paid for by the platform's grant expense."""
    request = {
        "amount": amount,
        "currency": currency,
        "reason": reason,
        "expires_at": expires_at.isoformat() if expires_at else None,
    }
    with unit_of_work():
        claim = idempotency.claim(org_id=org_id, kind="grant", order_id=order_id, request=request)
        if claim.replay_of is not None:
            return _replay(uuid.UUID(claim.replay_of))
        wallet = lock_wallets(org_id, currency)["available"]
        lot_id = uuid.uuid4()
        posted = post_entry(
            EntryDraft(
                kind="grant",
                org_id=org_id,
                currency=currency,
                postings=transfer(
                    source=platform_account(GRANT_EXPENSE, currency),
                    destination=wallet.id,
                    currency=currency,
                    amount=amount,
                ),
                order_id=order_id,
                description=reason,
                metadata={"granted_by": granted_by},
                new_lots=(NewLot(lot_id, "bonus", amount, expires_at=expires_at),),
            ),
            [wallet],
        )
        idempotency.record(claim, lot_id)
    return Grant(
        lot_id,
        posted.id,
        order_id,
        amount,
        currency,
        expires_at,
        reason,
        wallet.balance,
        posted.created_at,
    )


def _replay(lot_id: uuid.UUID) -> Grant:
    row = db.session.execute(
        text(
            "SELECT l.id, l.entry_id, l.amount, l.currency, l.expires_at, e.order_id, "
            "e.description, e.created_at, p.balance_after "
            "FROM lots l JOIN journal_entries e ON e.id = l.entry_id "
            "JOIN postings p ON p.entry_id = e.id AND p.balance_after IS NOT NULL "
            "WHERE l.id = :id"
        ),
        {"id": lot_id},
    ).one()
    return Grant(
        row.id,
        row.entry_id,
        row.order_id,
        row.amount,
        row.currency,
        row.expires_at,
        row.description,
        row.balance_after,
        row.created_at,
        replayed=True,
    )
