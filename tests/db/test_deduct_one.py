"""`ledger_deduct_one` answers and writes as `ledger_deduct` does for a batch of one: the
same random sequence of deductions (replays, conflicts, refusals, lots expiring on the
way, a low-balance threshold crossed) on twin organisations, one through each function,
must give the same answers and leave the same lots, wallet, allocations and keys."""

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.book import REVENUE
from ledger.book.accounts import committed_platform_account
from ledger.book.deductions import _DEDUCT, _DEDUCT_ONE, Deduction
from ledger.book.idempotency import request_hash
from ledger.book.transaction import one_transaction
from ledger.extensions import db
from ledger.services.grants import grant_credit
from ledger.services.organizations import create_organization, set_low_balance_threshold

START = datetime.now(UTC) + timedelta(minutes=5)

_lots = st.lists(
    st.tuples(st.integers(1, 50), st.none() | st.integers(1, 4)),  # amount, expiry day
    min_size=1,
    max_size=4,
)
_deductions = st.lists(
    st.tuples(
        st.integers(0, 4),  # which order_id
        st.integers(1, 40),  # amount
        st.booleans(),  # with a description (a different request for the same order_id)
        st.integers(0, 5),  # the day it is made
        st.booleans(),  # may it write balance.low itself
    )
    | st.integers(1, 60),  # or a grant coming in between
    min_size=1,
    max_size=12,
)


def _twin(lots, threshold):
    org = create_organization(name="twin", billing_email="twin@example.com", currency="KRW")
    if threshold is not None:
        set_low_balance_threshold(org_id=org.id, threshold=threshold)
    for amount, day in lots:
        _grant(org.id, amount, START + timedelta(days=day) if day else None)
    return org.id


def _grant(org_id, amount, expires_at=None):
    grant_credit(
        org_id=org_id,
        order_id=f"grant-{uuid.uuid4()}",
        amount=amount,
        currency="KRW",
        reason="twin",
        granted_by="test",
        expires_at=expires_at,
    )


def _answer(sql, org_id, deduction, revenue, at, may_alert, *, batch):
    columns = {
        "order_ids": deduction.order_id,
        "hashes": request_hash(deduction.fingerprint()),
        "amounts": deduction.amount,
        "currencies": deduction.currency,
        "descriptions": deduction.description,
        "references": None,
        "metadata": None,
        "revenue_ids": revenue,
    }
    params = {k: [v] for k, v in columns.items()} if batch else columns
    params.update(org_id=org_id, at=at, may_alert=may_alert)
    try:
        (row,) = one_transaction(sql, params)
    except DBAPIError as e:
        return getattr(e.orig, "sqlstate", None)  # LB001: balance.low is due
    return (row.outcome, row.amount, row.balance_after, row.available, row.low_balance)


def _books(org_id):
    """What the deductions left: lots (in creation order), the wallet, each entry's
    allocations as (lot position, amount) in order, and the keys."""
    lots = db.session.execute(
        text("SELECT id, remaining FROM lots WHERE org_id = :org ORDER BY created_at, id"),
        {"org": org_id},
    ).all()
    position = {lot.id: n for n, lot in enumerate(lots)}
    wallet = db.session.execute(
        text(
            "SELECT balance, low_balance_alerted FROM ledger_accounts "
            "WHERE org_id = :org AND kind = 'available'"
        ),
        {"org": org_id},
    ).one()
    allocations = db.session.execute(
        text(
            "SELECT e.order_id, a.lot_id, a.amount FROM lot_allocations a "
            "JOIN journal_entries e ON e.id = a.entry_id "
            "WHERE e.org_id = :org AND e.kind = 'deduction' ORDER BY a.id"
        ),
        {"org": org_id},
    ).all()
    keys = db.session.execute(
        text(
            "SELECT order_id, request_hash, result_id IS NOT NULL FROM idempotency_keys "
            "WHERE org_id = :org AND kind = 'deduction' ORDER BY order_id"
        ),
        {"org": org_id},
    ).all()
    db.session.rollback()
    return (
        [lot.remaining for lot in lots],
        tuple(wallet),
        [(a.order_id, position[a.lot_id], a.amount) for a in allocations],
        [tuple(k) for k in keys],
    )


@settings(max_examples=60, deadline=None)
@given(lots=_lots, deductions=_deductions, threshold=st.none() | st.integers(0, 100))
def test_a_single_deduction_is_a_batch_of_one(app, lots, deductions, threshold):
    with app.app_context():
        one, batch = _twin(lots, threshold), _twin(lots, threshold)
        revenue = committed_platform_account(REVENUE, "KRW")
        for step in deductions:
            if isinstance(step, int):
                _grant(one, step)
                _grant(batch, step)
                continue
            key, amount, described, day, may_alert = step
            deduction = Deduction(
                f"order-{key}", amount, "KRW", description="described" if described else None
            )
            at = START + timedelta(days=day, hours=12)
            args = (deduction, revenue, at, may_alert)
            assert _answer(_DEDUCT_ONE, one, *args, batch=False) == _answer(
                _DEDUCT, batch, *args, batch=True
            )
        assert _books(one) == _books(batch)
