"""Deductions (the campaign engine spending credit) and their reversals.

A deduction, single or a batch of up to 1,000, is one call of the core's
`book.deductions.deduct`: one database round trip and one transaction, in which every
order_id is claimed (in order_id order) before any wallet is locked, so batches and
single deductions never wait on each other in a cycle. Each item is answered as a
single call would be.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text

from ledger import metrics
from ledger.book import (
    REVENUE,
    EntryDraft,
    LotMovement,
    idempotency,
    lock_wallets,
    platform_account,
    post_entry,
    settle_shortfalls,
    transfer,
    unit_of_work,
)
from ledger.book import deductions as book
from ledger.domain import lots as lot_rules
from ledger.domain.deductions import RejectedItem
from ledger.errors import (
    IdempotencyConflict,
    InsufficientCredit,
    LedgerError,
    NotFound,
    ReversalExceedsDeduction,
)
from ledger.extensions import db
from ledger.services import disputes
from ledger.services.holds import captured_lots


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
    request = book.Deduction(order_id, amount, currency, description, reference, metadata)
    try:
        movement = _answer(request, book.deduct(org_id, [request])[0])
    except LedgerError as e:
        metrics.count_deduction(e.code)
        raise
    metrics.count_deduction("replayed" if movement.replayed else "created")
    return movement


@dataclass(frozen=True)
class BatchOutcome:
    """One item's answer: the deduction, or the error a single call would have given."""

    order_id: str | None
    deduction: Movement | None = None
    error: LedgerError | None = None

    @property
    def status(self) -> int:
        return self.error.http_status if self.error else 201

    @property
    def result(self) -> str:
        """What happened, as the metrics count it: created, replayed, or the error code."""
        if self.error:
            return self.error.code
        return "replayed" if self.deduction and self.deduction.replayed else "created"


def deduct_batch(
    *, org_id: uuid.UUID, currency: str, deductions: list[dict[str, Any] | RejectedItem]
) -> list[BatchOutcome]:
    """Apply deductions in order, in one transaction, each as a single call would.

    Items are independent: one that fails (402, 409, 422) writes nothing and does not
    undo the others. An order_id seen before, in an earlier call or earlier in this
    batch, replays that result or conflicts, as a single deduction would.

    Args:
        currency: the currency of items that name none (the organisation's).
        deductions: parsed items (DeductionCreateSchema fields), or rejected ones.
    """
    requests = [
        item if isinstance(item, RejectedItem) else book.Deduction(**{"currency": currency, **item})
        for item in deductions
    ]
    valid = [r for r in requests if isinstance(r, book.Deduction)]
    answers = iter(book.deduct(org_id, valid))
    outcomes = [
        BatchOutcome(r.order_id, error=r.error)
        if isinstance(r, RejectedItem)
        else _batch_outcome(r, next(answers))
        for r in requests
    ]
    for outcome in outcomes:
        metrics.count_deduction(outcome.result)
    return outcomes


def _batch_outcome(request: book.Deduction, answer: book.Deducted) -> BatchOutcome:
    try:
        return BatchOutcome(request.order_id, deduction=_answer(request, answer))
    except LedgerError as e:
        return BatchOutcome(request.order_id, error=e)


def _answer(request: book.Deduction, answer: book.Deducted) -> Movement:
    """The movement a single call answers with.

    Raises:
        IdempotencyConflict, InsufficientCredit: as the core decided.
    """
    if answer.outcome == book.CONFLICT:
        raise IdempotencyConflict(order_id=request.order_id)
    posted = answer.posted
    if posted is None:
        raise InsufficientCredit(available=answer.available, currency=request.currency)
    return Movement(
        id=posted.entry_id,
        kind="deduction",
        order_id=request.order_id,
        amount=posted.amount,
        currency=posted.currency,
        balance_after=posted.balance_after,
        created_at=posted.created_at,
        replayed=answer.outcome == book.REPLAYED,
    )


