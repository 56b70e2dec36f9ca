"""Deductions in one round trip.

A deduction's locked part (claim the order_id, lock the available wallet, pick the
lots, post, record the key) is one call of the database function `ledger_deduct`
(migrations/sql/deductions.sql), run as its own transaction: the wallet's lock is held
only while the server runs it, never across a network round trip or a Python thread
switch. A single deduction calls `ledger_deduct_one` (migrations/sql/deduct_one.sql),
which answers as a batch of one would, in plain statements. The lot order lives in SQL
(`ledger_take_from_lots`), and `ledger.domain.lots` is its test oracle.

Refused items write nothing and keep no key, as a rolled-back transaction would; each
item comes back as one `Deducted` row, in item order.

`balance.low` is decided in the function too, under the wallet lock. When a deduction
crosses the threshold (once per crossing, so rarely) its event must be written in the
same transaction, as the outbox asks: the lone call then raises LB001 and changes
nothing, and the deduction is made again inside a `unit_of_work()` that also writes
the event (`alerts.send_low_balance`) before it commits.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError

from ledger import clock
from ledger.book.accounts import REVENUE, committed_platform_account
from ledger.book.alerts import send_low_balance
from ledger.book.idempotency import request_hash
from ledger.book.transaction import one_transaction, unit_of_work
from ledger.extensions import db

CREATED, REPLAYED, CONFLICT, INSUFFICIENT = "created", "replayed", "conflict", "insufficient"


@dataclass(frozen=True)
class Deduction:
    """What to deduct; `fingerprint` is what a replay must match."""

    order_id: str
    amount: int
    currency: str
    description: str | None = None
    reference: str | None = None
    metadata: dict[str, Any] | None = None

    def fingerprint(self) -> dict[str, Any]:
        return {
            "amount": self.amount,
            "currency": self.currency,
            "description": self.description,
            "reference": self.reference,
            "metadata": self.metadata,
        }


@dataclass(frozen=True)
class Posted:
    """The entry a deduction made (or, for a replay, made first)."""

    entry_id: int
    amount: int
    currency: str
    balance_after: int
    created_at: datetime


@dataclass(frozen=True)
class Deducted:
    """One item's outcome: CREATED or REPLAYED (with `posted`), CONFLICT, or INSUFFICIENT
    (with `available`, what the unexpired lots held at its turn)."""

    outcome: str
    posted: Posted | None = None
    available: int | None = None


def _call(function: str) -> str:
    """The call of a deduction function, in the driver's own parameter style (the hot
    path hands it to psycopg directly)."""
    return (
        "SELECT outcome, entry_id, amount, currency, balance_after, created_at, available, "
        f"low_balance FROM {function}(%(org_id)s, %(order_ids)s, %(hashes)s, %(amounts)s, "
        "%(currencies)s, %(descriptions)s, %(references)s, %(metadata)s, %(revenue_ids)s, "
        "%(at)s, %(may_alert)s)"
    )


_DEDUCT = _call("ledger_deduct")
# A single deduction: its own function, the same answers in plain statements.
_DEDUCT_ONE = _call("ledger_deduct_one")
LOW_BALANCE_DUE = "LB001"  # the SQLSTATE ledger_deduct raises when balance.low is due


def deduct(org_id: uuid.UUID, items: list[Deduction]) -> list[Deducted]:
    """Apply the deductions in order, in one transaction and one round trip."""
    if not items:
        return []
    revenue = {c: committed_platform_account(REVENUE, c) for c in {i.currency for i in items}}
    columns: dict[str, list[Any]] = {
        "order_ids": [i.order_id for i in items],
        "hashes": [request_hash(i.fingerprint()) for i in items],
        "amounts": [i.amount for i in items],
        "currencies": [i.currency for i in items],
        "descriptions": [i.description for i in items],
        "references": [i.reference for i in items],
        "metadata": [json.dumps(i.metadata) if i.metadata is not None else None for i in items],
        "revenue_ids": [revenue[i.currency] for i in items],
    }
    if len(items) == 1:
        statement, params = _DEDUCT_ONE, {k: v[0] for k, v in columns.items()}
    else:
        statement, params = _DEDUCT, dict(columns)
    params.update(org_id=org_id, at=clock.now())
    try:
        rows = one_transaction(statement, {**params, "may_alert": False})
    except DBAPIError as e:
        if getattr(e.orig, "sqlstate", None) != LOW_BALANCE_DUE:
            raise
        rows = _deduct_and_alert(org_id, statement, params)
    return [_deducted(row) for row in rows]


def _deduct_and_alert(org_id: uuid.UUID, sql: str, params: dict[str, Any]) -> list[Any]:
    """The same call in a transaction of ours, which writes `balance.low` before commit."""
    with unit_of_work():
        connection = db.session.connection()
        rows = list(connection.exec_driver_sql(sql, {**params, "may_alert": True}).all())
        for currency in sorted({row.currency for row in rows if row.low_balance}):
            send_low_balance(org_id, currency)
    return rows


def _deducted(row: Any) -> Deducted:
    if row.outcome in (CREATED, REPLAYED):
        posted = Posted(row.entry_id, row.amount, row.currency, row.balance_after, row.created_at)
        return Deducted(row.outcome, posted=posted)
    return Deducted(row.outcome, available=row.available)
