"""ledger invariants: balanced entries, append-only journal

Revision ID: b7c1a2d3e4f5
Revises: e552e16da032
Create Date: 2026-11-21 06:10:00

"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sql import run_downgrade, run_upgrade  # noqa: E402

revision = "b7c1a2d3e4f5"
down_revision = "e552e16da032"
branch_labels = None
depends_on = None


def upgrade():
    run_upgrade("ledger_invariants.sql")


def downgrade():
    run_downgrade("ledger_invariants.sql")
