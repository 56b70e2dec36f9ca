"""Holds: credit reserved for a campaign, spent by captures, the rest given back.

Design overview
---------------
A hold takes its amount from lots in the usual consumption order, at once (the lots
and the `available` wallet go down, the `reserved` wallet goes up), and remembers
what it took from each lot, in that order (its *parts*). Captures spend from the hold
first-taken first: capture k takes the slice [captured before it, + its amount) of the
parts laid end to end, so which lots a capture came from follows from the parts and
the captures before it. A release (void, final capture, expiry) gives back the slice
that is left, [captured, amount), to the same lots; a part whose lot has expired
meanwhile goes to breakage instead.

A hold is `active` until it is closed: `captured` once nothing remains after captures,
`voided`, or `expired`. A hold past its `expires_at` is no longer active even before
expiry has released it: it can be neither captured nor voided. `STATUS.move` is the one
place that allows a transition.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from ledger.domain.lots import LATEST_EXPIRY
from ledger.domain.states import StateMachine
from ledger.errors import CaptureExceedsHold, HoldNotActive, ValidationFailed

ACTIVE = "active"
CAPTURED = "captured"
VOIDED = "voided"
EXPIRED = "expired"

TRANSITIONS: dict[str, frozenset[str]] = {
    ACTIVE: frozenset({CAPTURED, VOIDED, EXPIRED}),
    CAPTURED: frozenset(),
    VOIDED: frozenset(),
    EXPIRED: frozenset(),
}
STATUS = StateMachine("hold", TRANSITIONS)


@dataclass(frozen=True)
class Part:
    """What a hold took from one lot."""

    lot_id: object
    amount: int


@dataclass(frozen=True)
class HoldState:
    """What the rules need to know about a hold, read under its lock."""

    status: str
    amount: int
    captured: int
    released: int
    expires_at: datetime

    @property
    def remaining(self) -> int:
        return self.amount - self.captured - self.released


def is_active(hold: HoldState, now: datetime) -> bool:
    """Active and not past its expiry: only such a hold can be captured or voided."""
    return hold.status == ACTIVE and now < hold.expires_at


def status_seen(hold: HoldState, now: datetime) -> str:
    """The status a caller sees: an active hold past its expiry is already `expired`."""
    if hold.status == ACTIVE and not is_active(hold, now):
        return EXPIRED
    return hold.status


def is_due_for_expiry(hold: HoldState, now: datetime) -> bool:
    """Still holding credit, but past its expiry: `expire-holds` gives the rest back."""
    return hold.status == ACTIVE and now >= hold.expires_at


def expiry(requested: datetime | None, now: datetime, default_ttl_hours: int) -> datetime:
    """When a new hold expires: as asked, or `default_ttl_hours` from now.

    Raises:
        ValidationFailed: the asked time is not in the future, or not before year 9999.
    """
    if requested is None:
        return now + timedelta(hours=default_ttl_hours)
    if requested <= now or requested >= LATEST_EXPIRY:
        raise ValidationFailed(
            "expires_at must lie in the future and before year 9999",
            fields={"expires_at": ["must lie in the future and before year 9999"]},
        )
    return requested


def check_active(hold: HoldState, now: datetime) -> None:
    """Raises HoldNotActive unless the hold can be captured or voided now."""
    if not is_active(hold, now):
        raise HoldNotActive(status=status_seen(hold, now))


def check_capture(hold: HoldState, amount: int, now: datetime) -> None:
    """Raises HoldNotActive or CaptureExceedsHold unless `amount` can be captured now."""
    check_active(hold, now)
    if amount > hold.remaining:
        raise CaptureExceedsHold(remaining=hold.remaining)


def status_after_capture(hold: HoldState, amount: int, *, final: bool) -> str:
    """A capture that leaves nothing, or a final one (the rest is released), closes it."""
    if final or amount == hold.remaining:
        return STATUS.move(hold.status, CAPTURED)
    return hold.status


def slice_of(parts: list[Part], start: int, amount: int) -> list[Part]:
    """The slice [start, start + amount) of the parts laid end to end, per lot, in order.

    A capture is `slice_of(parts, captured_before, amount)`; a release is
    `slice_of(parts, captured, remaining)`.
    """
    if start < 0 or amount < 0 or start + amount > sum(p.amount for p in parts):
        raise ValueError("the slice lies outside the hold")
    taken: list[Part] = []
    offset = 0
    end = start + amount
    for part in parts:
        low, high = max(start, offset), min(end, offset + part.amount)
        if high > low:
            taken.append(Part(part.lot_id, high - low))
        offset += part.amount
    return taken


@dataclass(frozen=True)
class Release:
    """Where a released slice goes: back to live lots, or to breakage for expired ones."""

    to_lots: tuple[Part, ...]
    to_breakage: int

    @property
    def to_available(self) -> int:
        return sum(p.amount for p in self.to_lots)


def release(
    parts: list[Part], hold: HoldState, expired_lots: set[object] | frozenset[object]
) -> Release:
    """Split what is left of a hold between its live lots and breakage."""
    rest = slice_of(parts, hold.captured + hold.released, hold.remaining)
    return Release(
        to_lots=tuple(p for p in rest if p.lot_id not in expired_lots),
        to_breakage=sum(p.amount for p in rest if p.lot_id in expired_lots),
    )
