"""The unit of work and wallet locks.

`unit_of_work()` is a use case's one transaction, as in cosmicpython's unit of work: it
commits when the block completes and rolls back if anything in it raises, so nothing is
half-written. It is the only code that ends a transaction. A use case that must commit
twice (store a webhook, then process it; mark a refund `processing`, then call the
gateway) uses two blocks and says why; a read that must not stay open across a gateway
call is a block of its own. `lock_wallets` takes `SELECT ... FOR UPDATE` on an organisation's wallet
rows, always in id order, so two transactions never wait on each other in a cycle.
The `available` wallet's lock also guards the organisation's lots in that currency.

`one_transaction(sql)` runs a single statement as its own transaction (autocommit) on a
connection of its own: for a server-side function that does a whole use case, so its
locks are held only while the server runs it (`book/deductions.py`). It is the hot path,
so it goes to the driver straight (SQL in psycopg's `%(name)s` style), without the
ORM session or SQLAlchemy's result objects, whose bookkeeping cost more than the rest of
the call; errors still come out as SQLAlchemy's DBAPIError, as everywhere else. A
connection that dies under it is retried once on a fresh one, which is safe because the
statement is one transaction: it either committed (the retry then replays it by its
idempotency key) or never happened.
"""

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

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


def one_transaction(sql: str, params: dict[str, Any]) -> list[NamedTuple]:
    """Run one statement as its own transaction: one round trip, committed when it returns."""
    try:
        return _run(sql, params)
    except DBAPIError as e:
        if not e.connection_invalidated:
            raise
    return _run(sql, params)  # a pooled connection had died: once more, on a new one


def _run(sql: str, params: dict[str, Any]) -> list[NamedTuple]:
    with db.engine.connect() as connection:
        driver = cast(psycopg.Connection[Any], connection.connection.driver_connection)
        driver.autocommit = True
        try:
            with driver.cursor(row_factory=namedtuple_row) as cursor:
                return cursor.execute(sql, params).fetchall()
        except psycopg.Error as e:
            if driver.broken:
                # The server went away: its other pooled connections are as dead as this
                # one (SQLAlchemy's own execute would invalidate them all as well).
                connection.invalidate()
                db.engine.dispose()
            raise DBAPIError.instance(
                sql, params, e, psycopg.Error, connection_invalidated=driver.broken
            ) from e
        finally:
            if not driver.broken:
                driver.autocommit = False


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
