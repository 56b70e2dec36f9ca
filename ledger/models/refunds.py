"""Refund requests (asked by the advertiser, decided by an operator, paid by the gateway)
and refunds made outside the service (found in the gateway's record of a payment)."""

import uuid
from datetime import datetime

from sqlalchemy import CHAR, BigInteger, CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.dialects.postgresql import JSONB
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
    # What we told the gateway was still refundable when we asked it to refund: PortOne
    # refuses unless it agrees, so asking again with it can never refund twice.
    gateway_refundable_before: Mapped[int | None] = mapped_column(BigInteger)
    # The gateway's (or the PG's) reason when the refund failed, e.g. PortOne's pgCode.
    failure_code: Mapped[str | None] = mapped_column(Text)
    failure_message: Mapped[str | None] = mapped_column(Text)
    # Where a bank-transfer top-up's money goes back: {bank, number, holder_name}.
    refund_account: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]


class ExternalRefund(CreatedAt, Base):
    """A refund the gateway made that no request of ours explains (e.g. from its dashboard).

    `taken_back` came out of the top-up's lot; `shortfall` had already been spent and
    was booked to the platform's refund shortfall account for operators to pursue.
    """

    __tablename__ = "external_refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "taken_back >= 0 AND shortfall >= 0 AND taken_back + shortfall = amount",
            name="split",
        ),
        Index("ix_external_refunds_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    topup_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("topups.id"), index=True)
    provider: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(CHAR(3))
    taken_back: Mapped[int] = mapped_column(BigInteger)
    shortfall: Mapped[int] = mapped_column(BigInteger)
    # The gateway's total refunded on the payment when this was found.
    gateway_refunded: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
