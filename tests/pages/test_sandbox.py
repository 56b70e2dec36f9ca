"""The sandbox behind `make demo`: its demo history, and its refusal to run in production."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from config import TestConfig
from ledger.app import create_app
from ledger.extensions import db
from ledger.settings import UnsafeConfiguration
from sandbox.seed import seed

ROOT = Path(__file__).resolve().parents[2]


def test_the_sandbox_refuses_to_run_in_production():
    env = {**os.environ, "LEDGER_ENV": "production", "JWT_SECRET": "a-production-secret"}
    result = subprocess.run(
        [sys.executable, "-m", "sandbox"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "refuses to run with LEDGER_ENV=production" in result.stderr
    assert "Serving" not in result.stdout


def test_an_app_with_the_sandbox_on_refuses_to_start_in_production(database_url):
    class SandboxInProduction(TestConfig):
        LEDGER_ENV = "production"
        SANDBOX = True
        SQLALCHEMY_DATABASE_URI = database_url

    with pytest.raises(UnsafeConfiguration, match="sandbox"):
        create_app(SandboxInProduction)


def test_the_demo_organisation_has_a_month_of_history_that_verifies(
    live_app, live_caller, database_url, sandbox_stripe, sandbox_portone, verify_ledger
):
    with live_app.app_context():
        demo = seed(database_url, sandbox_stripe, sandbox_portone)
        days = db.session.execute(
            text(
                "SELECT count(DISTINCT created_at::date), min(created_at) FROM journal_entries "
                "WHERE org_id = :org_id"
            ),
            {"org_id": demo.org_id},
        ).one()
        defaults = db.session.execute(
            text(
                "SELECT count(*) FROM information_schema.columns WHERE column_name = "
                "'created_at' AND column_default LIKE '%sandbox%'"
            )
        ).scalar_one()
        db.session.rollback()
    assert days[0] >= 25
    assert defaults == 0  # the real defaults are back
    org = live_caller.client.get(f"/v1/orgs/{demo.org_id}/topups", headers=live_caller.operator)
    assert sorted(t["status"] for t in org.json["data"]) == ["paid"] * 4
    refunds = live_caller.client.get(
        f"/v1/orgs/{demo.org_id}/refund-requests", headers=live_caller.operator
    )
    assert [r["status"] for r in refunds.json["data"]] == ["pending"]
    balance = live_caller.client.get(
        f"/v1/orgs/{demo.org_id}/balance", headers=live_caller.operator
    ).json
    assert (balance["reserved"], balance["held"]) == (51000, 20000)
    verify_ledger()
