"""Events out: the outbox, the platform's webhook endpoints, and their deliveries.

An event is written in the same transaction as the change it describes, and with it
one `event_deliveries` row per endpoint that subscribes (the queue). A worker claims a
due queue row with `FOR UPDATE SKIP LOCKED`, sends, and records the attempt in
`delivery_attempts` in the same transaction; a worker that dies mid-send leaves the row
due, so it is sent again (at least once, same `webhook-id`).

Endpoints belong to the platform (operators manage them; an organisation filter is
optional), so the queue and the attempts hang off the endpoint, not an organisation.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, CreatedAt, new_id


class Event(CreatedAt, Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_org_id_created_at", "org_id", text("created_at DESC"), text("id DESC")),
        Index("ix_events_created_at", text("created_at DESC"), text("id DESC")),
        # `lot.expiring` is sent once per lot, whoever runs the job and how often.
        Index(
            "uq_events_lot_expiring",
            "org_id",
            text("(data ->> 'id')"),
            unique=True,
            postgresql_where=text("type = 'lot.expiring'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    type: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)


class WebhookEndpoint(CreatedAt, Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        CheckConstraint("status IN ('enabled', 'disabled')", name="status"),
        CheckConstraint("cardinality(events) > 0", name="events_not_empty"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # Only this organisation's events, when set.
    org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    description: Mapped[str | None] = mapped_column(Text)
    # Kept in clear: signing needs it. Shown once, at creation.
    secret: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="enabled")


class EventDelivery(Base):
    """The queue: one row per event and endpoint, until it is delivered or given up."""

    __tablename__ = "event_deliveries"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'delivered', 'failed')", name="state"),
        CheckConstraint("state <> 'pending' OR next_attempt_at IS NOT NULL", name="pending_due"),
        Index(
            "ix_event_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
        ),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    state: Mapped[str] = mapped_column(Text, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    give_up_at: Mapped[datetime]


class DeliveryAttempt(CreatedAt, Base):
    """One row per attempt to send an event to an endpoint."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (
        # The database's word that no attempt is recorded twice.
        UniqueConstraint("endpoint_id", "event_id", "attempt"),
        Index("ix_delivery_attempts_endpoint_id_id", "endpoint_id", text("id DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
