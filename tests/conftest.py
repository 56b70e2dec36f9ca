"""Fixtures: one real PostgreSQL database per session, migrated to head; an app and
clients; callers (tokens and keys); organisations with money put in through services."""

import threading
import uuid

import flask_migrate
import pytest

from config import TestConfig
from ledger import clock
from ledger.app import create_app
from ledger.book.accounts import forget_cached_accounts
from ledger.book.verify import run_checks
from ledger.extensions import db
from tests.database import create_database, drop_database
from tests.factories import OrganizationFactory
from tests.helpers import Caller

# The fake Stripe API and its fixtures (`fake_stripe`, `stripe_webhook`), for any test.
# The gateway fakes (local HTTP servers speaking Stripe and PortOne) and the receiver of
# our own outgoing webhooks, as fixtures.
pytest_plugins = ("tests.fakes.stripe", "tests.fakes.portone", "tests.fakes.receiver")


@pytest.fixture(scope="session")
def database_url():
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def app(database_url):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    app = create_app(Config)
    with app.app_context():
        flask_migrate.upgrade()
    forget_cached_accounts()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def _unpin_clock():
    yield
    clock.pin(None)


@pytest.fixture
def caller(app):
    """Makes callers (operator, service, org users, API keys) and sends requests as them."""
    return Caller(app)


@pytest.fixture
def org(caller):
    """A fresh KRW organisation."""
    return OrganizationFactory.create(caller=caller)


@pytest.fixture
def verify_ledger(app):
    """Call at the end of a scenario: the whole ledger must verify."""

    def verify():
        with app.app_context():
            findings = run_checks()
        assert findings == []

    return verify


@pytest.fixture
def run_threads():
    """Run fn(i) in n real threads started together; returns results in index order."""

    def run(n, fn):
        barrier = threading.Barrier(n)
        results = [None] * n
        errors = []

        def worker(i):
            try:
                barrier.wait()
                results[i] = fn(i)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        return results

    return run


def unique(prefix: str = "o") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
