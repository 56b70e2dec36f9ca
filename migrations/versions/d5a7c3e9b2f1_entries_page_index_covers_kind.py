"""entries page index: newest first, covering kind

The index is (org_id, id DESC NULLS LAST) INCLUDE (kind), and the page query orders by
`id DESC NULLS LAST`: the primary key cannot give that order, so the planner cannot
choose to walk the primary key backwards (through every other tenant's newer entries)
for a large tenant.

Revision ID: d5a7c3e9b2f1
Revises: c4e8f2a9d1b6
Create Date: 2026-11-21 07:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d5a7c3e9b2f1"
down_revision = "c4e8f2a9d1b6"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_journal_entries_org_id_id", table_name="journal_entries")
    op.create_index(
        "ix_journal_entries_org_id_id",
        "journal_entries",
        ["org_id", sa.text("id DESC NULLS LAST")],
        postgresql_include=["kind"],
    )


def downgrade():
    op.drop_index("ix_journal_entries_org_id_id", table_name="journal_entries")
    op.create_index("ix_journal_entries_org_id_id", "journal_entries", ["org_id", "id"])
