"""The posting engine: the only code that writes journal entries, postings, wallet
balances and lot movements.

Design overview
---------------
A service locks the wallets it will touch (`transaction.lock_wallets`), decides
what should happen, and hands the engine an `EntryDraft`. The engine

1. checks the draft balances per currency (`domain.entries.check_balanced`),
2. checks every organisation account it touches is a wallet the caller has locked,
   and that no wallet would go negative,
3. writes the entry, its postings (with each wallet's `balance_after`), the wallets'
   new balances and the lot movements in one statement (one round trip while the
   wallet lock is held),
4. updates the caller's `Wallet` objects, so several entries can be posted under one
   lock (a batch of deductions).

The database checks the same invariants again: postings sum to zero per currency at
commit, wallets and lots cannot go negative, entries and postings are append-only.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from ledger.domain.entries import EntryDraft, check_balanced
from ledger.extensions import db
from ledger.services.accounts import is_platform_account
from ledger.services.transaction import Wallet


class WalletNotLocked(RuntimeError):
    """A draft touched an organisation account that the caller did not lock."""


class WalletWouldGoNegative(RuntimeError):
    """A draft would take a wallet below zero; the service should have refused first."""


@dataclass(frozen=True)
class PostedEntry:
    id: int
    created_at: datetime
    balances_after: dict[int, int]


_POST = text(
    """
    WITH entry AS (
        INSERT INTO journal_entries (org_id, kind, currency, order_id, description, reference,
                                     metadata, reverses_entry_id, topup_id, refund_request_id)
        VALUES (:org_id, :kind, :currency, :order_id, :description, :reference,
                CAST(:metadata AS jsonb), :reverses_entry_id, :topup_id, :refund_request_id)
        RETURNING id, created_at
    ), posted AS (
        INSERT INTO postings (entry_id, account_id, currency, amount, balance_after)
        SELECT entry.id, p.account_id, p.currency, p.amount, p.balance_after
        FROM entry, unnest(CAST(:p_accounts AS bigint[]), CAST(:p_currencies AS text[]),
                           CAST(:p_amounts AS bigint[]), CAST(:p_balances AS bigint[]))
             AS p(account_id, currency, amount, balance_after)
    ), wallets AS (
        UPDATE ledger_accounts a SET balance = w.balance
        FROM unnest(CAST(:w_ids AS bigint[]), CAST(:w_balances AS bigint[])) AS w(id, balance)
        WHERE a.id = w.id
    ), lot_updates AS (
        UPDATE lots l SET remaining = l.remaining + m.amount
        FROM unnest(CAST(:l_ids AS uuid[]), CAST(:l_amounts AS bigint[])) AS m(id, amount)
        WHERE l.id = m.id
    ), allocations AS (
        INSERT INTO lot_allocations (lot_id, entry_id, amount)
        SELECT m.id, entry.id, m.amount
        FROM entry, unnest(CAST(:l_ids AS uuid[]), CAST(:l_amounts AS bigint[])) AS m(id, amount)
    )
    SELECT id, created_at FROM entry
    """
)


def post_entry(draft: EntryDraft, wallets: dict[str, Wallet] | list[Wallet]) -> PostedEntry:
    """Write one balanced entry. `wallets` are the locked wallets it may touch."""
    check_balanced(draft.postings)
    locked = {w.id: w for w in (wallets.values() if isinstance(wallets, dict) else wallets)}
    wallet_rows = _unlocked_wallets([p.account_id for p in draft.postings if p.account_id not in locked])

    new_balances = {wallet_id: wallet.balance for wallet_id, wallet in locked.items()}
    balances_after: list[int | None] = []
    for posting in draft.postings:
        if posting.account_id in locked:
            new_balances[posting.account_id] += posting.amount
            if new_balances[posting.account_id] < 0:
                raise WalletWouldGoNegative(f"wallet {posting.account_id} would go negative")
            balances_after.append(new_balances[posting.account_id])
        elif posting.account_id in wallet_rows:
            raise WalletNotLocked(f"wallet {posting.account_id} is not locked")
        else:
            balances_after.append(None)

    touched = [wid for wid in locked if any(p.account_id == wid for p in draft.postings)]
    row = db.session.execute(
        _POST,
        {
            "org_id": draft.org_id,
            "kind": draft.kind,
            "currency": draft.currency,
            "order_id": draft.order_id,
            "description": draft.description,
            "reference": draft.reference,
            "metadata": json.dumps(draft.metadata) if draft.metadata is not None else None,
            "reverses_entry_id": draft.reverses_entry_id,
            "topup_id": draft.topup_id,
            "refund_request_id": draft.refund_request_id,
            "p_accounts": [p.account_id for p in draft.postings],
            "p_currencies": [p.currency for p in draft.postings],
            "p_amounts": [p.amount for p in draft.postings],
            "p_balances": balances_after,
            "w_ids": touched,
            "w_balances": [new_balances[wid] for wid in touched],
            "l_ids": [m.lot_id for m in draft.lot_movements],
            "l_amounts": [m.amount for m in draft.lot_movements],
        },
    ).one()
    for wid in touched:
        locked[wid].balance = new_balances[wid]
    return PostedEntry(row.id, row.created_at, {wid: new_balances[wid] for wid in touched})


def _unlocked_wallets(account_ids: list[int]) -> set[int]:
    """Which of these (unlocked) accounts belong to an organisation: posting to them is a bug."""
    unknown = [aid for aid in account_ids if not is_platform_account(aid)]
    if not unknown:
        return set()
    rows = db.session.execute(
        text("SELECT id FROM ledger_accounts WHERE id = ANY(:ids) AND org_id IS NOT NULL"),
        {"ids": unknown},
    ).scalars()
    return set(rows)
