"""pages: one-use sign-in links and server-side sessions

Revision ID: a9f3c6e1b0d4
Revises: f3a1901d5b27
Create Date: 2026-11-30 12:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a9f3c6e1b0d4"
down_revision = "f3a1901d5b27"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "page_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("org_role", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("return_url", sa.Text(), nullable=True),
        sa.Column("link_hash", sa.CHAR(64), nullable=True),
        sa.Column("link_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_hash", sa.CHAR(64), nullable=True),
        sa.Column("csrf_token", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("kind IN ('operator', 'portal')", name=op.f("ck_page_sessions_kind")),
        sa.CheckConstraint(
            "(kind = 'portal' AND org_id IS NOT NULL AND org_role IS NOT NULL"
            " AND org_role IN ('admin', 'viewer'))"
            " OR (kind = 'operator' AND org_id IS NULL AND org_role IS NULL)",
            name=op.f("ck_page_sessions_org_matches_kind"),
        ),
        sa.CheckConstraint(
            "link_hash IS NOT NULL OR session_hash IS NOT NULL",
            name=op.f("ck_page_sessions_has_a_secret"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_page_sessions_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_sessions")),
        sa.UniqueConstraint("link_hash", name=op.f("uq_page_sessions_link_hash")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_page_sessions_session_hash")),
    )
    op.create_index(op.f("ix_page_sessions_org_id"), "page_sessions", ["org_id"])


def downgrade():
    op.drop_index(op.f("ix_page_sessions_org_id"), table_name="page_sessions")
    op.drop_table("page_sessions")
