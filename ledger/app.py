"""The app factory: config, extensions, blueprints, error handlers, request ids, CLI."""

from flask import Flask

from ledger.api import api, register_blueprints
from ledger.api.busy import register_busy_handlers
from ledger.api.errors import register_error_handlers
from ledger.api.limits import register_limits
from ledger.api.observability import register_observability
from ledger.api.request_id import register_request_id
from ledger.cli import ledger_cli
from ledger.extensions import db, migrate
from ledger.logs import configure_logging
from ledger.settings import apply_settings


def create_app(config: object | None = None) -> Flask:
    configure_logging()
    app = Flask(__name__)
    app.config.from_object(config or "config.Config")
    apply_settings(app)
    _resolve_database(app)
    _init_extensions(app)
    register_request_id(app)
    register_observability(app)
    register_limits(app)
    register_blueprints(app, api)
    register_error_handlers(app)
    register_busy_handlers(app)
    app.cli.add_command(ledger_cli)
    return app


def _resolve_database(app: Flask) -> None:
    """Without DATABASE_URL, run on the embedded PostgreSQL kept under instance/."""
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        from ledger.embedded_db import embedded_database_url

        data_dir = app.config.get("EMBEDDED_DB_DIR") or f"{app.instance_path}/pg"
        app.config["SQLALCHEMY_DATABASE_URI"] = embedded_database_url(data_dir)


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=app.config.get("MIGRATIONS_DIR", "migrations"))
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]
