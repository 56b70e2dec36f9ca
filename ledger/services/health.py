"""Readiness: the database answers and its schema is at the migrations' head."""

from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ledger.book import unit_of_work
from ledger.extensions import db

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def _head() -> str | None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def schema_at_head() -> str | None:
    """None when ready, else why not."""
    try:
        with unit_of_work():
            current = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return "database unreachable or not migrated"
    head = _head()
    return None if current == head else f"schema at {current}, head is {head}"
