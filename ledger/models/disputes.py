"""Disputes (chargebacks): a cardholder's bank takes a top-up's money back, or tries to.

`frozen` is what was left of the top-up's lot when the dispute opened (up to the disputed
amount), moved from `available` to `held` so it cannot be spent or refunded meanwhile.
`shortfall` is the part of a lost dispute that had already been spent: the platform's
loss, listed for operators.
"""

import uuid
from datetime import datetime

from sqlalchemy import CHAR, BigInteger, CheckConstraint, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, CreatedAt, new_id


class Dispute(CreatedAt, Base):
    __tablename__ = "disputes"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("frozen >= 0 AND frozen <= amount", name="frozen_within_amount"),
        CheckConstraint(
            "shortfall >= 0 AND shortfall <= amount AND (status = 'lost' OR shortfall = 0)",
            name="shortfall_only_when_lost",
        ),
        CheckConstraint("status IN ('open', 'won', 'lost')", name="status"),
        CheckConstraint("(status = 'open') = (closed_at IS NULL)", name="closed_when_decided"),
        # A gateway's dispute is recorded once; its top-up (and so its org) is fixed.
        UniqueConstraint("org_id", "provider", "gateway_dispute_id"),
        Index("ix_disputes_org_id_created_at", "org_id", "created_at"),
        Index("ix_disputes_status_created_at", "status", "created_at"),
        Index("ix_disputes_topup_id_open", "topup_id", postgresql_where="status = 'open'"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    topup_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("topups.id"))
    provider: Mapped[str] = mapped_column(Text)
    gateway_dispute_id: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(CHAR(3))
    frozen: Mapped[int] = mapped_column(BigInteger, default=0)
    shortfall: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(Text, default="open")
    gateway_status: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
