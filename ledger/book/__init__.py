"""The bookkeeping core: the only code that writes the books.

Nothing outside this package inserts journal entries or postings, moves wallet
balances, creates or moves lots, or ends a transaction (`tests/unit/test_single_writer.py`
scans the tree to keep it so). Services use what is exported here:

- `unit_of_work()`: one use case's transaction (commit at the end, roll back on error);
  `lock_wallets(org_id, currency, *kinds)` locks the organisation's wallets in id order.
- `post_entry` / `post_entries`: the posting engine. An `EntryDraft` carries its
  postings, its lot movements (`LotMovement`) and the lots it creates (`NewLot`).
- `platform_account` / `gateway_clearing`: the other side of wallet postings.
- `open_lots`, `expire_lots`: lots under the wallet lock, and their expiry;
  `owe_shortfall`, `settle_shortfalls`: what a lot owes after the gateway took back
  spent credit, settled first by credit that comes back to it.
- `idempotency`: the caller's order_id as a unique key (`claim`, `record`, `lookup`).
- `reports` and `verify`: reading the books and checking their invariants.
- `record_event(org_id=..., type=..., data=...)`: the outbox. Call it inside the unit
  of work that makes the change, so the event commits or rolls back with it (no change
  without its event, no event without its change); `data` is a JSON-ready dict, or a
  model the API layer registered with `show_as` (top-ups, refund requests), e.g.
  `record_event(org_id=hold.org_id, type="hold.expired", data=hold)`.
  `balance.low` needs no call: the posting engine decides it under the wallet lock
  (`alerts.settle_low_balance`), whatever moved the credit.
"""

from ledger.book import idempotency, reports, verify
from ledger.book.accounts import (
    BREAKAGE,
    GRANT_EXPENSE,
    REFUND_SHORTFALL,
    REVENUE,
    gateway_clearing,
    platform_account,
)
from ledger.book.alerts import settle_low_balance
from ledger.book.engine import PostedEntry, post_entries, post_entry
from ledger.book.lots import expire_lots, open_lots, owe_shortfall, settle_shortfalls
from ledger.book.outbox import lot_data, record_event, show_as
from ledger.book.transaction import Wallet, lock_wallets, unit_of_work
from ledger.domain.entries import EntryDraft, LotMovement, NewLot, PostingDraft, transfer

__all__ = [
    "BREAKAGE",
    "GRANT_EXPENSE",
    "REFUND_SHORTFALL",
    "REVENUE",
    "EntryDraft",
    "LotMovement",
    "NewLot",
    "PostedEntry",
    "PostingDraft",
    "Wallet",
    "expire_lots",
    "gateway_clearing",
    "idempotency",
    "lock_wallets",
    "lot_data",
    "open_lots",
    "owe_shortfall",
    "platform_account",
    "post_entries",
    "post_entry",
    "record_event",
    "reports",
    "settle_low_balance",
    "settle_shortfalls",
    "show_as",
    "transfer",
    "unit_of_work",
    "verify",
]
