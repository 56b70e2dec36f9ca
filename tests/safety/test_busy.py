"""Busy rows and an exhausted pool are `503 busy` with Retry-After, change nothing, and
never tie a request up for longer than the timeouts."""

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from config import TestConfig
from ledger.app import create_app
from ledger.extensions import db
from tests.helpers import Caller


@pytest.fixture
def busy_app(app, database_url):
    """The same database, with short timeouts and a pool of one connection."""
    config = type(
        "BusyConfig",
        (TestConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0},
            "DB_LOCK_TIMEOUT_MS": 300,
            "DB_POOL_TIMEOUT_SECONDS": 0.3,
        },
    )
    busy = create_app(config)
    yield busy
    with busy.app_context():
        db.engine.dispose()


def libpq_url(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def assert_busy(response):
    assert response.status_code == 503, response.json
    assert response.json["error"]["code"] == "busy"
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-Request-Id"]


def test_a_wallet_locked_elsewhere_gives_503_then_succeeds(busy_app, caller, org, database_url):
    caller.grant(org, 1_000)
    busy = Caller(busy_app)
    with psycopg.connect(libpq_url(database_url)) as other:
        other.execute(
            "SELECT id FROM ledger_accounts WHERE org_id = %s FOR UPDATE", (org.id,)
        ).fetchall()
        r = busy.deduct(org, 100, headers=caller.service)
        assert_busy(r)
        other.rollback()
    assert caller.balance(org)["available"] == 1_000
    r = busy.deduct(org, 100, headers=caller.service)
    assert r.status_code == 201, r.json
    assert caller.balance(org)["available"] == 900


def test_an_exhausted_pool_gives_503_not_a_hang(busy_app, caller, org):
    caller.grant(org, 1_000)
    busy = Caller(busy_app)
    with busy_app.app_context(), db.engine.connect() as held:
        held.execute(text("SELECT 1"))
        assert_busy(busy.deduct(org, 100, headers=caller.service))
        r = busy.client.get(f"/v1/orgs/{org.id}/balance", headers=caller.service)
        assert_busy(r)
    assert caller.balance(org)["available"] == 1_000
    assert busy.deduct(org, 100, headers=caller.service).status_code == 201
