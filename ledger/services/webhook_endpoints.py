"""The platform's webhook endpoints (operators manage them) and their delivery attempts."""

import base64
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select, text, update

from ledger.book import unit_of_work
from ledger.book.reports import Page, decode_cursor, encode_cursor, newest_first
from ledger.errors import NotFound
from ledger.extensions import db
from ledger.models import DeliveryAttempt, WebhookEndpoint
from ledger.services.organizations import organization_currency

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once, at creation

    def __getattr__(self, name: str):
        return getattr(self.endpoint, name)


def create_endpoint(
    *, url: str, events: list[str], org_id: uuid.UUID | None = None, description: str | None = None
) -> NewEndpoint:
    """Register an endpoint with a fresh signing secret (rotate by creating a new one)."""
    if org_id is not None:
        organization_currency(org_id)  # NotFound when there is no such organisation
    secret = SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
    with unit_of_work():
        endpoint = WebhookEndpoint(
            url=url,
            events=sorted(set(events)),
            org_id=org_id,
            description=description,
            secret=secret,
            status="enabled",
        )
        db.session.add(endpoint)
    return NewEndpoint(endpoint, secret)


def list_endpoints(*, limit: int, cursor: str | None = None) -> Page:
    return newest_first(select(WebhookEndpoint), WebhookEndpoint, limit=limit, cursor=cursor)


def get_endpoint(endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("webhook endpoint not found")
    return endpoint


def update_endpoint(
    *, endpoint_id: uuid.UUID, events: list[str] | None = None, status: str | None = None
) -> WebhookEndpoint:
    """Change what an endpoint subscribes to, or enable/disable it.

    Disabling drops its pending deliveries: a disabled endpoint is sent nothing, and
    what happened meanwhile is not sent when it is enabled again (redeliver for that).
    """
    changes: dict = {}
    if events is not None:
        changes["events"] = sorted(set(events))
    if status is not None:
        changes["status"] = status
    with unit_of_work():
        endpoint = db.session.execute(
            select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).with_for_update()
        ).scalar_one_or_none()
        if endpoint is None:
            raise NotFound("webhook endpoint not found")
        if changes:
            db.session.execute(
                update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(**changes)
            )
        if status == "disabled":
            db.session.execute(
                text(
                    "UPDATE event_deliveries SET state = 'failed', next_attempt_at = NULL "
                    "WHERE endpoint_id = :id AND state = 'pending'"
                ),
                {"id": endpoint_id},
            )
        db.session.refresh(endpoint)
    return endpoint


def delete_endpoint(*, endpoint_id: uuid.UUID) -> None:
    """Remove an endpoint with its queue and attempts: nothing more is sent to it."""
    with unit_of_work():
        deleted = db.session.execute(
            delete(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .returning(WebhookEndpoint.id)
        ).scalar()
        if deleted is None:
            raise NotFound("webhook endpoint not found")


def list_attempts(*, endpoint_id: uuid.UUID, limit: int, cursor: str | None = None) -> Page:
    """An endpoint's delivery attempts, newest first (keyset on the attempt id)."""
    get_endpoint(endpoint_id)
    before = decode_cursor(cursor) if cursor else 2**63 - 1
    rows = list(
        db.session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.endpoint_id == endpoint_id, DeliveryAttempt.id < before)
            .order_by(DeliveryAttempt.id.desc())
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if more else None)
