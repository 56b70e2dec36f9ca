"""How deductions take credit from lots, and how reversals give it back.

Order of consumption (the contract): soonest-expiring first (a lot that never
expires comes last), then `bonus` before `paid`, then oldest first. An expired lot
is never consumed.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

# The latest expiry a caller may ask for (the contract: before year 9999); past it, adding a
# day or a timezone to a date overflows Python's datetime.
LATEST_EXPIRY = datetime(9999, 1, 1, tzinfo=UTC)

_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LotBalance:
    id: object
    kind: str
    remaining: int
    expires_at: datetime | None
    created_at: datetime


def is_expired(lot: LotBalance, now: datetime) -> bool:
    return lot.expires_at is not None and lot.expires_at <= now


def consumption_order(lot: LotBalance) -> tuple[bool, datetime, bool, datetime, str]:
    return (
        lot.expires_at is None,
        lot.expires_at or _NEVER,
        lot.kind != "bonus",
        lot.created_at,
        str(lot.id),
    )


def spendable(lots: list[LotBalance], now: datetime) -> int:
    """Credit that a deduction may take now: the unexpired lots' remaining."""
    return sum(lot.remaining for lot in lots if lot.remaining > 0 and not is_expired(lot, now))


def allocate(lots: list[LotBalance], amount: int, now: datetime) -> list[tuple[object, int]]:
    """Split `amount` over the lots in consumption order: [(lot_id, taken)].

    The caller has checked `spendable(lots, now) >= amount`.
    """
    taken: list[tuple[object, int]] = []
    left = amount
    for lot in sorted(lots, key=consumption_order):
        if left == 0:
            break
        if lot.remaining <= 0 or is_expired(lot, now):
            continue
        take = min(lot.remaining, left)
        taken.append((lot.id, take))
        left -= take
    if left:
        raise ValueError("allocate() was asked for more than the lots hold")
    return taken


def give_back(taken: list[tuple[object, int]], amount: int) -> list[tuple[object, int]]:
    """Return `amount` to the lots a deduction took from, last taken first.

    `taken` is what is still outstanding per lot, in the order it was taken.
    """
    returned: list[tuple[object, int]] = []
    left = amount
    for lot_id, outstanding in reversed(taken):
        if left == 0:
            break
        give = min(outstanding, left)
        if give > 0:
            returned.append((lot_id, give))
            left -= give
    if left:
        raise ValueError("give_back() was asked for more than is outstanding")
    return returned
