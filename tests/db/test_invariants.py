"""The database itself refuses what would break the ledger, whatever the code does."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from ledger.extensions import db


@pytest.fixture
def funded(caller, org):
    caller.grant(org, 1000)
    return org


def _wallet_and_revenue(org_id):
    wallet = db.session.execute(
        text("SELECT id FROM ledger_accounts WHERE org_id = :o AND kind = 'available'"),
        {"o": org_id},
    ).scalar_one()
    revenue = db.session.execute(
        text("SELECT id FROM ledger_accounts WHERE org_id IS NULL LIMIT 1")
    ).scalar_one()
    return wallet, revenue


def test_an_unbalanced_entry_is_refused_at_commit(app_ctx, funded, verify_ledger):
    wallet, revenue = _wallet_and_revenue(funded.id)
    entry = db.session.execute(
        text(
            "INSERT INTO journal_entries (org_id, kind, currency) "
            "VALUES (:o, 'manual', 'KRW') RETURNING id"
        ),
        {"o": funded.id},
    ).scalar_one()
    db.session.execute(
        text(
            "INSERT INTO postings (entry_id, account_id, currency, amount) VALUES "
            "(:e, :w, 'KRW', -100), (:e, :r, 'KRW', 99)"
        ),
        {"e": entry, "w": wallet, "r": revenue},
    )
    with pytest.raises(IntegrityError, match="does not balance"):
        db.session.commit()
    db.session.rollback()
    verify_ledger()


def test_postings_and_entries_cannot_be_updated_or_deleted(app_ctx, caller, funded):
    caller.deduct(funded, 10)  # so that lot allocations exist too
    for statement in (
        "UPDATE postings SET amount = amount + 1",
        "DELETE FROM postings",
        "UPDATE journal_entries SET description = 'rewritten'",
        "DELETE FROM journal_entries",
        "UPDATE lot_allocations SET amount = 1",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()


def test_a_wallet_cannot_go_negative(app_ctx, funded):
    with pytest.raises(IntegrityError, match="ck_ledger_accounts_balance_nonnegative"):
        db.session.execute(
            text(
                "UPDATE ledger_accounts SET balance = -1 WHERE org_id = :o AND kind = 'available'"
            ),
            {"o": funded.id},
        )
    db.session.rollback()


def test_a_lot_cannot_go_negative_or_above_its_amount(app_ctx, funded):
    for value in ("-1", "amount + 1"):
        with pytest.raises(IntegrityError, match="ck_lots_remaining_within_amount"):
            db.session.execute(
                text(f"UPDATE lots SET remaining = {value} WHERE org_id = :o"), {"o": funded.id}
            )
        db.session.rollback()


def test_a_zero_posting_is_refused(app_ctx, funded):
    wallet, revenue = _wallet_and_revenue(funded.id)
    entry = db.session.execute(
        text(
            "INSERT INTO journal_entries (org_id, kind, currency) "
            "VALUES (:o, 'x', 'KRW') RETURNING id"
        ),
        {"o": funded.id},
    ).scalar_one()
    with pytest.raises(IntegrityError, match="ck_postings_amount_nonzero"):
        db.session.execute(
            text(
                "INSERT INTO postings (entry_id, account_id, currency, amount) "
                "VALUES (:e, :w, 'KRW', 0)"
            ),
            {"e": entry, "w": wallet},
        )
    db.session.rollback()


def test_a_posting_in_another_currency_than_its_account_is_refused(app_ctx, funded):
    wallet, _ = _wallet_and_revenue(funded.id)
    entry = db.session.execute(
        text(
            "INSERT INTO journal_entries (org_id, kind, currency) "
            "VALUES (:o, 'x', 'USD') RETURNING id"
        ),
        {"o": funded.id},
    ).scalar_one()
    with pytest.raises(IntegrityError, match="fk_postings_account_currency"):
        db.session.execute(
            text(
                "INSERT INTO postings (entry_id, account_id, currency, amount) "
                "VALUES (:e, :w, 'USD', 5)"
            ),
            {"e": entry, "w": wallet},
        )
    db.session.rollback()
