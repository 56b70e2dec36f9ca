"""console: runs of the ledger's checks, for the console's health page

Revision ID: f0c9b8a7e6d5
Revises: a9f3c6e1b0d4
Create Date: 2026-11-30 13:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "f0c9b8a7e6d5"
down_revision = "a9f3c6e1b0d4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "verify_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("started_by", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("findings", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.CheckConstraint("source IN ('command', 'console')", name=op.f("ck_verify_runs_source")),
        sa.CheckConstraint(
            "finished_at >= started_at", name=op.f("ck_verify_runs_finished_after_start")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verify_runs")),
    )
    op.create_index(op.f("ix_verify_runs_finished_at"), "verify_runs", ["finished_at"])


def downgrade():
    op.drop_index(op.f("ix_verify_runs_finished_at"), table_name="verify_runs")
    op.drop_table("verify_runs")
