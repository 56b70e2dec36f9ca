"""Grants: bonus credit an operator gives an organisation (never refundable)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from ledger.domain.entries import EntryDraft, transfer
from ledger.extensions import db
from ledger.services import idempotency
from ledger.services.accounts import GRANT_EXPENSE, platform_account
from ledger.services.lots import credit_lot
from ledger.services.posting import post_entry
from ledger.services.transaction import atomic, lock_wallets


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
    with atomic():
        claim = idempotency.claim(org_id=org_id, kind="grant", order_id=order_id, request=request)
        if claim.replay_of is not None:
            return _replay(uuid.UUID(claim.replay_of))
        wallet = lock_wallets(org_id, currency)["available"]
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
            ),
            [wallet],
        )
        lot_id = credit_lot(
            org_id=org_id,
            kind="bonus",
            amount=amount,
            currency=currency,
            entry_id=posted.id,
            expires_at=expires_at,
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
