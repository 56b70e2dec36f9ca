"""Scenario steps for refunds: paid top-ups through the gateway fakes, requests and
decisions through the API, and what the gateways' webhooks would send."""

import threading
import time

from tests.factories import PaidTopupFactory


def paid_stripe_topup(caller, fake_stripe, org, amount) -> dict:
    """A top-up paid at the fake Stripe and credited through `/confirm`."""
    return PaidTopupFactory.create(caller=caller, org=org, amount=amount, gateway=fake_stripe)


def paid_portone_topup(caller, portone, org, amount) -> dict:
    """A top-up paid at the fake PortOne and credited through `/confirm`."""
    return PaidTopupFactory.create(
        caller=caller, org=org, amount=amount, provider="portone", gateway=portone
    )


def ask_refund(caller, org, topup_id, amount=None, *, headers=None, client=None):
    body = {"topup_id": topup_id, "reason": "unused credit"}
    if amount is not None:
        body["amount"] = amount
    return (client or caller.client).post(
        f"/v1/orgs/{org.id}/refund-requests", json=body, headers=headers or caller.user(org)
    )


def request_refund(caller, org, topup_id, amount=None) -> dict:
    r = ask_refund(caller, org, topup_id, amount)
    assert r.status_code == 201, r.json
    return r.json


def approve(caller, request_id, *, note=None, headers=None, client=None):
    return (client or caller.client).post(
        f"/v1/admin/refund-requests/{request_id}/approve",
        json={"note": note} if note else {},
        headers=headers or caller.operator,
    )


def refund_request(caller, org, request_id) -> dict:
    r = caller.client.get(
        f"/v1/orgs/{org.id}/refund-requests/{request_id}", headers=caller.user(org)
    )
    assert r.status_code == 200, r.json
    return r.json


def topup_of(caller, org, topup_id) -> dict:
    r = caller.client.get(f"/v1/orgs/{org.id}/topups/{topup_id}", headers=caller.user(org))
    assert r.status_code == 200, r.json
    return r.json


def entries(caller, org, kind) -> list[dict]:
    r = caller.client.get(
        f"/v1/orgs/{org.id}/transactions?kind={kind}&limit=200", headers=caller.user(org)
    )
    assert r.status_code == 200, r.json
    return r.json["data"]


def external_refunds_of(caller, topup_id) -> list[dict]:
    r = caller.client.get("/v1/admin/external-refunds?limit=200", headers=caller.operator)
    assert r.status_code == 200, r.json
    return [e for e in r.json["data"] if e["topup_id"] == topup_id]


def resume_refunds(app):
    """`flask ledger resume-refunds`, for every processing request whatever its age."""
    return app.test_cli_runner().invoke(args=["ledger", "resume-refunds", "--older-than", "0"])


def wait_until(condition, seconds=20.0):
    """Poll until `condition()` holds (a fake reached a state); fails the test otherwise."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


def in_thread(fn):
    """Start `fn` in a thread; the returned function joins it and gives its result."""
    result = {}

    def run():
        try:
            result["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = e

    thread = threading.Thread(target=run)
    thread.start()

    def join():
        thread.join(timeout=60)
        if "error" in result:
            raise result["error"]
        return result["value"]

    return join
