"""Ledger accounts.

An organisation has up to three wallets per currency: `available`, `held` (pending
refunds) and `reserved` (active holds). They carry a running `balance` (CHECK >= 0),
updated only by the posting engine under the wallet row lock. Platform accounts
(gateway clearing, revenue, grant expense, breakage, refund shortfall) have no
organisation and no running balance: their balance is the sum of their postings, so no
single platform row is locked by every tenant.
"""

import uuid

from sqlalchemy import (
    CHAR,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_nonnegative"),
        CheckConstraint(
            "(org_id IS NULL AND balance IS NULL) OR "
            "(org_id IS NOT NULL AND balance IS NOT NULL "
            "AND kind IN ('available', 'held', 'reserved'))",
            name="wallet_shape",
        ),
        UniqueConstraint("id", "currency", name="uq_ledger_accounts_id_currency"),
        Index(
            "uq_ledger_accounts_owner",
            "org_id",
            "currency",
            "kind",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    currency: Mapped[str] = mapped_column(CHAR(3))
    kind: Mapped[str] = mapped_column(Text)
    balance: Mapped[int | None] = mapped_column(BigInteger)
    # An `available` wallet below its organisation's low-balance threshold whose
    # `balance.low` has been sent; cleared once it is back at or above (once per crossing).
    low_balance_alerted: Mapped[bool] = mapped_column(Boolean, server_default=false())
