"""A pooled connection whose backend died while it sat idle is replaced before a request
uses it (the pool pings connections idle longer than IDLE_PING_SECONDS, here 0)."""

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ledger import extensions
from ledger.extensions import db


@pytest.fixture
def terminate_backends(app, database_url):
    """Terminate every backend of the test database; the pool is emptied afterwards, so
    later tests do not meet the dead connections."""
    libpq = make_url(database_url).set(drivername="postgresql").render_as_string(False)

    def terminate() -> int:
        with psycopg.connect(libpq, autocommit=True) as admin:
            (terminated,) = admin.execute(
                "SELECT count(*) FROM pg_stat_activity, pg_terminate_backend(pid) "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone() or (0,)
        return terminated

    yield terminate
    with app.app_context():
        db.engine.dispose()


def test_requests_after_the_backends_were_terminated_succeed(
    caller, org, terminate_backends, monkeypatch
):
    monkeypatch.setattr(extensions, "IDLE_PING_SECONDS", 0)
    caller.grant(org, 1_000)
    assert caller.deduct(org, 100).status_code == 201
    assert terminate_backends() > 0
    assert caller.balance(org)["available"] == 900
    assert caller.deduct(org, 100).status_code == 201
    assert caller.balance(org)["available"] == 800


def test_a_deduction_on_a_connection_that_died_unpinged_is_made_once_on_a_new_one(
    caller, org, terminate_backends, monkeypatch
):
    """The deduction's one-statement transaction retries a dead connection once: safe,
    since the statement either committed or never ran."""
    monkeypatch.setattr(extensions, "IDLE_PING_SECONDS", 3600)  # no ping at checkout
    caller.grant(org, 1_000)
    assert caller.deduct(org, 100, order_id="warm").status_code == 201
    assert terminate_backends() > 0
    response = caller.deduct(org, 100, order_id="after")
    assert response.status_code == 201, response.json
    assert caller.balance(org)["available"] == 800
