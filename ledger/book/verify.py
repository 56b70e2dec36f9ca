"""Ledger checks: each returns findings (strings), never raises on a bad ledger.

`flask ledger verify` prints every finding and exits non-zero if there are any;
tests run it after every scenario.
"""

from collections.abc import Callable

from sqlalchemy import text

from ledger.extensions import db


def trial_balance_is_zero() -> list[str]:
    rows = db.session.execute(
        text(
            "SELECT currency, sum(amount) AS total FROM postings GROUP BY currency "
            "HAVING sum(amount) <> 0"
        )
    )
    return [f"trial balance in {r.currency} is {r.total}, not 0" for r in rows]


def entries_balance() -> list[str]:
    rows = db.session.execute(
        text(
            "SELECT entry_id, currency, sum(amount) AS total FROM postings "
            "GROUP BY entry_id, currency HAVING sum(amount) <> 0"
        )
    )
    return [f"entry {r.entry_id} sums to {r.total} {r.currency}" for r in rows]


def wallets_match_postings() -> list[str]:
    rows = db.session.execute(
        text(
            "SELECT a.id, a.org_id, a.kind, a.currency, a.balance, "
            "       coalesce(sum(p.amount), 0) AS posted "
            "FROM ledger_accounts a LEFT JOIN postings p ON p.account_id = a.id "
            "WHERE a.org_id IS NOT NULL "
            "GROUP BY a.id HAVING a.balance <> coalesce(sum(p.amount), 0)"
        )
    )
    return [
        f"wallet {r.id} ({r.org_id} {r.kind} {r.currency}) holds {r.balance}, "
        f"postings say {r.posted}"
        for r in rows
    ]


def lots_match_available() -> list[str]:
    rows = db.session.execute(
        text(
            """
            SELECT a.org_id, a.currency, a.balance, coalesce(l.remaining, 0) AS remaining
            FROM ledger_accounts a
            LEFT JOIN (SELECT org_id, currency, sum(remaining) AS remaining FROM lots
                       GROUP BY org_id, currency) l
              ON l.org_id = a.org_id AND l.currency = a.currency
            WHERE a.kind = 'available' AND a.balance <> coalesce(l.remaining, 0)
            """
        )
    )
    return [
        f"organisation {r.org_id}: available {r.balance} {r.currency} but lots hold {r.remaining}"
        for r in rows
    ]


def lots_match_allocations() -> list[str]:
    rows = db.session.execute(
        text(
            """
            SELECT l.id, l.amount, l.remaining, coalesce(sum(a.amount), 0) AS moved
            FROM lots l LEFT JOIN lot_allocations a ON a.lot_id = l.id
            GROUP BY l.id HAVING l.remaining <> l.amount + coalesce(sum(a.amount), 0)
            """
        )
    )
    return [
        f"lot {r.id}: remaining {r.remaining}, "
        f"but {r.amount} plus movements {r.moved} says otherwise"
        for r in rows
    ]


def holds_match_open_refunds() -> list[str]:
    rows = db.session.execute(
        text(
            """
            SELECT a.org_id, a.currency, a.balance, coalesce(r.amount, 0) AS open_refunds
            FROM ledger_accounts a
            LEFT JOIN (SELECT org_id, currency, sum(amount) AS amount FROM refund_requests
                       WHERE status IN ('pending', 'processing') GROUP BY org_id, currency) r
              ON r.org_id = a.org_id AND r.currency = a.currency
            WHERE a.kind = 'held' AND a.balance <> coalesce(r.amount, 0)
            """
        )
    )
    return [
        f"organisation {r.org_id}: held {r.balance} {r.currency} "
        f"but open refund requests hold {r.open_refunds}"
        for r in rows
    ]


CHECKS: dict[str, Callable[[], list[str]]] = {
    "trial balance is zero per currency": trial_balance_is_zero,
    "every entry balances": entries_balance,
    "wallets equal their postings": wallets_match_postings,
    "lots' remaining equals the available wallet": lots_match_available,
    "lots equal their movements": lots_match_allocations,
    "held wallets equal open refund requests": holds_match_open_refunds,
}


def run_checks() -> list[str]:
    """Every finding of every check; an empty list means the ledger is sound."""
    findings: list[str] = []
    for name, check in CHECKS.items():
        findings.extend(f"{name}: {finding}" for finding in check())
    db.session.rollback()
    return findings
