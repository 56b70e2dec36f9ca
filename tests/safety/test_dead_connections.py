"""A pooled connection whose backend died while it sat idle is replaced before a request
uses it (the pool pings connections idle longer than IDLE_PING_SECONDS, here 0)."""

import psycopg
from sqlalchemy.engine import make_url

from ledger import extensions


def test_requests_after_the_backends_were_terminated_succeed(
    app, caller, org, database_url, monkeypatch
):
    monkeypatch.setattr(extensions, "IDLE_PING_SECONDS", 0)
    caller.grant(org, 1_000)
    assert caller.deduct(org, 100).status_code == 201
    libpq = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(libpq, autocommit=True) as admin:
        terminated = admin.execute(
            "SELECT count(*) FROM pg_stat_activity, pg_terminate_backend(pid) "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert terminated is not None
    assert terminated[0] > 0
    assert caller.balance(org)["available"] == 900
    assert caller.deduct(org, 100).status_code == 201
    assert caller.balance(org)["available"] == 800
