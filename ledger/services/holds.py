"""Holds: reserve a campaign's budget, capture from it, give back the rest.

Design overview
---------------
- `create_hold` takes the amount from lots in the usual order under the `available`
  wallet's lock, in one entry (`hold`: available -> reserved, the lots go down), and
  records what it took from each lot (`hold_lots`, in order).
- `capture_hold` spends from the hold (`hold_capture`: reserved -> revenue). The lots
  are not touched: their credit left them when the hold was made; which lots a capture
  came from follows from `hold_lots` and the captures before it (`domain.holds`).
- `void_hold`, a `final` capture and `expire_holds` give back what is left
  (`hold_release`: reserved -> available, and to breakage for a part whose lot has
  expired), to the lots it came from.

Locks are taken in one order: the order_id's idempotency key, then the hold's row, then
the wallets (in id order, `lock_wallets`). Nothing waits for a hold's row while holding
a wallet, so there is no cycle. A capture that is not final touches only the `reserved`
wallet, so it never waits for deductions. The hold row's lock and the status check
under it make a second void, a capture after a void, or expiry racing a capture, find
the hold closed and change nothing.
"""

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, or_, select, text

from ledger import clock
from ledger.book import (
    BREAKAGE,
    REVENUE,
    EntryDraft,
    LotMovement,
    PostingDraft,
    Wallet,
    idempotency,
    lock_wallets,
    open_lots,
    platform_account,
    post_entries,
    post_entry,
    record_event,
    settle_shortfalls,
    transfer,
    unit_of_work,
)
from ledger.book.reports import Page, newest_first
from ledger.domain import holds as rules
from ledger.domain import lots as lot_rules
from ledger.errors import InsufficientCredit, NotFound
from ledger.extensions import db
from ledger.models import Hold, HoldCapture, HoldLot
from ledger.services import disputes

# The wallets a release may touch: `held` too, when credit comes back to a disputed lot.
_RELEASING = ("available", "held", "reserved")


@dataclass(frozen=True)
class HoldView:
    """A hold as the caller sees it."""

    id: uuid.UUID
    order_id: str
    status: str
    amount: int
    captured: int
    remaining: int
    currency: str
    expires_at: datetime
    reference: str | None
    description: str | None
    metadata: dict[str, Any] | None
    created_at: datetime
    replayed: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class CaptureView:
    id: int
    hold_id: uuid.UUID
    order_id: str
    amount: int
    currency: str
    final: bool
    created_at: datetime
    replayed: bool = field(default=False, compare=False)


