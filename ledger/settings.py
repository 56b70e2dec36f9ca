"""Settings checked at start: production refuses to run unsafe, development says what it
borrows, and every database connection gets its timeouts.

`create_app` calls `apply_settings` before anything else touches the config.
"""

import logging

from flask import Flask

from config import DEVELOPMENT_DEFAULTS

log = logging.getLogger(__name__)

ENVIRONMENTS = ("development", "production")


class UnsafeConfiguration(RuntimeError):
    """The configuration would run the service unsafely; it does not start."""


def apply_settings(app: Flask) -> None:
    config = app.config
    environment = config.get("LEDGER_ENV") or "development"
    if environment not in ENVIRONMENTS:
        raise UnsafeConfiguration(
            f"LEDGER_ENV is {environment!r}; it must be one of {', '.join(ENVIRONMENTS)}"
        )
    if environment == "production":
        if not (config.get("JWT_SECRET") or config.get("JWT_JWKS_URL")):
            raise UnsafeConfiguration(
                "LEDGER_ENV=production needs JWT_SECRET or JWT_JWKS_URL; refusing to start"
            )
        if config.get("OIDC_ISSUER") and not config.get("SECRET_KEY"):
            raise UnsafeConfiguration(
                "console sign-in (OIDC_ISSUER) needs SECRET_KEY in production; refusing to start"
            )
        if config.get("SANDBOX"):
            raise UnsafeConfiguration(
                "the sandbox (make demo) refuses to run with LEDGER_ENV=production: "
                "its stand-ins for Stripe and PortOne accept any payment"
            )
    else:
        _borrow_development_defaults(app)
    _set_database_timeouts(app)


def _borrow_development_defaults(app: Flask) -> None:
    borrowed = [name for name in DEVELOPMENT_DEFAULTS if not app.config.get(name)]
    for name in borrowed:
        app.config[name] = DEVELOPMENT_DEFAULTS[name]
    if borrowed:
        log.warning(
            "development: using built-in defaults for %s (never do this in production)",
            ", ".join(borrowed),
        )


def _set_database_timeouts(app: Flask) -> None:
    """A busy row or a stuck statement ends in an error (503 busy), not a tied-up thread."""
    config = app.config
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("pool_timeout", config["DB_POOL_TIMEOUT_SECONDS"])
    connect_args = dict(options.get("connect_args") or {})
    connect_args["options"] = (
        f"-c lock_timeout={config['DB_LOCK_TIMEOUT_MS']} "
        f"-c statement_timeout={config['DB_STATEMENT_TIMEOUT_MS']}"
    )
    options["connect_args"] = connect_args
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options
