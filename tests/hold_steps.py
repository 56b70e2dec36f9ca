"""Scenario steps for holds, through the API."""

from sqlalchemy import text

from ledger.extensions import db
from tests.factories import new_order_id


def hold(caller, org, amount, *, order_id=None, headers=None, client=None, **extra):
    body = {"order_id": order_id or new_order_id("hold"), "amount": amount, **extra}
    return (client or caller.client).post(
        f"/v1/orgs/{org.id}/holds", json=body, headers=headers or caller.service
    )


def held(caller, org, amount, **extra) -> dict:
    r = hold(caller, org, amount, **extra)
    assert r.status_code == 201, r.json
    return r.json


def capture(caller, org, hold_id, amount, *, order_id=None, headers=None, client=None, **extra):
    body = {"order_id": order_id or new_order_id("cap"), "amount": amount, **extra}
    return (client or caller.client).post(
        f"/v1/orgs/{org.id}/holds/{hold_id}/captures", json=body, headers=headers or caller.service
    )


def void(caller, org, hold_id, *, headers=None, client=None):
    return (client or caller.client).post(
        f"/v1/orgs/{org.id}/holds/{hold_id}/void", headers=headers or caller.service
    )


def get_hold(caller, org, hold_id) -> dict:
    r = caller.client.get(f"/v1/orgs/{org.id}/holds/{hold_id}", headers=caller.service)
    assert r.status_code == 200, r.json
    return r.json


def lots(caller, org) -> dict:
    return {lot["id"]: lot["remaining"] for lot in caller.balance(org)["lots"]}


def platform_leg(app, org, account_kind) -> int:
    """What the organisation's entries posted to a platform account (revenue, breakage)."""
    with app.app_context():
        return db.session.execute(
            text(
                "SELECT coalesce(sum(p.amount), 0) FROM journal_entries e "
                "JOIN postings p ON p.entry_id = e.id "
                "JOIN ledger_accounts a ON a.id = p.account_id "
                "WHERE e.org_id = :org AND a.org_id IS NULL AND a.kind = :kind"
            ),
            {"org": org.id, "kind": account_kind},
        ).scalar_one()
