"""Scenario steps for Stripe top-up tests: start, confirm and read top-ups through the API,
and read the webhook inbox."""

from sqlalchemy import text

from ledger.extensions import db
from tests.helpers import new_order_id


def start_topup(caller, org, amount, *, currency=None, checkout=False, order_id=None, client=None):
    body = {"order_id": order_id or new_order_id("top"), "amount": amount, "provider": "stripe"}
    if currency:
        body["currency"] = currency
    if checkout:
        body["checkout"] = True
    return (client or caller.client).post(
        f"/v1/orgs/{org.id}/topups", json=body, headers=caller.user(org)
    )


def create_topup(caller, org, amount, **kwargs) -> dict:
    r = start_topup(caller, org, amount, **kwargs)
    assert r.status_code == 201, r.json
    return r.json


def confirm(caller, org, topup_id, client=None):
    return (client or caller.client).post(
        f"/v1/orgs/{org.id}/topups/{topup_id}/confirm", headers=caller.user(org)
    )


def topup(caller, org, topup_id) -> dict:
    r = caller.client.get(f"/v1/orgs/{org.id}/topups/{topup_id}", headers=caller.user(org))
    assert r.status_code == 200, r.json
    return r.json


def organization(caller, org) -> dict:
    r = caller.client.get(f"/v1/orgs/{org.id}", headers=caller.operator)
    assert r.status_code == 200, r.json
    return r.json


def inbox(app, event_id):
    """The inbox row of a Stripe event, or None."""
    with app.app_context():
        row = db.session.execute(
            text(
                "SELECT type, processed_at, attempts, last_error FROM webhook_events "
                "WHERE provider = 'stripe' AND event_id = :event_id"
            ),
            {"event_id": event_id},
        ).first()
        db.session.rollback()
    return row


def topup_entries(caller, org) -> list[dict]:
    r = caller.client.get(f"/v1/orgs/{org.id}/transactions?kind=topup", headers=caller.user(org))
    assert r.status_code == 200, r.json
    return r.json["data"]
