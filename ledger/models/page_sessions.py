"""Sign-ins to the pages: a one-use link, then a server-side session behind a cookie.

One row is one sign-in. A console link or a portal session request makes the row with a
`link_hash` valid 10 minutes; redeeming the link (once: an UPDATE that only matches an
unused, unexpired link) sets `session_hash`, the hash of the cookie's value. An OpenID
Connect sign-in makes the row with the session at once. Only hashes are stored, so a
database read gives no one a way in. Portal rows belong to an organisation (`org_id`
NOT NULL); operator rows belong to none.
"""

import uuid
from datetime import datetime

from sqlalchemy import CHAR, CheckConstraint, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, CreatedAt, new_id


class PageSession(CreatedAt, Base):
    __tablename__ = "page_sessions"
    __table_args__ = (
        CheckConstraint("kind IN ('operator', 'portal')", name="kind"),
        # Portal sign-ins belong to one organisation with a role; operators' to none.
        CheckConstraint(
            "(kind = 'portal' AND org_id IS NOT NULL AND org_role IS NOT NULL"
            " AND org_role IN ('admin', 'viewer'))"
            " OR (kind = 'operator' AND org_id IS NULL AND org_role IS NULL)",
            name="org_matches_kind",
        ),
        CheckConstraint("link_hash IS NOT NULL OR session_hash IS NOT NULL", name="has_a_secret"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(Text)
    org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    org_role: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    return_url: Mapped[str | None] = mapped_column(Text)
    link_hash: Mapped[str | None] = mapped_column(CHAR(64), unique=True)
    link_expires_at: Mapped[datetime | None]
    session_hash: Mapped[str | None] = mapped_column(CHAR(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
