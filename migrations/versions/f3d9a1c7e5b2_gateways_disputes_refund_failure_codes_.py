"""gateways: disputes, refund failure codes and accounts, lot shortfalls, the inbox's retries

Revision ID: f3d9a1c7e5b2
Revises: e13f0a7b2c45
Create Date: 2026-11-30 12:25:09.654119

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "f3d9a1c7e5b2"
down_revision = "e13f0a7b2c45"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "disputes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("topup_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("gateway_dispute_id", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(length=3), nullable=False),
        sa.Column("frozen", sa.BigInteger(), nullable=False),
        sa.Column("shortfall", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("gateway_status", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(status = 'open') = (closed_at IS NULL)", name=op.f("ck_disputes_closed_when_decided")
        ),
        sa.CheckConstraint(
            "shortfall >= 0 AND shortfall <= amount AND (status = 'lost' OR shortfall = 0)",
            name=op.f("ck_disputes_shortfall_only_when_lost"),
        ),
        sa.CheckConstraint("status IN ('open', 'won', 'lost')", name=op.f("ck_disputes_status")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_disputes_amount_positive")),
        sa.CheckConstraint(
            "frozen >= 0 AND frozen <= amount", name=op.f("ck_disputes_frozen_within_amount")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_disputes_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["topup_id"], ["topups.id"], name=op.f("fk_disputes_topup_id_topups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
        sa.UniqueConstraint(
            "org_id",
            "provider",
            "gateway_dispute_id",
            name=op.f("uq_disputes_org_id_provider_gateway_dispute_id"),
        ),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_disputes_org_id_created_at", ["org_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_disputes_status_created_at", ["status", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_disputes_topup_id_open",
            ["topup_id"],
            unique=False,
            postgresql_where="status = 'open'",
        )

    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shortfall", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.create_check_constraint("shortfall_nonnegative", "shortfall >= 0")

    with op.batch_alter_table("refund_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure_code", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("refund_account", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
        )

    with op.batch_alter_table("topups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bank_transfer", sa.Boolean(), server_default="false", nullable=False)
        )

    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_events_unprocessed",
            ["received_at"],
            unique=False,
            postgresql_where="processed_at IS NULL",
        )


def downgrade():
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_webhook_events_unprocessed", postgresql_where="processed_at IS NULL"
        )

    with op.batch_alter_table("topups", schema=None) as batch_op:
        batch_op.drop_column("bank_transfer")

    with op.batch_alter_table("refund_requests", schema=None) as batch_op:
        batch_op.drop_column("refund_account")
        batch_op.drop_column("failure_code")

    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_constraint("shortfall_nonnegative", type_="check")
        batch_op.drop_column("shortfall")

    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index("ix_disputes_topup_id_open", postgresql_where="status = 'open'")
        batch_op.drop_index("ix_disputes_status_created_at")
        batch_op.drop_index("ix_disputes_org_id_created_at")

    op.drop_table("disputes")
