"""The posting engine: the only code that writes journal entries, postings, wallet
balances, lots and lot movements.

Design overview
---------------
A service locks the wallets it will touch (`transaction.lock_wallets`), decides
what should happen, and hands the engine an `EntryDraft`. The engine

1. checks the draft balances per currency (`domain.entries.check_balanced`),
2. checks every organisation account it touches is a wallet the caller has locked,
   and that no wallet would go negative,
3. writes the entry, its postings (with each wallet's `balance_after`), the wallets'
   new balances, the lots it creates and the lot movements in one statement (one
   round trip while the wallet lock is held); `post_entries` writes many entries in
   that one statement (a batch of deductions),
4. updates the caller's `Wallet` objects, so more entries can be posted under the
   same lock,
5. decides, under the same lock, whether an `available` wallet has just crossed its
   organisation's low-balance threshold (`alerts.settle_low_balance`), so every path
   that moves credit (deduction, batch, hold, expiry, refund, dispute) alerts alike.

The database checks the same invariants again: postings sum to zero per currency at
commit, wallets and lots cannot go negative, entries and postings are append-only.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from ledger.book.accounts import is_platform_account
from ledger.book.alerts import settle_low_balance
from ledger.book.transaction import Wallet
from ledger.domain.entries import EntryDraft, check_balanced
from ledger.extensions import db


class WalletNotLocked(RuntimeError):
    """A draft touched an organisation account that the caller did not lock."""


class WalletWouldGoNegative(RuntimeError):
    """A draft would take a wallet below zero; the service should have refused first."""


@dataclass(frozen=True)
class PostedEntry:
    id: int
    created_at: datetime
    balances_after: dict[int, int]


# Entry ids are drawn first (nextval per draft, in draft order), so postings and lot
# movements can name their entry by the draft's index within the same statement.
_POST = text(
    """
    WITH draft AS MATERIALIZED (
        SELECT nextval(pg_get_serial_sequence('journal_entries', 'id')) AS id, d.*
        FROM unnest(CAST(:e_index AS int[]), CAST(:e_org_ids AS uuid[]),
                    CAST(:e_kinds AS text[]), CAST(:e_currencies AS text[]),
                    CAST(:e_order_ids AS text[]), CAST(:e_descriptions AS text[]),
                    CAST(:e_references AS text[]), CAST(:e_metadata AS text[]),
                    CAST(:e_reverses AS bigint[]), CAST(:e_topups AS uuid[]),
                    CAST(:e_refund_requests AS uuid[]))
             AS d(n, org_id, kind, currency, order_id, description, reference, metadata,
                  reverses_entry_id, topup_id, refund_request_id)
    ), entry AS (
        INSERT INTO journal_entries (id, org_id, kind, currency, order_id, description,
                                     reference, metadata, reverses_entry_id, topup_id,
                                     refund_request_id)
        SELECT id, org_id, kind, currency, order_id, description, reference,
               CAST(metadata AS jsonb), reverses_entry_id, topup_id, refund_request_id
        FROM draft ORDER BY n
        RETURNING id, created_at
    ), posted AS (
        INSERT INTO postings (entry_id, account_id, currency, amount, balance_after)
        SELECT draft.id, p.account_id, p.currency, p.amount, p.balance_after
        FROM unnest(CAST(:p_entries AS int[]), CAST(:p_accounts AS bigint[]),
                    CAST(:p_currencies AS text[]), CAST(:p_amounts AS bigint[]),
                    CAST(:p_balances AS bigint[]))
             AS p(n, account_id, currency, amount, balance_after)
        JOIN draft ON draft.n = p.n
    ), wallets AS (
        UPDATE ledger_accounts a SET balance = w.balance
        FROM unnest(CAST(:w_ids AS bigint[]), CAST(:w_balances AS bigint[])) AS w(id, balance)
        WHERE a.id = w.id
    ), lot_updates AS (
        -- Summed per lot: an UPDATE applies only one joined row to each target row.
        UPDATE lots l SET remaining = l.remaining + m.amount
        FROM (SELECT id, sum(amount) AS amount
              FROM unnest(CAST(:l_ids AS uuid[]), CAST(:l_amounts AS bigint[])) AS u(id, amount)
              GROUP BY id) AS m
        WHERE l.id = m.id
    ), new_lots AS (
        INSERT INTO lots (id, org_id, currency, kind, amount, remaining, expires_at,
                          topup_id, entry_id)
        SELECT n.id, draft.org_id, draft.currency, n.kind, n.amount, n.amount, n.expires_at,
               n.topup_id, draft.id
        FROM unnest(CAST(:n_entries AS int[]), CAST(:n_ids AS uuid[]),
                    CAST(:n_kinds AS text[]), CAST(:n_amounts AS bigint[]),
                    CAST(:n_expires AS timestamptz[]), CAST(:n_topups AS uuid[]))
             AS n(n, id, kind, amount, expires_at, topup_id)
        JOIN draft ON draft.n = n.n
    ), allocations AS (
        INSERT INTO lot_allocations (lot_id, entry_id, amount)
        SELECT m.id, draft.id, m.amount
        FROM unnest(CAST(:l_entries AS int[]), CAST(:l_ids AS uuid[]),
                    CAST(:l_amounts AS bigint[])) AS m(n, id, amount)
        JOIN draft ON draft.n = m.n
    )
    SELECT draft.n, entry.id, entry.created_at
    FROM entry JOIN draft ON draft.id = entry.id
    ORDER BY draft.n
    """
)


def post_entry(draft: EntryDraft, wallets: dict[str, Wallet] | list[Wallet]) -> PostedEntry:
    """Write one balanced entry. `wallets` are the locked wallets it may touch."""
    return post_entries([draft], wallets)[0]


def post_entries(
    drafts: list[EntryDraft], wallets: dict[str, Wallet] | list[Wallet]
) -> list[PostedEntry]:
    """Write balanced entries in order, in one statement (a batch of deductions).

    `wallets` are the locked wallets they may touch; each posting's `balance_after` is
    the wallet's balance after the entries before it and itself.
    """
    if not drafts:
        return []
    locked = {w.id: w for w in (wallets.values() if isinstance(wallets, dict) else wallets)}
    plan = plan_statement(drafts, locked)
    rows = db.session.execute(_POST, plan.params).all()
    for wallet_id, balance in plan.new_balances.items():
        locked[wallet_id].balance = balance
    settle_low_balance(locked[wallet_id] for wallet_id in plan.new_balances)
    return [
        PostedEntry(row.id, row.created_at, balances)
        for row, balances in zip(rows, plan.wallet_balances_after, strict=True)
    ]


@dataclass(frozen=True)
class StatementPlan:
    params: dict[str, Any]  # for the posting statement
    new_balances: dict[int, int]  # each touched wallet's balance after all the drafts
    wallet_balances_after: list[dict[int, int]]  # per draft: its wallets' balances after it


def plan_statement(drafts: list[EntryDraft], locked: dict[int, Wallet]) -> StatementPlan:
    """Check the drafts against the locked wallets and build the statement's parameters.

    Public so the bench's ceiling drives this very statement without the ORM.

    Raises:
        UnbalancedEntry, WalletNotLocked, WalletWouldGoNegative.
    """
    balances = {wallet_id: wallet.balance for wallet_id, wallet in locked.items()}
    unlocked = [p.account_id for d in drafts for p in d.postings if p.account_id not in locked]
    wallet_rows = _unlocked_wallets(unlocked)
    balances_after: list[int | None] = []
    wallet_balances_after: list[dict[int, int]] = []
    for draft in drafts:
        check_balanced(draft.postings)
        after: dict[int, int] = {}
        for posting in draft.postings:
            if posting.account_id in locked:
                balances[posting.account_id] += posting.amount
                if balances[posting.account_id] < 0:
                    raise WalletWouldGoNegative(f"wallet {posting.account_id} would go negative")
                after[posting.account_id] = balances[posting.account_id]
                balances_after.append(balances[posting.account_id])
            elif posting.account_id in wallet_rows:
                raise WalletNotLocked(f"wallet {posting.account_id} is not locked")
            else:
                balances_after.append(None)
        wallet_balances_after.append(after)

    touched = [wid for wid in locked if any(wid in after for after in wallet_balances_after)]
    postings = [(n, p) for n, d in enumerate(drafts) for p in d.postings]
    movements = [(n, m) for n, d in enumerate(drafts) for m in d.lot_movements]
    new_lots = [(n, lot) for n, d in enumerate(drafts) for lot in d.new_lots]
    params = {
        "e_index": list(range(len(drafts))),
        "e_org_ids": [d.org_id for d in drafts],
        "e_kinds": [d.kind for d in drafts],
        "e_currencies": [d.currency for d in drafts],
        "e_order_ids": [d.order_id for d in drafts],
        "e_descriptions": [d.description for d in drafts],
        "e_references": [d.reference for d in drafts],
        "e_metadata": [json.dumps(d.metadata) if d.metadata is not None else None for d in drafts],
        "e_reverses": [d.reverses_entry_id for d in drafts],
        "e_topups": [d.topup_id for d in drafts],
        "e_refund_requests": [d.refund_request_id for d in drafts],
        "p_entries": [n for n, _ in postings],
        "p_accounts": [p.account_id for _, p in postings],
        "p_currencies": [p.currency for _, p in postings],
        "p_amounts": [p.amount for _, p in postings],
        "p_balances": balances_after,
        "w_ids": touched,
        "w_balances": [balances[wid] for wid in touched],
        "l_entries": [n for n, _ in movements],
        "l_ids": [m.lot_id for _, m in movements],
        "l_amounts": [m.amount for _, m in movements],
        "n_entries": [n for n, _ in new_lots],
        "n_ids": [lot.lot_id for _, lot in new_lots],
        "n_kinds": [lot.kind for _, lot in new_lots],
        "n_amounts": [lot.amount for _, lot in new_lots],
        "n_expires": [lot.expires_at for _, lot in new_lots],
        "n_topups": [lot.topup_id for _, lot in new_lots],
    }
    return StatementPlan(params, {wid: balances[wid] for wid in touched}, wallet_balances_after)


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
