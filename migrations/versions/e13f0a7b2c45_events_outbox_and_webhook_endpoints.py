"""events outbox and webhook endpoints

Events written with the change they describe, the platform's webhook endpoints, a
delivery queue per event and endpoint, and one row per delivery attempt; an
organisation's low-balance threshold and its wallet's once-per-crossing alert state.

Revision ID: e13f0a7b2c45
Revises: d5a7c3e9b2f1
Create Date: 2026-11-30 12:20:58.433160

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "e13f0a7b2c45"
down_revision = "d5a7c3e9b2f1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_events_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_created_at",
            [sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
            unique=False,
        )
        batch_op.create_index(
            "ix_events_org_id_created_at",
            ["org_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
            unique=False,
        )
        batch_op.create_index(
            "uq_events_lot_expiring",
            ["org_id", sa.literal_column("(data ->> 'id')")],
            unique=True,
            postgresql_where=sa.text("type = 'lot.expiring'"),
        )

    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('enabled', 'disabled')", name=op.f("ck_webhook_endpoints_status")
        ),
        sa.CheckConstraint(
            "cardinality(events) > 0", name=op.f("ck_webhook_endpoints_events_not_empty")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_webhook_endpoints_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_delivery_attempts_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_delivery_attempts_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
        sa.UniqueConstraint(
            "endpoint_id",
            "event_id",
            "attempt",
            name=op.f("uq_delivery_attempts_endpoint_id_event_id_attempt"),
        ),
    )
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_attempts_endpoint_id_id",
            ["endpoint_id", sa.literal_column("id DESC")],
            unique=False,
        )

    op.create_table(
        "event_deliveries",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("give_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state <> 'pending' OR next_attempt_at IS NOT NULL",
            name=op.f("ck_event_deliveries_pending_due"),
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'failed')", name=op.f("ck_event_deliveries_state")
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_event_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_deliveries_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "endpoint_id", name=op.f("pk_event_deliveries")),
    )
    with op.batch_alter_table("event_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_deliveries_due",
            ["next_attempt_at"],
            unique=False,
            postgresql_where=sa.text("state = 'pending'"),
        )
        batch_op.create_index(
            batch_op.f("ix_event_deliveries_endpoint_id"), ["endpoint_id"], unique=False
        )

    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "low_balance_alerted", sa.Boolean(), server_default=sa.text("false"), nullable=False
            )
        )

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("low_balance_threshold", sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_organizations_low_balance_threshold_nonnegative"),
            "low_balance_threshold >= 0",
        )


def downgrade():
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_organizations_low_balance_threshold_nonnegative"), type_="check"
        )
        batch_op.drop_column("low_balance_threshold")

    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_column("low_balance_alerted")

    with op.batch_alter_table("event_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_deliveries_endpoint_id"))
        batch_op.drop_index(
            "ix_event_deliveries_due", postgresql_where=sa.text("state = 'pending'")
        )

    op.drop_table("event_deliveries")
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_attempts_endpoint_id_id")

    op.drop_table("delivery_attempts")
    op.drop_table("webhook_endpoints")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_events_lot_expiring", postgresql_where=sa.text("type = 'lot.expiring'")
        )
        batch_op.drop_index("ix_events_org_id_created_at")
        batch_op.drop_index("ix_events_created_at")

    op.drop_table("events")
