"""A platform account first seen in a transaction that rolls back is not cached: on a
fresh database, in one process (one worker), later deductions still post."""

import pytest
from sqlalchemy import text

from config import TestConfig
from ledger.app import create_app
from ledger.book.accounts import REVENUE, forget_cached_accounts, platform_account
from ledger.extensions import db
from tests.database import create_database, drop_database
from tests.helpers import Caller, new_order_id
from tests.server import migrate


@pytest.fixture
def fresh_app():
    url = create_database("ledger_fresh")
    migrate(url)
    config = type("FreshConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    fresh = create_app(config)
    forget_cached_accounts()
    yield fresh
    with fresh.app_context():
        db.engine.dispose()
    forget_cached_accounts()
    drop_database(url)


def test_a_rolled_back_first_use_does_not_poison_later_deductions(fresh_app):
    caller = Caller(fresh_app)
    org = caller.create_org()
    caller.grant(org, 10_000)

    # First use through the API that fails: NaN metadata, refused before anything posts.
    nan = f'{{"order_id": "{new_order_id()}", "amount": 100, "metadata": {{"m": NaN}}}}'
    r = caller.client.post(
        f"/v1/orgs/{org.id}/deductions",
        data=nan,
        content_type="application/json",
        headers=caller.service,
    )
    assert r.status_code == 422
    # Any other first use that rolls back: the revenue account is created, then undone.
    with fresh_app.app_context():
        platform_account(REVENUE, "KRW")
        db.session.rollback()
        assert (
            db.session.execute(
                text("SELECT count(*) FROM ledger_accounts WHERE kind = :k"), {"k": REVENUE}
            ).scalar_one()
            == 0
        )

    for _ in range(3):
        r = caller.deduct(org, 1_000)
        assert r.status_code == 201, r.json
    assert caller.balance(org)["available"] == 7_000
