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


def holds_match_open_refunds_and_disputes() -> list[str]:
    rows = db.session.execute(
        text(
            """
            SELECT a.org_id, a.currency, a.balance, coalesce(h.amount, 0) AS open_holds
            FROM ledger_accounts a
            LEFT JOIN (SELECT org_id, currency, sum(amount) AS amount FROM (
                         SELECT org_id, currency, amount FROM refund_requests
                         WHERE status IN ('pending', 'processing')
                         UNION ALL
                         SELECT org_id, currency, frozen FROM disputes WHERE status = 'open'
                       ) held GROUP BY org_id, currency) h
              ON h.org_id = a.org_id AND h.currency = a.currency
            WHERE a.kind = 'held' AND a.balance <> coalesce(h.amount, 0)
            """
        )
    )
    return [
        f"organisation {r.org_id}: held {r.balance} {r.currency} "
        f"but open refund requests and disputes hold {r.open_holds}"
        for r in rows
    ]


def reserved_matches_active_holds() -> list[str]:
    rows = db.session.execute(
        text(
            """
            SELECT a.org_id, a.currency, a.balance, coalesce(h.remaining, 0) AS remaining
            FROM ledger_accounts a
            LEFT JOIN (SELECT org_id, currency, sum(amount - captured - released) AS remaining
                       FROM holds WHERE status = 'active' GROUP BY org_id, currency) h
              ON h.org_id = a.org_id AND h.currency = a.currency
            WHERE a.kind = 'reserved' AND a.balance <> coalesce(h.remaining, 0)
            """
        )
    )
    return [
        f"organisation {r.org_id}: reserved {r.balance} {r.currency} "
        f"but active holds keep {r.remaining}"
        for r in rows
    ]


def holds_match_their_lots() -> list[str]:
    rows = db.session.execute(
        text(
            """
            SELECT h.id, h.amount, coalesce(sum(l.amount), 0) AS taken
            FROM holds h LEFT JOIN hold_lots l ON l.hold_id = h.id
            GROUP BY h.id HAVING h.amount <> coalesce(sum(l.amount), 0)
            """
        )
    )
    return [f"hold {r.id}: amount {r.amount}, but it took {r.taken} from lots" for r in rows]


def lot_shortfalls_match_their_history() -> list[str]:
    """What a lot owes is what the gateway took back after it was spent (outside refunds,
    lost disputes) less what credit coming back to it has settled."""
    rows = db.session.execute(
        text(
            """
            SELECT l.id, l.shortfall,
                   coalesce(x.owed, 0) + coalesce(d.owed, 0) + coalesce(s.settled, 0) AS expected
            FROM lots l
            LEFT JOIN (SELECT topup_id, sum(shortfall) AS owed FROM external_refunds
                       GROUP BY topup_id) x ON x.topup_id = l.topup_id
            LEFT JOIN (SELECT topup_id, sum(shortfall) AS owed FROM disputes
                       GROUP BY topup_id) d ON d.topup_id = l.topup_id
            LEFT JOIN (SELECT a.lot_id, sum(a.amount) AS settled
                       FROM lot_allocations a JOIN journal_entries e ON e.id = a.entry_id
                       WHERE e.kind = 'shortfall_settlement' GROUP BY a.lot_id) s
              ON s.lot_id = l.id
            WHERE l.topup_id IS NOT NULL
              AND l.shortfall <> coalesce(x.owed, 0) + coalesce(d.owed, 0) + coalesce(s.settled, 0)
            """
        )
    )
    return [f"lot {r.id} owes {r.shortfall}, its history says {r.expected}" for r in rows]


CHECKS: dict[str, Callable[[], list[str]]] = {
    "trial balance is zero per currency": trial_balance_is_zero,
    "every entry balances": entries_balance,
    "wallets equal their postings": wallets_match_postings,
    "lots' remaining equals the available wallet": lots_match_available,
    "lots equal their movements": lots_match_allocations,
    "reserved wallets equal active holds' remaining": reserved_matches_active_holds,
    "holds equal what they took from lots": holds_match_their_lots,
    "held wallets equal open refund requests and open disputes' frozen credit": (
        holds_match_open_refunds_and_disputes
    ),
    "lots' shortfalls equal what was taken back less what was settled": (
        lot_shortfalls_match_their_history
    ),
}


def run_checks() -> list[str]:
    """Every finding of every check; an empty list means the ledger is sound."""
    findings: list[str] = []
    for name, check in CHECKS.items():
        findings.extend(f"{name}: {finding}" for finding in check())
    db.session.rollback()
    return findings
