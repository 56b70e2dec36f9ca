"""Busy, not broken: a row lock held too long, a statement past its timeout, or no free
pooled connection is `503 busy` with `Retry-After`. The transaction rolls back, so
nothing changed, and the thread is free again within DB_LOCK_TIMEOUT_MS."""

import psycopg.errors
from flask import Flask
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ledger.api.errors import envelope, render_unexpected

RETRY_AFTER_SECONDS = "1"
_BUSY = (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled)


def _busy():
    body, status = envelope("busy", "the service is busy; retry shortly", 503)
    body.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return body, status


def render_operational_error(error: OperationalError):
    if isinstance(error.orig, _BUSY):
        return _busy()
    return render_unexpected(error)


def register_busy_handlers(app: Flask) -> None:
    app.register_error_handler(OperationalError, render_operational_error)
    app.register_error_handler(PoolTimeout, lambda error: _busy())
