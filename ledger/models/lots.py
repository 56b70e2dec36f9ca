"""Lots: where an organisation's credit came from, and how much of each is left.

The sum of `remaining` over an organisation's lots in a currency equals its
`available` wallet. Every change to a lot is recorded as a lot allocation tied to
the journal entry that made it (negative: taken from the lot; positive: given back).
All lot changes happen under the organisation's `available` wallet lock.
"""

import uuid
from datetime import datetime

from sqlalchemy import CHAR, BigInteger, CheckConstraint, ForeignKey, Identity, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, CreatedAt, new_id


class Lot(CreatedAt, Base):
    __tablename__ = "lots"
    __table_args__ = (
        CheckConstraint("kind IN ('paid', 'bonus')", name="kind"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_within_amount"),
        CheckConstraint("shortfall >= 0", name="shortfall_nonnegative"),
        Index(
            "ix_lots_spendable",
            "org_id",
            "currency",
            postgresql_where="remaining > 0",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    currency: Mapped[str] = mapped_column(CHAR(3))
    kind: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime | None]
    topup_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("topups.id"), unique=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    # What the gateway took back from this lot's top-up (an outside refund, a lost dispute)
    # after the credit had been spent, and not yet made good: credit that comes back to
    # the lot (a reversal, a released hold) settles it before it is spendable again.
    shortfall: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class LotAllocation(Base):
    __tablename__ = "lot_allocations"
    __table_args__ = (CheckConstraint("amount <> 0", name="amount_nonzero"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
