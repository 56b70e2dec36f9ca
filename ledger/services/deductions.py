"""Deductions (the campaign engine spending credit) and their reversals.

A batch (`deduct_batch`) posts many deductions in one transaction under one lock of
each wallet it spends from. Lock order, shared with single deductions: every order_id
is claimed before any wallet is locked (a batch claims all of its keys at once, in
order_id order). So a transaction waits for another's key only while it holds no
wallet lock, and batches wait for each other's keys in one direction only: no cycle.
"""

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text

from ledger import clock, metrics
from ledger.book import (
    REVENUE,
    EntryDraft,
    LotMovement,
    PostedEntry,
    Wallet,
    idempotency,
    lock_wallets,
    open_lots,
    platform_account,
    post_entries,
    post_entry,
    settle_shortfalls,
    transfer,
    unit_of_work,
)
from ledger.domain import lots as lot_rules
from ledger.domain.deductions import RejectedItem
from ledger.domain.lots import LotBalance
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
    with _counted(), unit_of_work():
        claim = idempotency.claim(
            org_id=org_id, kind="deduction", order_id=order_id, request=request.fingerprint()
        )
        if claim.replay_of is not None:
            movement = _replay(org_id, int(claim.replay_of))
        else:
            wallet = lock_wallets(org_id, currency)["available"]
            movement = deduct_locked(org_id, wallet, request, open_lots(org_id, currency))
            idempotency.record(claim, movement.id)
    metrics.count_deduction("replayed" if movement.replayed else "created")
    return movement


@contextmanager
def _counted() -> Iterator[None]:
    """Count a deduction that fails by its error code."""
    try:
        yield
    except LedgerError as e:
        metrics.count_deduction(e.code)
        raise


def deduct_locked(
    org_id: uuid.UUID, wallet: Wallet, request: DeductionRequest, lots: list[LotBalance]
) -> Movement:
    """Post one deduction with the `available` wallet already locked.

    `lots` are the wallet's open lots as read under the lock.
    """
    posted = post_entry(_draft(org_id, wallet, request, lots), [wallet])
    return _movement(request, posted, wallet)


def _draft(
    org_id: uuid.UUID, wallet: Wallet, request: DeductionRequest, lots: list[LotBalance]
) -> EntryDraft:
    """The entry of one deduction, taking from `lots`, which are updated in place: a
    batch reads them once and drafts many deductions against them.

    Raises:
        InsufficientCredit: the unexpired lots hold less than the amount.
    """
    now = clock.now()
    available = lot_rules.spendable(lots, now)
    if available < request.amount:
        raise InsufficientCredit(available=available, currency=request.currency)
    taken = lot_rules.allocate(lots, request.amount, now)
    taken_by_lot = dict(taken)
    lots[:] = [
        dataclasses.replace(lot, remaining=lot.remaining - taken_by_lot.get(lot.id, 0))
        for lot in lots
    ]
    return EntryDraft(
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
    )


def _movement(request: DeductionRequest, posted: PostedEntry, wallet: Wallet) -> Movement:
    return Movement(
        id=posted.id,
        kind="deduction",
        order_id=request.order_id,
        amount=request.amount,
        currency=request.currency,
        balance_after=posted.balances_after[wallet.id],
        created_at=posted.created_at,
    )


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
        item
        if isinstance(item, RejectedItem)
        else DeductionRequest(**{"currency": currency, **item})
        for item in deductions
    ]
    valid = [r for r in requests if isinstance(r, DeductionRequest)]
    with unit_of_work():
        # The first occurrence of an order_id claims it; reversed() lets it win the dict.
        keys = idempotency.claim_many(
            org_id=org_id,
            kind="deduction",
            requests={r.order_id: r.fingerprint() for r in reversed(valid)},
        )
        earlier = _replays(org_id, [int(k.result_id) for k in keys.values() if k.result_id])
        # Sorted, so two batches spending several currencies lock them in the same order.
        currencies = sorted({r.currency for r in valid})
        wallets = {c: lock_wallets(org_id, c)["available"] for c in currencies}
        lots = {c: open_lots(org_id, c) for c in wallets}
        drafted: dict[str, _Planned] = {}
        slots = [_plan(org_id, r, keys, earlier, drafted, wallets, lots) for r in requests]
        planned = list(drafted.values())
        posted = post_entries([p.draft for p in planned], list(wallets.values()))
        for plan, entry in zip(planned, posted, strict=True):
            plan.movement = _movement(plan.request, entry, wallets[plan.request.currency])
            keys[plan.request.order_id].result_id = str(entry.id)
        idempotency.settle_many(org_id=org_id, kind="deduction", keys=list(keys.values()))
    outcomes = [slot if isinstance(slot, BatchOutcome) else slot.outcome() for slot in slots]
    for outcome in outcomes:
        metrics.count_deduction(outcome.result)
    return outcomes


@dataclass
class _Planned:
    """A batch item drafted for posting."""

    request: DeductionRequest
    draft: EntryDraft
    movement: Movement | None = None  # set once posted

    def outcome(self) -> BatchOutcome:
        return BatchOutcome(self.request.order_id, deduction=self.movement)


@dataclass(frozen=True)
class _Repeat:
    """A batch item that repeats an earlier item of the same batch."""

    request: DeductionRequest
    first: _Planned

    def outcome(self) -> BatchOutcome:
        movement = self.first.movement
        replayed = dataclasses.replace(movement, replayed=True) if movement else None
        return BatchOutcome(self.request.order_id, deduction=replayed)


def _plan(
    org_id: uuid.UUID,
    request: DeductionRequest | RejectedItem,
    keys: dict[str, idempotency.Key],
    earlier: dict[int, Movement],
    drafted: dict[str, "_Planned"],
    wallets: dict[str, Wallet],
    lots: dict[str, list[LotBalance]],
) -> BatchOutcome | _Planned | _Repeat:
    """One batch item: its answer now (rejected, conflict, replay of an earlier call,
    short of credit), or its draft, posted with the others' in one statement.

    `earlier` holds earlier calls' movements by entry id, `drafted` this batch's drafted
    items by order_id; a drafted item is added to it.
    """
    if isinstance(request, RejectedItem):
        return BatchOutcome(request.order_id, error=request.error)
    key = keys[request.order_id]
    fingerprint = idempotency.request_hash(request.fingerprint())
    first = drafted.get(request.order_id) or (
        earlier[int(key.result_id)] if key.result_id is not None else None
    )
    if first is not None:
        if key.request_hash != fingerprint:
            conflict = IdempotencyConflict(order_id=request.order_id)
            return BatchOutcome(request.order_id, error=conflict)
        if isinstance(first, _Planned):
            return _Repeat(request, first)
        return BatchOutcome(request.order_id, deduction=dataclasses.replace(first, replayed=True))
    try:
        draft = _draft(org_id, wallets[request.currency], request, lots[request.currency])
    except InsufficientCredit as e:
        return BatchOutcome(request.order_id, error=e)
    key.request_hash = fingerprint
    planned = _Planned(request, draft)
    drafted[request.order_id] = planned
    return planned


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
