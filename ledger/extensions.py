"""Extensions, created unbound here and bound to the app in `create_app`.

The smorest `Api` lives with the HTTP layer (`ledger.api.api`).

Pooled connections are checked before use only when they have sat idle for a while
(`IDLE_PING_SECONDS`): a dead one (the server restarted, the backend was terminated)
is then replaced before the request sees it, as `pool_pre_ping` would do, while a busy
service does not pay a round trip per request for it. A connection that dies in use is
invalidated by SQLAlchemy (and every older one with it).
"""

import time

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, Pool, PoolProxiedConnection

from ledger.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()

IDLE_PING_SECONDS = 1.0


@event.listens_for(Pool, "checkin")
def _note_idle(dbapi_connection: object, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(
    dbapi_connection: object, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return
    autocommit = dbapi_connection.autocommit  # type: ignore[attr-defined]
    try:
        dbapi_connection.autocommit = True  # type: ignore[attr-defined]
        dbapi_connection.execute("SELECT 1")  # type: ignore[attr-defined]
        dbapi_connection.autocommit = autocommit  # type: ignore[attr-defined]
    except Exception as e:
        raise DisconnectionError("a pooled connection had died") from e  # the pool replaces it
