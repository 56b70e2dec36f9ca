"""Organisations (tenants) and their API keys."""

import uuid
from datetime import datetime

from sqlalchemy import ARRAY, CHAR, BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, CreatedAt, new_id


class Organization(CreatedAt, Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("low_balance_threshold >= 0", name="low_balance_threshold_nonnegative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(Text)
    billing_email: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(CHAR(3))
    # Our mapping, not the e-mail, is the identity at Stripe (which allows duplicate e-mails).
    stripe_customer_id: Mapped[str | None] = mapped_column(Text, unique=True)
    # `balance.low` is sent when `available` falls below it (minor units; None: off).
    low_balance_threshold: Mapped[int | None] = mapped_column(BigInteger)


class ApiKey(CreatedAt, Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    # Only a SHA-256 of the secret is kept; the clear key is shown once.
    key_hash: Mapped[str] = mapped_column(CHAR(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    created_by: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]
