"""A PostgreSQL database made for one test session, on DATABASE_URL's server or on the
embedded one; dropped at the end. Tests never touch a database they did not create."""

import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from config import Config
from ledger.embedded_db import embedded_database_url

ROOT = Path(__file__).resolve().parents[1]


def server_url() -> str:
    """The server to create test databases on: DATABASE_URL's, or the embedded one."""
    return Config.SQLALCHEMY_DATABASE_URI or embedded_database_url(ROOT / "instance" / "test-pg")


def _admin_conninfo(url: str) -> str:
    sa_url = make_url(url).set(drivername="postgresql", database="postgres")
    return sa_url.render_as_string(hide_password=False)


def create_database(prefix: str = "ledger_test") -> str:
    """Create a fresh database and return its SQLAlchemy URL."""
    base = server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_conninfo(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(_admin_conninfo(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
