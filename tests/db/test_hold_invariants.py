"""The database refuses holds that break their arithmetic, whatever the code does."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from ledger.extensions import db
from tests.hold_steps import capture, held, void


@pytest.fixture
def hold_id(caller, org):
    caller.grant(org, 1000)
    h = held(caller, org, 100)
    capture(caller, org, h["id"], 30)
    return h["id"]


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ("captured = amount + 1", "ck_holds_within_amount"),
        ("released = 80", "ck_holds_within_amount"),
        ("status = 'voided'", "ck_holds_closed_keeps_nothing"),
        ("status = 'gone', released = 70", "ck_holds_status"),
        ("captured = 10", "moves forward"),
        ("amount = 200", "moves forward"),
    ],
)
def test_a_hold_cannot_be_rewritten(app_ctx, hold_id, change, refusal):
    with pytest.raises(IntegrityError, match=refusal):
        db.session.execute(text(f"UPDATE holds SET {change} WHERE id = :id"), {"id": hold_id})
    db.session.rollback()


def test_a_closed_hold_stays_closed_and_its_records_are_append_only(app_ctx, caller, org, hold_id):
    assert void(caller, org, hold_id).status_code == 200
    with pytest.raises(IntegrityError, match="moves forward"):
        db.session.execute(
            text("UPDATE holds SET status = 'active', released = 0 WHERE id = :id"),
            {"id": hold_id},
        )
    db.session.rollback()
    for statement in (
        "DELETE FROM holds WHERE id = :id",
        "UPDATE hold_lots SET amount = amount + 1 WHERE hold_id = :id",
        "DELETE FROM hold_captures WHERE hold_id = :id",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement), {"id": hold_id})
        db.session.rollback()


def test_order_ids_are_unique_per_organisation(app_ctx, hold_id):
    with pytest.raises(IntegrityError, match="uq_holds_org_id_order_id"):
        db.session.execute(
            text(
                "INSERT INTO holds (id, org_id, order_id, currency, amount, captured, released, "
                "status, expires_at, entry_id) "
                "SELECT gen_random_uuid(), org_id, order_id, currency, 1, 0, 0, 'active', "
                "expires_at, entry_id FROM holds WHERE id = :id"
            ),
            {"id": hold_id},
        )
    db.session.rollback()
