"""The bookkeeping core: the only code that writes the books.

Nothing outside this package inserts journal entries or postings, moves wallet
balances, creates or moves lots, or ends a transaction (`tests/unit/test_single_writer.py`
scans the tree to keep it so). Services use what is exported here:

- `unit_of_work()`: one use case's transaction (commit at the end, roll back on error);
  `lock_wallets(org_id, currency, *kinds)` locks the organisation's wallets in id order.
- `post_entry` / `post_entries`: the posting engine. An `EntryDraft` carries its
  postings, its lot movements (`LotMovement`) and the lots it creates (`NewLot`).
- `platform_account` / `gateway_clearing`: the other side of wallet postings.
- `open_lots`, `expire_lots`: lots under the wallet lock, and their expiry.
- `idempotency`: the caller's order_id as a unique key (`claim`, `record`, `lookup`).
- `reports` and `verify`: reading the books and checking their invariants.
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
from ledger.book.engine import PostedEntry, post_entries, post_entry
from ledger.book.lots import expire_lots, open_lots
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
    "open_lots",
    "platform_account",
    "post_entries",
    "post_entry",
    "reports",
    "transfer",
    "unit_of_work",
    "verify",
]
