"""Holds (campaign budgets), what each took from which lot, and their captures.

The database keeps the hold's arithmetic: captured and released never exceed the
amount, a closed hold keeps nothing, and order_ids are unique per organisation.
`hold_lots` are written once, when the hold is made, and never change: which lots a
capture or release touches follows from them and the captures before it
(`domain.holds.slice_of`).
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CHAR,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, CreatedAt, new_id


class Hold(CreatedAt, Base):
    __tablename__ = "holds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "captured >= 0 AND released >= 0 AND captured + released <= amount",
            name="within_amount",
        ),
        CheckConstraint("status IN ('active', 'captured', 'voided', 'expired')", name="status"),
        # A closed hold keeps nothing.
        CheckConstraint(
            "status = 'active' OR captured + released = amount", name="closed_keeps_nothing"
        ),
        CheckConstraint("status <> 'captured' OR captured > 0", name="captured_spent"),
        CheckConstraint(
            "status NOT IN ('voided', 'expired') OR released > 0", name="released_gave_back"
        ),
        UniqueConstraint("org_id", "order_id"),
        UniqueConstraint("org_id", "id"),
        Index("ix_holds_org_id_created_at", "org_id", "created_at"),
        Index("ix_holds_active_expires_at", "expires_at", postgresql_where="status = 'active'"),
        Index(
            "ix_holds_active_org_id_currency",
            "org_id",
            "currency",
            postgresql_where="status = 'active'",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    order_id: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(CHAR(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    captured: Mapped[int] = mapped_column(BigInteger, default=0)
    # Given back to lots (or breakage) by a void, a final capture or expiry.
    released: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(Text, default="active")
    expires_at: Mapped[datetime]
    description: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    # The entry that reserved the amount.
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    closed_at: Mapped[datetime | None]


class HoldLot(Base):
    """What a hold took from one lot; `position` is the order it took them in."""

    __tablename__ = "hold_lots"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("position >= 0", name="position_nonnegative"),
        ForeignKeyConstraint(
            ["org_id", "hold_id"], ["holds.org_id", "holds.id"], name="fk_hold_lots_hold"
        ),
        UniqueConstraint("org_id", "hold_id", "position"),
        UniqueConstraint("org_id", "hold_id", "lot_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    hold_id: Mapped[uuid.UUID] = mapped_column()
    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)


class HoldCapture(CreatedAt, Base):
    """A capture: its id is its journal entry's (reserved credit to revenue)."""

    __tablename__ = "hold_captures"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        ForeignKeyConstraint(
            ["org_id", "hold_id"], ["holds.org_id", "holds.id"], name="fk_hold_captures_hold"
        ),
        UniqueConstraint("org_id", "order_id"),
        Index("ix_hold_captures_hold_id_id", "hold_id", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("journal_entries.id"), primary_key=True, autoincrement=False
    )
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    hold_id: Mapped[uuid.UUID] = mapped_column()
    order_id: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(CHAR(3))
    final: Mapped[bool]
