"""a single deduction in plain statements: ledger_deduct_one

Revision ID: 7c41e9a2d8b3
Revises: 2b7e4c9d0f61
Create Date: 2026-11-30 15:45:00

"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sql import run_downgrade, run_upgrade  # noqa: E402

revision = "7c41e9a2d8b3"
down_revision = "2b7e4c9d0f61"
branch_labels = None
depends_on = None


def upgrade():
    run_upgrade("deduct_one.sql")


def downgrade():
    run_downgrade("deduct_one.sql")
