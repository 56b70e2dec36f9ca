"""Drafts of journal entries, and the rule that each balances per currency.

A draft is what a service wants to post; the posting engine checks it here, then
writes it. The database checks the same rule again at commit.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Every kind of journal entry (`?kind=` accepts these only).
ENTRY_KINDS = (
    "topup",
    "grant",
    "deduction",
    "reversal",
    "expiry",
    "refund_hold",
    "refund_release",
    "refund",
    "external_refund",
    "refund_failure",
    "dispute_freeze",
    "dispute_release",
    "dispute_loss",
    "shortfall_settlement",
    "hold",
    "hold_capture",
    "hold_release",
)


class UnbalancedEntry(ValueError):
    """A draft whose postings do not sum to zero in some currency."""


@dataclass(frozen=True)
class PostingDraft:
    account_id: int
    currency: str
    amount: int  # signed minor units; positive increases the account's balance


@dataclass(frozen=True)
class LotMovement:
    lot_id: object
    amount: int  # negative: taken from the lot; positive: given back to it


@dataclass(frozen=True)
class NewLot:
    """A lot the entry creates, holding the credit it puts in the available wallet."""

    lot_id: object
    kind: str  # paid or bonus
    amount: int
    expires_at: datetime | None = None
    topup_id: object = None


@dataclass(frozen=True)
class EntryDraft:
    kind: str
    currency: str
    postings: tuple[PostingDraft, ...]
    org_id: object = None
    order_id: str | None = None
    description: str | None = None
    reference: str | None = None
    metadata: dict[str, Any] | None = None
    reverses_entry_id: int | None = None
    topup_id: object = None
    refund_request_id: object = None
    lot_movements: tuple[LotMovement, ...] = field(default=())
    new_lots: tuple[NewLot, ...] = field(default=())


def check_balanced(postings: tuple[PostingDraft, ...]) -> None:
    """Raise UnbalancedEntry unless the postings sum to zero per currency."""
    if len(postings) < 2:
        raise UnbalancedEntry("an entry needs at least two postings")
    totals: dict[str, int] = defaultdict(int)
    for posting in postings:
        if isinstance(posting.amount, bool) or not isinstance(posting.amount, int):
            raise UnbalancedEntry("posting amounts are integers")
        if posting.amount == 0:
            raise UnbalancedEntry("a posting moves a non-zero amount")
        totals[posting.currency] += posting.amount
    unbalanced = {currency: total for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise UnbalancedEntry(f"postings do not sum to zero: {unbalanced}")


def transfer(
    *, source: int, destination: int, currency: str, amount: int
) -> tuple[PostingDraft, PostingDraft]:
    """The two postings that move `amount` from one account to another."""
    return (
        PostingDraft(source, currency, -amount),
        PostingDraft(destination, currency, amount),
    )
