"""The unit of work and wallet locks.

`unit_of_work()` is a use case's one transaction, as in cosmicpython's unit of work: it
commits when the block completes and rolls back if anything in it raises, so nothing is
half-written. It is the only code that ends a transaction. A use case that must commit
twice (store a webhook, then process it; mark a refund `processing`, then call the
gateway) uses two blocks and says why; a read that must not stay open across a gateway
call is a block of its own. `lock_wallets` takes `SELECT ... FOR UPDATE` on an organisation's wallet
rows, always in id order, so two transactions never wait on each other in a cycle.
The `available` wallet's lock also guards the organisation's lots in that currency.
"""

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import text

from ledger.extensions import db


@contextlib.contextmanager
def unit_of_work() -> Iterator[None]:
    """Run the block in one transaction: commit at the end, roll back if it raises."""
    session = db.session
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


@dataclass
class Wallet:
    id: int
    kind: str
    currency: str
    balance: int
    org_id: uuid.UUID | None = None
    # The organisation's threshold, read under this lock (None: off, or not the
    # available wallet in its own currency), and whether its alert is out.
    low_balance_threshold: int | None = None
    low_balance_alerted: bool = False


_LOCK = text(
    """
    SELECT a.id, a.kind, a.currency, a.balance, a.org_id, a.low_balance_alerted,
           CASE WHEN a.kind = 'available' AND a.currency = o.currency
                THEN o.low_balance_threshold END AS low_balance_threshold
    FROM ledger_accounts a JOIN organizations o ON o.id = a.org_id
    WHERE a.org_id = :org_id AND a.currency = :currency AND a.kind = ANY(:kinds)
    ORDER BY a.id FOR UPDATE OF a
    """
)
_CREATE = text(
    "INSERT INTO ledger_accounts (org_id, currency, kind, balance) "
    "SELECT :org_id, :currency, kind, 0 FROM unnest(CAST(:kinds AS text[])) AS kind "
    "ON CONFLICT DO NOTHING"
)


def lock_wallets(org_id: object, currency: str, *kinds: str) -> dict[str, Wallet]:
    """Lock the organisation's wallets of these kinds (default: available), creating them
    at zero on first use. Returns them by kind."""
    kinds_list = sorted(kinds or ("available",))
    params = {"org_id": org_id, "currency": currency, "kinds": kinds_list}
    rows = db.session.execute(_LOCK, params).all()
    if len(rows) < len(kinds_list):
        db.session.execute(_CREATE, params)
        rows = db.session.execute(_LOCK, params).all()
    return {
        row.kind: Wallet(
            row.id,
            row.kind,
            row.currency,
            row.balance,
            row.org_id,
            row.low_balance_threshold,
            row.low_balance_alerted,
        )
        for row in rows
    }
