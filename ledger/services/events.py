"""Reading the events, and queueing one again (redelivery)."""

import uuid

from sqlalchemy import select, text

from ledger import clock
from ledger.book import unit_of_work
from ledger.book.reports import Page, newest_first
from ledger.domain.events import RETRY_FOR, subscribes
from ledger.errors import InvalidState, NotFound
from ledger.extensions import db
from ledger.models import Event, WebhookEndpoint


def list_events(
    *,
    limit: int,
    cursor: str | None = None,
    org_id: uuid.UUID | None = None,
    type: str | None = None,
) -> Page:
    """Events newest first: one organisation's, or every organisation's (operators)."""
    query = select(Event)
    if org_id is not None:
        query = query.where(Event.org_id == org_id)
    if type is not None:
        query = query.where(Event.type == type)
    return newest_first(query, Event, limit=limit, cursor=cursor)


_REQUEUE = text(
    """
    INSERT INTO event_deliveries (event_id, endpoint_id, state, attempts, next_attempt_at,
                                  give_up_at)
    SELECT :event_id, endpoint_id, 'pending', 0, :now, :give_up_at
    FROM unnest(CAST(:endpoint_ids AS uuid[])) AS endpoint_id
    ON CONFLICT (event_id, endpoint_id) DO UPDATE
    SET state = 'pending', next_attempt_at = :now, give_up_at = :give_up_at
    """
)


def redeliver(*, event_id: uuid.UUID, endpoint_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Queue the event again, now, for one endpoint or every enabled one that subscribes.

    It is sent with the same `webhook-id` (the event id). Returns the endpoints queued.

    Raises:
        NotFound: no such event or endpoint.
        InvalidState: the endpoint is disabled, or does not subscribe to this event.
    """
    with unit_of_work():
        event = db.session.get(Event, event_id)
        if event is None:
            raise NotFound("event not found")
        if endpoint_id is None:
            endpoints = db.session.scalars(
                select(WebhookEndpoint).where(WebhookEndpoint.status == "enabled")
            ).all()
        else:
            endpoint = db.session.get(WebhookEndpoint, endpoint_id)
            if endpoint is None:
                raise NotFound("webhook endpoint not found")
            if endpoint.status != "enabled":
                raise InvalidState("the webhook endpoint is disabled")
            if not subscribes(endpoint.events, endpoint.org_id, event.type, event.org_id):
                raise InvalidState("the webhook endpoint does not subscribe to this event")
            endpoints = [endpoint]
        queued = [
            e.id for e in endpoints if subscribes(e.events, e.org_id, event.type, event.org_id)
        ]
        now = clock.now()
        db.session.execute(
            _REQUEUE,
            {
                "event_id": event_id,
                "endpoint_ids": queued,
                "now": now,
                "give_up_at": now + RETRY_FOR,
            },
        )
    return queued
