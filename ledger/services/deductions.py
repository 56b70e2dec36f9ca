"""Deductions (the campaign engine spending credit) and their reversals."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text

from ledger import clock
from ledger.domain import lots as lot_rules
from ledger.domain.entries import EntryDraft, LotMovement, transfer
from ledger.errors import InsufficientCredit, NotFound, ReversalExceedsDeduction
from ledger.extensions import db
from ledger.services import idempotency
from ledger.services.accounts import REVENUE, platform_account
from ledger.services.lots import open_lots
from ledger.services.posting import post_entry
from ledger.services.transaction import Wallet, atomic, lock_wallets


@dataclass(frozen=True)
class Movement:
    """A deduction or reversal as the caller sees it."""

    id: int
    kind: str
    order_id: str
    amount: int
    currency: str
    balance_after: int
    created_at: datetime
    deduction_id: int | None = None
    replayed: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class DeductionRequest:
    order_id: str
    amount: int
    currency: str
    description: str | None = None
    reference: str | None = None
    metadata: dict[str, Any] | None = None

    def fingerprint(self) -> dict:
        return {
            "amount": self.amount,
            "currency": self.currency,
            "description": self.description,
            "reference": self.reference,
            "metadata": self.metadata,
        }


def deduct(
    *,
    org_id: uuid.UUID,
    order_id: str,
    amount: int,
    currency: str,
    description: str | None = None,
    reference: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Movement:
    """Spend credit, soonest-expiring lots first; never below zero.

    Raises:
        InsufficientCredit: the unexpired lots hold less than `amount`.
        IdempotencyConflict: `order_id` was used for a different deduction.
    """
    request = DeductionRequest(order_id, amount, currency, description, reference, metadata)
    with atomic():
        claim = idempotency.claim(
            org_id=org_id, kind="deduction", order_id=order_id, request=request.fingerprint()
        )
        if claim.replay_of is not None:
            return _replay(org_id, int(claim.replay_of))
        wallet = lock_wallets(org_id, currency)["available"]
        movement = deduct_locked(org_id, wallet, request)
        idempotency.record(claim, movement.id)
    return movement


def deduct_locked(org_id: uuid.UUID, wallet: Wallet, request: DeductionRequest) -> Movement:
    """Post one deduction with the `available` wallet already locked."""
    lots = open_lots(org_id, request.currency)
    now = clock.now()
    available = lot_rules.spendable(lots, now)
    if available < request.amount:
        raise InsufficientCredit(available=available, currency=request.currency)
    taken = lot_rules.allocate(lots, request.amount, now)
    posted = post_entry(
        EntryDraft(
            kind="deduction",
            org_id=org_id,
            currency=request.currency,
            postings=transfer(
                source=wallet.id,
                destination=platform_account(REVENUE, request.currency),
                currency=request.currency,
                amount=request.amount,
            ),
            order_id=request.order_id,
            description=request.description,
            reference=request.reference,
            metadata=request.metadata,
            lot_movements=tuple(LotMovement(lot_id, -amount) for lot_id, amount in taken),
        ),
        [wallet],
    )
    return Movement(
        id=posted.id,
        kind="deduction",
        order_id=request.order_id,
        amount=request.amount,
        currency=request.currency,
        balance_after=wallet.balance,
        created_at=posted.created_at,
    )


def reverse_deduction(
    *, org_id: uuid.UUID, deduction_id: int, order_id: str, amount: int | None = None
) -> Movement:
    """Give back (part of) a deduction to the lots it came from.

    Raises:
        NotFound: no such deduction in this organisation.
        ReversalExceedsDeduction: more than what is left of the deduction.
    """
    with atomic():
        deduction = _find_deduction(org_id, deduction_id)
        claim = idempotency.claim(
            org_id=org_id,
            kind="reversal",
            order_id=order_id,
            request={"deduction_id": deduction_id, "amount": amount},
        )
        if claim.replay_of is not None:
            return _replay(org_id, int(claim.replay_of))
        wallet = lock_wallets(org_id, deduction.currency)["available"]
        outstanding = _outstanding_by_lot(deduction_id)
        left = sum(amount for _, amount in outstanding)
        to_reverse = left if amount is None else amount
        if to_reverse <= 0 or to_reverse > left:
            raise ReversalExceedsDeduction(reversible=left, currency=deduction.currency)
        returned = lot_rules.give_back(outstanding, to_reverse)
        posted = post_entry(
            EntryDraft(
                kind="reversal",
                org_id=org_id,
                currency=deduction.currency,
                postings=transfer(
                    source=platform_account(REVENUE, deduction.currency),
                    destination=wallet.id,
                    currency=deduction.currency,
                    amount=to_reverse,
                ),
                order_id=order_id,
                description=f"reversal of deduction {deduction_id}",
                reference=deduction.order_id,
                reverses_entry_id=deduction_id,
                lot_movements=tuple(LotMovement(lot_id, amt) for lot_id, amt in returned),
            ),
            [wallet],
        )
        idempotency.record(claim, posted.id)
    return Movement(
        id=posted.id,
        kind="reversal",
        order_id=order_id,
        amount=to_reverse,
        currency=deduction.currency,
        balance_after=wallet.balance,
        created_at=posted.created_at,
        deduction_id=deduction_id,
    )


def _find_deduction(org_id: uuid.UUID, deduction_id: int) -> Any:
    row = db.session.execute(
        text(
            "SELECT id, currency, order_id FROM journal_entries "
            "WHERE id = :id AND org_id = :org_id AND kind = 'deduction'"
        ),
        {"id": deduction_id, "org_id": org_id},
    ).one_or_none()
    if row is None:
        raise NotFound("deduction not found")
    return row


def _outstanding_by_lot(deduction_id: int) -> list[tuple[object, int]]:
    """What the deduction still holds of each lot, in the order it took them."""
    rows = db.session.execute(
        text(
            """
            SELECT a.lot_id, -sum(a.amount) AS outstanding, min(a.id) AS first_taken
            FROM lot_allocations a JOIN journal_entries e ON e.id = a.entry_id
            WHERE e.id = :id OR (e.reverses_entry_id = :id AND e.kind = 'reversal')
            GROUP BY a.lot_id ORDER BY first_taken
            """
        ),
        {"id": deduction_id},
    )
    return [(r.lot_id, int(r.outstanding)) for r in rows]


def _replay(org_id: uuid.UUID, entry_id: int) -> Movement:
    """The movement an earlier request with the same order_id made."""
    row = db.session.execute(
        text(
            "SELECT e.id, e.kind, e.order_id, e.currency, e.created_at, e.reverses_entry_id, "
            "       p.amount, p.balance_after "
            "FROM journal_entries e JOIN postings p ON p.entry_id = e.id "
            "JOIN ledger_accounts a ON a.id = p.account_id AND a.org_id = e.org_id "
            "WHERE e.id = :id AND e.org_id = :org_id"
        ),
        {"id": entry_id, "org_id": org_id},
    ).one()
    return Movement(
        id=row.id,
        kind=row.kind,
        order_id=row.order_id,
        amount=abs(row.amount),
        currency=row.currency,
        balance_after=row.balance_after,
        created_at=row.created_at,
        deduction_id=row.reverses_entry_id,
        replayed=True,
    )
