"""Reading the ledger: balances, an organisation's entries, the trial balance."""

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Select, text

from ledger import clock
from ledger.domain.lots import LotBalance, is_expired
from ledger.errors import ValidationFailed
from ledger.extensions import db


@dataclass(frozen=True)
class LotView:
    id: uuid.UUID
    kind: str
    remaining: int
    expires_at: datetime | None


@dataclass(frozen=True)
class Balance:
    currency: str
    available: int
    reserved: int
    held: int
    lots: list[LotView]


def balance(*, org_id: uuid.UUID, currency: str) -> Balance:
    """What the organisation can spend now, what is held, and the lots behind it.

    `available` counts only unexpired lots: credit past its expiry is not spendable,
    even before `expire-lots` has moved it out of the wallet. Likewise `reserved`
    counts only holds not past their expiry.
    """
    result = read_balance(org_id=org_id, currency=currency)
    db.session.rollback()
    return result


def read_balance(*, org_id: uuid.UUID, currency: str) -> Balance:
    """`balance`, read in the current transaction (which it leaves open)."""
    wallets: dict[str, int] = dict(
        db.session.execute(
            text(
                "SELECT kind, balance FROM ledger_accounts "
                "WHERE org_id = :org_id AND currency = :currency"
            ),
            {"org_id": org_id, "currency": currency},
        ).all()
    )
    rows = db.session.execute(
        text(
            "SELECT id, kind, remaining, expires_at, created_at FROM lots "
            "WHERE org_id = :org_id AND currency = :currency AND remaining > 0 "
            "ORDER BY expires_at NULLS LAST, created_at"
        ),
        {"org_id": org_id, "currency": currency},
    ).all()
    now = clock.now()
    reserved = db.session.execute(
        text(
            "SELECT coalesce(sum(amount - captured - released), 0) FROM holds "
            "WHERE org_id = :org_id AND currency = :currency AND status = 'active' "
            "AND expires_at > :now"
        ),
        {"org_id": org_id, "currency": currency, "now": now},
    ).scalar_one()
    lots = [LotBalance(r.id, r.kind, r.remaining, r.expires_at, r.created_at) for r in rows]
    lots = [lot for lot in lots if not is_expired(lot, now)]
    return Balance(
        currency=currency,
        available=sum(lot.remaining for lot in lots),
        reserved=int(reserved),
        held=wallets.get("held", 0),
        lots=[  # LotBalance takes any id; these came from the lots table, so UUIDs
            LotView(cast(uuid.UUID, lot.id), lot.kind, lot.remaining, lot.expires_at)
            for lot in lots
        ],
    )


@dataclass(frozen=True)
class EntryView:
    id: int
    kind: str
    order_id: str | None
    amount: int
    currency: str
    balance_after: int | None
    created_at: datetime
    description: str | None
    reference: str | None
    metadata: dict[str, Any] | None


Row = TypeVar("Row")


@dataclass(frozen=True)
class Page(Generic[Row]):
    data: list[Row]
    next_cursor: str | None


