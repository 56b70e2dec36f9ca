"""The ceiling: the very SQL a deduction executes, driven straight over psycopg by N
threads (no HTTP, no Flask, no ORM), each with its own connection.

Per deduction, as `services/deductions.deduct` does: claim the order_id, lock the
available wallet, read its open lots, post the entry (one statement), record the key,
commit. The statements and the posting's parameters are the service's own
(`engine.plan_statement`), compiled for psycopg.
"""

import threading
import time
from collections import Counter
from typing import Any

import psycopg
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.engine import make_url

from bench.load import Result
from ledger import clock
from ledger.book import engine, idempotency, lots, transaction
from ledger.book.transaction import Wallet
from ledger.domain import lots as lot_rules
from ledger.domain.entries import EntryDraft, LotMovement, transfer
from ledger.domain.lots import LotBalance

_dialect = psycopg_dialect.dialect()
CLAIM, LOCK, OPEN_LOTS, POST, RECORD = (
    str(statement.compile(dialect=_dialect))
    for statement in (
        idempotency._INSERT,
        transaction._LOCK,
        lots._OPEN_LOTS,
        engine._POST,
        idempotency._RECORD,
    )
)


def conninfo(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def _one(cursor: psycopg.Cursor[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The row of a statement that always returns exactly one."""
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the statement returned no row")
    return row


def deduct(conn: psycopg.Connection, org_id, revenue_id: int, order_id: str, amount: int) -> int:
    """One deduction in one transaction; returns the entry id (0 when short of credit)."""
    with conn.transaction():
        key_id = _one(
            conn.execute(
                CLAIM,
                {"org_id": org_id, "kind": "deduction", "order_id": order_id, "hash": "0" * 64},
            )
        )[0]
        wallet_id, _, _, balance, *_ = _one(
            conn.execute(LOCK, {"org_id": org_id, "currency": "KRW", "kinds": ["available"]})
        )
        open_lots = [
            LotBalance(*row)
            for row in conn.execute(OPEN_LOTS, {"org_id": org_id, "currency": "KRW"})
        ]
        now = clock.now()
        if lot_rules.spendable(open_lots, now) < amount:
            return 0
        taken = lot_rules.allocate(open_lots, amount, now)
        draft = EntryDraft(
            kind="deduction",
            org_id=org_id,
            currency="KRW",
            postings=transfer(
                source=wallet_id, destination=revenue_id, currency="KRW", amount=amount
            ),
            order_id=order_id,
            lot_movements=tuple(
                LotMovement(lot_id, -taken_amount) for lot_id, taken_amount in taken
            ),
        )
        plan = engine.plan_statement(
            [draft], {wallet_id: Wallet(wallet_id, "available", "KRW", balance)}
        )
        entry_id = _one(conn.execute(POST, plan.params))[1]
        conn.execute(RECORD, {"id": key_id, "result_id": str(entry_id)})
    return entry_id


def run(
    database_url: str, org_ids: list, revenue_id: int, *, clients: int, seconds: float
) -> Result:
    """Deduct 1 from `org_ids[(client + n) % len]` in a closed loop, like the HTTP load."""
    stop_at = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients)
    info = conninfo(database_url)
    tag = time.monotonic_ns()

    def client(i: int) -> None:
        with psycopg.connect(info) as conn:
            barrier.wait()
            n = 0
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                org_id = org_ids[(i * 7919 + n) % len(org_ids)]
                deduct(conn, org_id, revenue_id, f"ceiling-{tag}-{i}-{n}", 1)
                latencies[i].append((time.perf_counter() - started) * 1000)
                n += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [ms for per_client in latencies for ms in per_client]
    return Result(len(flat), time.monotonic() - started, flat, Counter({201: len(flat)}))
