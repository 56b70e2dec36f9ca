"""deductions in one round trip: ledger_deduct and the lot order in SQL

Revision ID: 15d3d0c7a1b2
Revises: f0c9b8a7e6d5
Create Date: 2026-11-30 13:10:00

"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sql import run_downgrade, run_upgrade  # noqa: E402

revision = "15d3d0c7a1b2"
down_revision = "f0c9b8a7e6d5"
branch_labels = None
depends_on = None


def upgrade():
    run_upgrade("deductions.sql")


def downgrade():
    run_downgrade("deductions.sql")