def reverse_deduction(
    *, org_id: uuid.UUID, deduction_id: int, order_id: str, amount: int | None = None
) -> Movement:
    """Give back (part of) a deduction, or a capture from a hold, to the lots it came from.

    A capture's credit returns to `available`, not to its hold.

    Raises:
        NotFound: no such deduction in this organisation.
        ReversalExceedsDeduction: more than what is left of the deduction.
    """
    with unit_of_work():
        deduction = _find_deduction(org_id, deduction_id)
        claim = idempotency.claim(
            org_id=org_id,
            kind="reversal",
            order_id=order_id,
            request={"deduction_id": deduction_id, "amount": amount},
        )
        if claim.replay_of is not None:
            return _replay(org_id, int(claim.replay_of))
        # Both wallets, in the one lock order: credit coming back may be frozen (a dispute).
        wallets = lock_wallets(org_id, deduction.currency, "available", "held")
        wallet = wallets["available"]
        outstanding = _outstanding_by_lot(deduction)
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
        balance_after = wallet.balance
        # Credit back in a lot whose top-up the gateway took back after it was spent
        # settles that shortfall first, and credit back in a disputed top-up's lot is
        # frozen with the rest of it (entries of their own; the reversal stays whole).
        settle_shortfalls(org_id, deduction.currency, returned, wallets)
        disputes.freeze_returned([lot_id for lot_id, _ in returned], wallets)
        idempotency.record(claim, posted.id)
    return Movement(
        id=posted.id,
        kind="reversal",
        order_id=order_id,
        amount=to_reverse,
        currency=deduction.currency,
        balance_after=balance_after,
        created_at=posted.created_at,
        deduction_id=deduction_id,
    )


def _find_deduction(org_id: uuid.UUID, deduction_id: int) -> Any:
    row = db.session.execute(
        text(
            "SELECT id, kind, currency, order_id FROM journal_entries "
            "WHERE id = :id AND org_id = :org_id AND kind IN ('deduction', 'hold_capture')"
        ),
        {"id": deduction_id, "org_id": org_id},
    ).one_or_none()
    if row is None:
        raise NotFound("deduction not found")
    return row


def _outstanding_by_lot(deduction: Any) -> list[tuple[object, int]]:
    """What the deduction (or capture) still holds of each lot, in the order it took them."""
    if deduction.kind == "hold_capture":
        taken = captured_lots(deduction.id)
    else:
        rows = db.session.execute(
            text(
                "SELECT lot_id, -amount AS taken FROM lot_allocations "
                "WHERE entry_id = :id ORDER BY lot_allocations.id"
            ),
            {"id": deduction.id},
        )
        taken = [(row.lot_id, int(row.taken)) for row in rows]
    returned: dict[object, int] = {
        row.lot_id: int(row.returned)
        for row in db.session.execute(
            text(
                "SELECT a.lot_id, sum(a.amount) AS returned FROM lot_allocations a "
                "JOIN journal_entries e ON e.id = a.entry_id "
                "WHERE e.reverses_entry_id = :id AND e.kind = 'reversal' GROUP BY a.lot_id"
            ),
            {"id": deduction.id},
        )
    }
    return [(lot_id, int(amount - returned.get(lot_id, 0))) for lot_id, amount in taken]


def _replay(org_id: uuid.UUID, entry_id: int) -> Movement:
    """The movement an earlier request with the same order_id made."""
    return _replays(org_id, [entry_id])[entry_id]


def _replays(org_id: uuid.UUID, entry_ids: list[int]) -> dict[int, Movement]:
    """The movements earlier requests made, by entry id (one round trip)."""
    if not entry_ids:
        return {}
    rows = db.session.execute(
        text(
            "SELECT e.id, e.kind, e.order_id, e.currency, e.created_at, e.reverses_entry_id, "
            "       p.amount, p.balance_after "
            "FROM journal_entries e JOIN postings p ON p.entry_id = e.id "
            "JOIN ledger_accounts a ON a.id = p.account_id AND a.org_id = e.org_id "
            "WHERE e.id = ANY(:ids) AND e.org_id = :org_id"
        ),
        {"ids": entry_ids, "org_id": org_id},
    )
    return {
        row.id: Movement(
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
        for row in rows
    }