def create_hold(
    *,
    org_id: uuid.UUID,
    order_id: str,
    amount: int,
    currency: str,
    expires_at: datetime | None = None,
    description: str | None = None,
    reference: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> HoldView:
    """Reserve credit, soonest-expiring lots first; never below zero.

    Raises:
        InsufficientCredit: the unexpired lots hold less than `amount`.
        IdempotencyConflict: `order_id` was used for a different hold.
        ValidationFailed: `expires_at` is not in the future (checked after a replay,
            which answers as the first request did).
    """
    request = {
        "amount": amount,
        "currency": currency,
        "expires_at": expires_at.isoformat() if expires_at else None,
        "description": description,
        "reference": reference,
        "metadata": metadata,
    }
    with unit_of_work():
        claim = idempotency.claim(org_id=org_id, kind="hold", order_id=order_id, request=request)
        if claim.replay_of is not None:
            return _as_created(_get(org_id, uuid.UUID(claim.replay_of)), replayed=True)
        now = clock.now()
        expiry = rules.expiry(expires_at, now, current_app.config["HOLD_DEFAULT_TTL_HOURS"])
        wallets = lock_wallets(org_id, currency, "available", "reserved")
        lots = open_lots(org_id, currency)
        spendable = lot_rules.spendable(lots, now)
        if spendable < amount:
            raise InsufficientCredit(available=spendable, currency=currency)
        taken = lot_rules.allocate(lots, amount, now)
        posted = post_entry(
            EntryDraft(
                kind="hold",
                org_id=org_id,
                currency=currency,
                postings=transfer(
                    source=wallets["available"].id,
                    destination=wallets["reserved"].id,
                    currency=currency,
                    amount=amount,
                ),
                order_id=order_id,
                description=description,
                reference=reference,
                metadata=metadata,
                lot_movements=tuple(LotMovement(lot_id, -part) for lot_id, part in taken),
            ),
            wallets,
        )
        hold = Hold(
            id=uuid.uuid4(),
            org_id=org_id,
            order_id=order_id,
            currency=currency,
            amount=amount,
            captured=0,
            released=0,
            status=rules.ACTIVE,
            expires_at=expiry,
            description=description,
            reference=reference,
            metadata_=metadata,
            entry_id=posted.id,
            created_at=posted.created_at,
        )
        db.session.add(hold)
        db.session.add_all(
            HoldLot(org_id=org_id, hold_id=hold.id, lot_id=lot_id, position=n, amount=part)
            for n, (lot_id, part) in enumerate(taken)
        )
        idempotency.record(claim, hold.id)
        return _as_created(hold)  # read before the commit expires the object


def capture_hold(
    *, org_id: uuid.UUID, hold_id: uuid.UUID, order_id: str, amount: int, final: bool = False
) -> CaptureView:
    """Spend from an active hold; a `final` capture gives back the rest.

    Raises:
        NotFound: no such hold in this organisation.
        HoldNotActive: the hold is captured, voided or past its expiry.
        CaptureExceedsHold: more than what remains of the hold.
        IdempotencyConflict: `order_id` was used for a different capture.
    """
    request = {"hold_id": str(hold_id), "amount": amount, "final": final}
    with unit_of_work():
        claim = idempotency.claim(
            org_id=org_id, kind="hold_capture", order_id=order_id, request=request
        )
        hold = _lock(org_id, hold_id)
        if claim.replay_of is not None:
            first = db.session.scalars(
                select(HoldCapture).where(HoldCapture.id == int(claim.replay_of))
            ).one()
            return _capture_view(first, replayed=True)
        currency = hold.currency
        # Only a release touches `available`; other captures leave deductions alone.
        wallets = lock_wallets(org_id, currency, *(_RELEASING if final else ("reserved",)))
        now = clock.now()
        state = _state(hold)
        rules.check_capture(state, amount, now)
        status = rules.status_after_capture(state, amount, final=final)
        drafts = [
            EntryDraft(
                kind="hold_capture",
                org_id=org_id,
                currency=currency,
                postings=transfer(
                    source=wallets["reserved"].id,
                    destination=platform_account(REVENUE, currency),
                    currency=currency,
                    amount=amount,
                ),
                order_id=order_id,
                description=f"capture from hold {hold.order_id}",
                reference=str(hold.id),
            )
        ]
        hold.captured += amount
        if final and hold.captured < hold.amount:
            drafts.append(_release_draft(hold, wallets, now))
        posted = post_entries(drafts, wallets)[0]
        if len(drafts) > 1:
            _settle_given_back(hold, drafts[1], wallets)
        _close(hold, status, now)
        capture = HoldCapture(
            id=posted.id,
            org_id=org_id,
            hold_id=hold.id,
            order_id=order_id,
            amount=amount,
            currency=currency,
            final=final,
            created_at=posted.created_at,
        )
        db.session.add(capture)
        idempotency.record(claim, posted.id)
        return _capture_view(capture)


def void_hold(*, org_id: uuid.UUID, hold_id: uuid.UUID) -> HoldView:
    """Give back what is left of an active hold to the lots it came from.

    Raises:
        NotFound: no such hold in this organisation.
        HoldNotActive: the hold is captured, voided or past its expiry (a second
            void changes nothing).
    """
    with unit_of_work():
        hold = _lock(org_id, hold_id)
        wallets = lock_wallets(org_id, hold.currency, *_RELEASING)
        now = clock.now()
        rules.check_active(_state(hold), now)
        _give_back(hold, wallets, now)
        _close(hold, rules.VOIDED, now)
        return _view(hold, now)


@dataclass(frozen=True)
class HoldExpiryResult:
    holds_expired: int
    amount_released: dict[str, int]


def expire_holds() -> HoldExpiryResult:
    """Give back what is left of every hold past its expiry, each with `hold.expired`.

    One transaction per hold, re-read under its wallets' and its own lock, so running
    this twice, or concurrently, releases each hold once.
    """
    now = clock.now()
    with unit_of_work():
        due = db.session.execute(
            select(Hold.id, Hold.org_id, Hold.currency)
            .where(Hold.status == rules.ACTIVE, Hold.expires_at <= now)
            .order_by(Hold.expires_at)
        ).all()
    expired = 0
    amounts: dict[str, int] = {}
    for due_hold in due:
        with unit_of_work():
            hold = _lock(due_hold.org_id, due_hold.id)
            if not rules.is_due_for_expiry(_state(hold), now):
                continue
            wallets = lock_wallets(hold.org_id, hold.currency, *_RELEASING)
            left = hold.amount - hold.captured
            _give_back(hold, wallets, now)
            _close(hold, rules.EXPIRED, now)
            # An active hold always has credit left (a spent one is `captured`).
            record_event(org_id=hold.org_id, type="hold.expired", data=_view(hold, now))
        expired += 1
        amounts[due_hold.currency] = amounts.get(due_hold.currency, 0) + left
    return HoldExpiryResult(expired, amounts)


def get_hold(*, org_id: uuid.UUID, hold_id: uuid.UUID) -> HoldView:
    """One of the organisation's holds."""
    return _view(_get(org_id, hold_id), clock.now())


def list_holds(
    *, org_id: uuid.UUID, limit: int, cursor: str | None = None, status: str | None = None
) -> Page:
    """The organisation's holds, newest first; `status` as the caller sees it."""
    now = clock.now()
    query = select(Hold).where(Hold.org_id == org_id)
    if status:
        query = _with_status(query, status, now)
    page = newest_first(query, Hold, limit=limit, cursor=cursor)
    return Page([_view(hold, now) for hold in page.data], page.next_cursor)


def _with_status(query: Select, status: str, now: datetime) -> Select:
    """Holds past their expiry are `expired` to the caller before expiry releases them."""
    if status == rules.ACTIVE:
        return query.where(Hold.status == rules.ACTIVE, Hold.expires_at > now)
    if status == rules.EXPIRED:
        return query.where(
            or_(
                Hold.status == rules.EXPIRED,
                (Hold.status == rules.ACTIVE) & (Hold.expires_at <= now),
            )
        )
    return query.where(Hold.status == status)


def captured_lots(capture_id: int) -> list[tuple[object, int]]:
    """What a capture took from each lot, in order (for its reversal)."""
    capture = db.session.execute(
        text(
            "SELECT c.hold_id, c.amount, (SELECT coalesce(sum(b.amount), 0) FROM hold_captures b "
            "WHERE b.hold_id = c.hold_id AND b.id < c.id) AS captured_before "
            "FROM hold_captures c WHERE c.id = :id"
        ),
        {"id": capture_id},
    ).one()
    taken = rules.slice_of(
        _parts(capture.hold_id), int(capture.captured_before), int(capture.amount)
    )
    return [(part.lot_id, part.amount) for part in taken]


# Under the locks


def _get(org_id: uuid.UUID, hold_id: uuid.UUID) -> Hold:
    hold = db.session.scalar(select(Hold).where(Hold.id == hold_id, Hold.org_id == org_id))
    if hold is None:
        raise NotFound("hold not found")
    return hold


def _lock(org_id: uuid.UUID, hold_id: uuid.UUID) -> Hold:
    """The hold's row, locked and re-read (before its wallets: the lock order).

    Raises:
        NotFound: no such hold in this organisation.
    """
    hold = db.session.scalar(
        select(Hold)
        .where(Hold.id == hold_id, Hold.org_id == org_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if hold is None:
        raise NotFound("hold not found")
    return hold


def _state(hold: Hold) -> rules.HoldState:
    return rules.HoldState(hold.status, hold.amount, hold.captured, hold.released, hold.expires_at)


def _parts(hold_id: uuid.UUID) -> list[rules.Part]:
    """What the hold took from each lot, in the order it took them."""
    return [part for part, _ in _parts_and_expiry(hold_id)]


def _parts_and_expiry(hold_id: uuid.UUID) -> list[tuple[rules.Part, datetime | None]]:
    rows = db.session.execute(
        text(
            "SELECT h.lot_id, h.amount, l.expires_at FROM hold_lots h "
            "JOIN lots l ON l.id = h.lot_id WHERE h.hold_id = :hold_id ORDER BY h.position"
        ),
        {"hold_id": hold_id},
    )
    return [(rules.Part(r.lot_id, r.amount), r.expires_at) for r in rows]


def _give_back(hold: Hold, wallets: dict[str, Wallet], now: datetime) -> None:
    """Post the release of what is left of the hold, and what credit coming back entails."""
    release = _release_draft(hold, wallets, now)
    post_entry(release, wallets)
    _settle_given_back(hold, release, wallets)


def _settle_given_back(hold: Hold, release: EntryDraft, wallets: dict[str, Wallet]) -> None:
    """As for a reversal: credit back in a lot that owes a shortfall settles it first, and
    credit back in a disputed top-up's lot is frozen with the rest of it (entries of their
    own, posted after the release)."""
    returned = [(movement.lot_id, movement.amount) for movement in release.lot_movements]
    settle_shortfalls(hold.org_id, hold.currency, returned, wallets)
    disputes.freeze_returned([lot_id for lot_id, _ in returned], wallets)


def _release_draft(hold: Hold, wallets: dict[str, Wallet], now: datetime) -> EntryDraft:
    """The entry that gives back what is left of the hold (after `hold.captured`)."""
    parts = _parts_and_expiry(hold.id)
    expired = {part.lot_id for part, expires_at in parts if expires_at and expires_at <= now}
    plan = rules.release([part for part, _ in parts], _state(hold), expired)
    currency = hold.currency
    postings = [PostingDraft(wallets["reserved"].id, currency, -(hold.amount - hold.captured))]
    if plan.to_available:
        postings.append(PostingDraft(wallets["available"].id, currency, plan.to_available))
    if plan.to_breakage:
        postings.append(
            PostingDraft(platform_account(BREAKAGE, currency), currency, plan.to_breakage)
        )
    return EntryDraft(
        kind="hold_release",
        org_id=hold.org_id,
        currency=currency,
        postings=tuple(postings),
        description=f"release of hold {hold.order_id}",
        reference=str(hold.id),
        lot_movements=tuple(LotMovement(p.lot_id, p.amount) for p in plan.to_lots),
    )


def _close(hold: Hold, status: str, now: datetime) -> None:
    """Record the hold's new status; a closed hold has given back what it did not spend."""
    if status != hold.status:
        hold.status = rules.STATUS.move(hold.status, status)
        hold.released = hold.amount - hold.captured
        hold.closed_at = now


# Views


def _view(hold: Hold, now: datetime, *, replayed: bool = False) -> HoldView:
    state = _state(hold)
    return HoldView(
        id=hold.id,
        order_id=hold.order_id,
        status=rules.status_seen(state, now),
        amount=hold.amount,
        captured=hold.captured,
        remaining=state.remaining,
        currency=hold.currency,
        expires_at=hold.expires_at,
        reference=hold.reference,
        description=hold.description,
        metadata=hold.metadata_,
        created_at=hold.created_at,
        replayed=replayed,
    )


def _as_created(hold: Hold, *, replayed: bool = False) -> HoldView:
    """The hold as its creation answered (a replay repeats that answer)."""
    return dataclasses.replace(
        _view(hold, hold.created_at, replayed=replayed),
        status=rules.ACTIVE,
        captured=0,
        remaining=hold.amount,
    )


def _capture_view(capture: HoldCapture, *, replayed: bool = False) -> CaptureView:
    return CaptureView(
        id=capture.id,
        hold_id=capture.hold_id,
        order_id=capture.order_id,
        amount=capture.amount,
        currency=capture.currency,
        final=capture.final,
        created_at=capture.created_at,
        replayed=replayed,
    )
