"""Scenario steps shared by the gateway-reality tests: disputes, the CLI, the books' end state."""

from sqlalchemy import text

from ledger.extensions import db
from tests.helpers import new_order_id


def disputes_of(caller, org, status=None) -> list[dict]:
    query = f"?status={status}" if status else ""
    r = caller.client.get(f"/v1/orgs/{org.id}/disputes{query}", headers=caller.user(org, "viewer"))
    assert r.status_code == 200, r.json
    return r.json["data"]


def admin_disputes(caller, status=None) -> list[dict]:
    query = f"?status={status}&limit=200" if status else "?limit=200"
    r = caller.client.get(f"/v1/admin/disputes{query}", headers=caller.operator)
    assert r.status_code == 200, r.json
    return r.json["data"]


def reverse(caller, org, deduction_id, amount=None):
    body = {"order_id": new_order_id("rev")}
    if amount is not None:
        body["amount"] = amount
    r = caller.client.post(
        f"/v1/orgs/{org.id}/deductions/{deduction_id}/reversals", json=body, headers=caller.service
    )
    assert r.status_code == 201, r.json
    return r.json


def portone_webhook(caller, portone, type_, payment_id, **kwargs):
    body, headers = portone.webhook(type_, payment_id, **kwargs)
    return caller.client.post("/v1/webhooks/portone", data=body, headers=headers)


def sync_topups(app, *args):
    """`flask ledger sync-topups`, with the given options."""
    result = app.test_cli_runner().invoke(args=["ledger", "sync-topups", *args])
    assert result.exit_code == 0, result.output
    return result.output


def history(caller, org) -> list[dict]:
    r = caller.client.get(f"/v1/orgs/{org.id}/transactions?limit=200", headers=caller.user(org))
    assert r.status_code == 200, r.json
    return r.json["data"]


def books_are_sound(app, verify_ledger, org):
    """`flask ledger verify` is clean and none of the organisation's wallets is negative."""
    verify_ledger()
    with app.app_context():
        lowest = db.session.execute(
            text("SELECT min(balance) FROM ledger_accounts WHERE org_id = :org_id"),
            {"org_id": org.id},
        ).scalar()
        db.session.rollback()
    assert lowest is None or lowest >= 0
