"""Top-ups: a payment at a gateway that becomes a `paid` lot once, when verified."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CHAR, BigInteger, CheckConstraint, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, CreatedAt, new_id


class Topup(CreatedAt, Base):
    __tablename__ = "topups"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= amount", name="refunded_within_amount"
        ),
        CheckConstraint(
            "status IN ('pending', 'paid', 'failed', 'canceled', 'partially_refunded', 'refunded')",
            name="status",
        ),
        UniqueConstraint("org_id", "order_id"),
        UniqueConstraint("provider", "gateway_payment_id"),
        Index("ix_topups_org_id_created_at", "org_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    order_id: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(CHAR(3))
    status: Mapped[str] = mapped_column(Text, default="pending")
    # Stripe PaymentIntent id, or PortOne paymentId.
    gateway_payment_id: Mapped[str | None] = mapped_column(Text)
    gateway_checkout_id: Mapped[str | None] = mapped_column(Text, unique=True)
    # What the browser needs (client_secret, checkout_url, store_id, ...).
    gateway_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    paid_at: Mapped[datetime | None]
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    failure_code: Mapped[str | None] = mapped_column(Text)
    failure_message: Mapped[str | None] = mapped_column(Text)
    # Paid into a virtual account (가상계좌): its refunds go to a bank account the
    # request must name.
    bank_transfer: Mapped[bool] = mapped_column(default=False, server_default="false")
    # Set when the gateway's record disagrees with ours; an operator must look.
    flagged_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None]