def encode_cursor(position: object) -> str:
    """An opaque cursor for a keyset position."""
    return base64.urlsafe_b64encode(str(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parse: Callable[[str], Any] = int) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return parse(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError) as e:
        raise ValidationFailed("the cursor is not valid", field="cursor") from e


# The page's ids come first, from the (org_id, id DESC NULLS LAST) INCLUDE (kind) index
# alone; the primary key cannot give `id DESC NULLS LAST`, so the planner never walks it
# backwards through other tenants' newer entries (as it did for a large tenant). The
# entries are then fetched by id (`= ANY`), so a generic plan cannot turn the lookup
# into a merge join over the whole primary key. An entry that leaves `available` alone
# takes `balance_after` from the wallet's posting before it: only for such entries (the
# gate is inside the lateral) and through (account_id, id), never the postings' primary
# key backwards through other tenants' postings.
_ENTRIES = text(
    """
    SELECT e.id, e.kind, e.order_id, e.currency, e.created_at, e.description, e.reference,
           e.metadata,
           coalesce(p.amount, p.held_amount) AS amount,
           coalesce(p.balance_after, prior.balance_after) AS balance_after
    FROM journal_entries e
    LEFT JOIN LATERAL (
        SELECT sum(p.amount) FILTER (WHERE a.kind = 'available') AS amount,
               max(p.balance_after) FILTER (WHERE a.kind = 'available') AS balance_after,
               sum(p.amount) FILTER (WHERE a.kind = 'held') AS held_amount
        FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
        WHERE p.entry_id = e.id AND a.org_id = e.org_id
    ) p ON true
    LEFT JOIN LATERAL (
        SELECT p2.balance_after
        FROM postings p2
        WHERE p.balance_after IS NULL
          AND p2.account_id = (SELECT a2.id FROM ledger_accounts a2
                               WHERE a2.org_id = e.org_id AND a2.currency = e.currency
                                 AND a2.kind = 'available')
          AND p2.entry_id < e.id
        ORDER BY p2.id DESC LIMIT 1
    ) prior ON true
    WHERE e.id = ANY(ARRAY(
        SELECT id FROM journal_entries
        WHERE org_id = :org_id AND id < :before
          AND (CAST(:kind AS text) IS NULL OR kind = :kind)
        ORDER BY id DESC NULLS LAST
        LIMIT :limit
    ))
    ORDER BY e.id DESC
    """
)


def list_entries(
    *, org_id: uuid.UUID, limit: int, cursor: str | None = None, kind: str | None = None
) -> Page[EntryView]:
    """The organisation's journal entries, newest first, by keyset on the entry id.

    `amount` is the entry's effect on the `available` wallet; an entry that touches only
    `held` (a refund paid out of its request's hold, a lost dispute's frozen credit) shows
    the credit it took from there, so a recorded refund reads as the credit it took back.
    `balance_after` is `available` after the entry (unchanged by a `held`-only entry).
    """
    before = decode_cursor(cursor) if cursor else 2**63 - 1
    rows = db.session.execute(
        _ENTRIES, {"org_id": org_id, "before": before, "kind": kind, "limit": limit + 1}
    ).all()
    db.session.rollback()
    entries = [
        EntryView(
            r.id,
            r.kind,
            r.order_id,
            int(r.amount or 0),
            r.currency,
            r.balance_after,
            r.created_at,
            r.description,
            r.reference,
            r.metadata,
        )
        for r in rows[:limit]
    ]
    more = len(rows) > limit
    return Page(entries, encode_cursor(entries[-1].id) if more else None)


def newest_first(query: Select[Any], model: Any, *, limit: int, cursor: str | None) -> Page[Any]:
    """A page of `query`'s rows newest first, by keyset on the model's (created_at, id)."""
    if cursor:
        created_at, row_id = decode_cursor(cursor, _parse_time_cursor)
        query = query.where(
            (model.created_at < created_at)
            | ((model.created_at == created_at) & (model.id < row_id))
        )
    query = query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)
    rows = list(db.session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return Page(rows, encode_cursor(f"{last.created_at.isoformat()}|{last.id}") if last else None)


def _parse_time_cursor(raw: str) -> tuple[datetime, uuid.UUID]:
    created_at, _, row_id = raw.partition("|")
    return datetime.fromisoformat(created_at), uuid.UUID(row_id)


@dataclass(frozen=True)
class AccountBalance:
    account_id: int
    org_id: uuid.UUID | None
    kind: str
    currency: str
    balance: int


@dataclass(frozen=True)
class TrialBalance:
    accounts: list[AccountBalance]
    totals: dict[str, int]


def trial_balance() -> TrialBalance:
    """Every account's balance from its postings, and the total per currency (always 0)."""
    rows = db.session.execute(
        text(
            "SELECT a.id, a.org_id, a.kind, a.currency, coalesce(sum(p.amount), 0) AS balance "
            "FROM ledger_accounts a LEFT JOIN postings p ON p.account_id = a.id "
            "GROUP BY a.id ORDER BY a.org_id NULLS FIRST, a.currency, a.kind"
        )
    ).all()
    db.session.rollback()
    accounts = [AccountBalance(r.id, r.org_id, r.kind, r.currency, int(r.balance)) for r in rows]
    totals: dict[str, int] = {}
    for account in accounts:
        totals[account.currency] = totals.get(account.currency, 0) + account.balance
    return TrialBalance(accounts, totals)
