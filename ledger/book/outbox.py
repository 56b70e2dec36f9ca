"""The outbox: `record_event` writes an event in the caller's transaction.

Call it inside the unit of work that makes the change (never on its own), so the
event commits or rolls back with the change: no change without its event, no event
without its change. It also queues one delivery per enabled endpoint that subscribes
(by type, or `*`, and by organisation when the endpoint names one), in the same
statement; `ledger/services/event_delivery.py` sends them. It never ends the transaction.

    record_event(org_id=topup.org_id, type="topup.succeeded", data=topup)

`data` is the object as the API shows it: a dict ready for JSON, or a model whose
class the API layer has registered with `show_as` (at app start, so services need not
import API schemas), rendered here at the moment of the change.
"""

import builtins
import json
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import text

from ledger import clock
from ledger.domain.events import EVENT_TYPES, RETRY_FOR
from ledger.extensions import db

# clock_timestamp(), not now(): events of one transaction are listed in the order they
# happened. ON CONFLICT: only `uq_events_lot_expiring` can conflict (ids are fresh), and a lot is
# warned of once, so a second warning writes nothing and queues nothing.
_RECORD = text(
    """
    WITH event AS (
        INSERT INTO events (id, org_id, type, data, created_at)
        VALUES (:id, :org_id, :type, CAST(:data AS jsonb), clock_timestamp())
        ON CONFLICT DO NOTHING
        RETURNING id
    ), queued AS (
        INSERT INTO event_deliveries (event_id, endpoint_id, state, attempts,
                                      next_attempt_at, give_up_at)
        SELECT event.id, e.id, 'pending', 0, :now, :give_up_at
        FROM event CROSS JOIN webhook_endpoints e
        WHERE e.status = 'enabled'
          AND (e.org_id IS NULL OR e.org_id = :org_id)
          AND e.events && ARRAY['*', :type]
    )
    SELECT count(*) FROM event
    """
)


_shown_as: dict[type, Callable[[Any], dict[str, Any]]] = {}


def show_as(model: type, render: Callable[[Any], dict[str, Any]]) -> None:
    """Events about a `model` carry `render(obj)`, the object as the API shows it."""
    _shown_as[model] = render


def record_event(*, org_id: uuid.UUID, type: str, data: object) -> bool:
    """Write an event and queue its deliveries in the current transaction.

    Returns False when it was already recorded (a lot's `lot.expiring`), else True.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    if not isinstance(data, dict):
        db.session.flush()  # server defaults (created_at) are read back when rendered
        data = _shown_as[builtins.type(data)](data)
    now = clock.now()
    written: int = db.session.execute(
        _RECORD,
        {
            "id": uuid.uuid4(),
            "org_id": org_id,
            "type": type,
            "data": json.dumps(data, default=_json_value),
            "now": now,
            "give_up_at": now + RETRY_FOR,
        },
    ).scalar_one()
    return written == 1


def _json_value(value: object) -> str:
    """Times as RFC 3339 and ids as strings, as the API shows them."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def lot_data(
    *,
    id: object,
    kind: str,
    remaining: int,
    expires_at: datetime | None,
    currency: str,
) -> dict[str, Any]:
    """A lot as `GET .../balance` shows it, with its currency."""
    return {
        "id": str(id),
        "kind": kind,
        "remaining": remaining,
        "expires_at": expires_at.isoformat() if expires_at else None,
        "currency": currency,
    }
