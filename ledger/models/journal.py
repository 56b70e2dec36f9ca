"""Journal entries and their postings: append-only, balanced per currency.

The database enforces both: a deferred constraint trigger checks each entry's
postings sum to zero per currency at commit, and triggers refuse UPDATE and DELETE
(see migrations/sql/). A mistake is corrected by a new entry.
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
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, CreatedAt


class JournalEntry(CreatedAt, Base):
    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(CHAR(3))
    order_id: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    # A reversal points at the deduction it reverses.
    reverses_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id"), index=True
    )
    topup_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("topups.id"), index=True)
    refund_request_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("refund_requests.id"), index=True
    )
    created_at: Mapped[datetime]


# A page of an organisation's entries, newest first, kind filter included, from this
# index alone. NULLS LAST on a NOT NULL column is deliberate: the primary key cannot
# give that order, so the planner never walks it backwards through other tenants'
# newer entries to find a large tenant's page.
Index(
    "ix_journal_entries_org_id_id",
    JournalEntry.org_id,
    JournalEntry.id.desc().nulls_last(),
    postgresql_include=["kind"],
)


class Posting(Base):
    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_nonzero"),
        # The posting's currency is its account's currency.
        ForeignKeyConstraint(
            ["account_id", "currency"],
            ["ledger_accounts.id", "ledger_accounts.currency"],
            name="fk_postings_account_currency",
        ),
        Index("ix_postings_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(CHAR(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    # Known for wallets (locked while posting); NULL for platform accounts.
    balance_after: Mapped[int | None] = mapped_column(BigInteger)
