"""Platform accounts: gateway clearing, revenue, grant expense, breakage, shortfall.

They have no running balance, so they are never locked; their ids are looked up
once per process and cached, but only once the transaction that saw them commits
(an id from a rolled-back insert names no row).
"""

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from ledger.book.transaction import unit_of_work
from ledger.extensions import db

GATEWAY_CLEARING = "gateway_clearing:{provider}"
REVENUE = "consumed_credit_revenue"
GRANT_EXPENSE = "granted_credit_expense"
BREAKAGE = "expired_credit_breakage"
REFUND_SHORTFALL = "refund_shortfall"

_cache: dict[tuple[str, str], int] = {}


def platform_account(kind: str, currency: str) -> int:
    """The id of the platform account of this kind and currency, created on first use."""
    key = (kind, currency)
    if key in _cache:
        return _cache[key]
    pending: dict[tuple[str, str], int] = db.session.info.setdefault(_PENDING, {})
    if key not in pending:
        params = {"kind": kind, "currency": currency}
        db.session.execute(
            text(
                "INSERT INTO ledger_accounts (org_id, currency, kind) "
                "VALUES (NULL, :currency, :kind) ON CONFLICT DO NOTHING"
            ),
            params,
        )
        pending[key] = db.session.execute(
            text(
                "SELECT id FROM ledger_accounts "
                "WHERE org_id IS NULL AND currency = :currency AND kind = :kind"
            ),
            params,
        ).scalar_one()
    return pending[key]


def committed_platform_account(kind: str, currency: str) -> int:
    """`platform_account` outside a transaction: from the cache, else in one of its own."""
    if (kind, currency) in _cache:
        return _cache[(kind, currency)]
    with unit_of_work():
        return platform_account(kind, currency)


_PENDING = "platform_accounts_seen"


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    _cache.update(session.info.pop(_PENDING, {}))


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def gateway_clearing(provider: str, currency: str) -> int:
    return platform_account(GATEWAY_CLEARING.format(provider=provider), currency)


def is_platform_account(account_id: int) -> bool:
    """True for a platform account this process has looked up (known not to be a wallet)."""
    return account_id in _cache.values()


def forget_cached_accounts() -> None:
    """Tests that recreate the database call this."""
    _cache.clear()
