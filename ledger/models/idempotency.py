"""Idempotency keys: the caller's order_id, unique per organisation and kind.

Concurrent duplicates meet at the unique key: the second insert waits for the first
transaction and then finds the stored result.
"""

import uuid

from sqlalchemy import CHAR, BigInteger, ForeignKey, Identity, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, CreatedAt


class IdempotencyKey(CreatedAt, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("org_id", "kind", "order_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(Text)
    order_id: Mapped[str] = mapped_column(Text)
    request_hash: Mapped[str] = mapped_column(CHAR(64))
    # What the first request made (an entry or top-up id): a replay answers with it.
    result_id: Mapped[str | None] = mapped_column(Text)
