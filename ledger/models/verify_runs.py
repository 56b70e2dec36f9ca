"""Runs of the ledger's checks (`flask ledger verify`, or the console's button), kept so
the console can show the last result. A record of a check, not part of the books."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Identity, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base


class VerifyRun(Base):
    __tablename__ = "verify_runs"
    __table_args__ = (
        CheckConstraint("source IN ('command', 'console')", name="source"),
        CheckConstraint("finished_at >= started_at", name="finished_after_start"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    started_by: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime] = mapped_column(index=True)
    findings: Mapped[list[str]] = mapped_column(ARRAY(Text))

    @property
    def ok(self) -> bool:
        return not self.findings
