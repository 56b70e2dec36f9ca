"""Refund requests: asked by the advertiser, decided by an operator, paid by the gateway."""

import uuid
from datetime import datetime

from sqlalchemy import CHAR, BigInteger, CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, CreatedAt, new_id


class RefundRequest(CreatedAt, Base):
    __tablename__ = "refund_requests"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "status IN ('pending', 'processing', 'succeeded', 'failed', 'rejected', 'canceled')",
            name="status",
        ),
        # One open request per top-up: the database has the last word.
        Index(
            "uq_refund_requests_open_topup",
            "topup_id",
            unique=True,
            postgresql_where="status IN ('pending', 'processing')",
        ),
        Index("ix_refund_requests_org_id_created_at", "org_id", "created_at"),
        Index("ix_refund_requests_status_created_at", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    topup_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("topups.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(CHAR(3))
    status: Mapped[str] = mapped_column(Text, default="pending")
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    canceled_by: Mapped[str | None] = mapped_column(Text)
    gateway_refund_id: Mapped[str | None] = mapped_column(Text, unique=True)
    failure_message: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
