"""Events written by the core with the change they describe: top-ups, refund requests,
lots, and `balance.low` once per crossing whatever the path."""

from datetime import UTC, datetime, timedelta

import pytest

from ledger import clock
from tests.gateways.refund_steps import approve, paid_stripe_topup, request_refund
from tests.gateways.stripe_steps import create_topup, topup
from tests.helpers import new_order_id


def events_of(caller, org, type_=None) -> list[dict]:
    query = {"limit": 200, **({"type": type_} if type_ else {})}
    r = caller.client.get(f"/v1/orgs/{org.id}/events", query_string=query, headers=caller.service)
    assert r.status_code == 200, r.json
    return r.json["data"]


def set_threshold(caller, org, threshold, headers=None):
    return caller.client.patch(
        f"/v1/orgs/{org.id}",
        json={"low_balance_threshold": threshold},
        headers=headers or caller.service,
    )


def deduct_ok(caller, org, amount):
    r = caller.deduct(org, amount)
    assert r.status_code == 201, r.json
    return r.json


# balance.low


def test_balance_low_fires_once_per_crossing_and_rearms_at_or_above(
    caller, org, receiver, endpoints, deliver, verify_ledger
):
    endpoints.add("a", events=["balance.low"], org=org)
    caller.grant(org, 1000)
    assert set_threshold(caller, org, 500).json["low_balance_threshold"] == 500

    deduct_ok(caller, org, 300)  # 700
    deduct_ok(caller, org, 300)  # 400: crosses
    low = caller.balance(org)
    deduct_ok(caller, org, 100)  # 300: still below, no second alert
    caller.grant(org, 200)  # 500: at the threshold again, re-armed
    deduct_ok(caller, org, 1)  # 499: crosses again
    deliver()

    alerts = events_of(caller, org, "balance.low")
    assert len(alerts) == 2
    assert alerts[-1]["data"] == low
    assert alerts[0]["data"]["available"] == 499
    assert sorted(receiver.ids("a")) == sorted(e["id"] for e in alerts)
    assert all(r.verified for r in receiver.received("a"))
    verify_ledger()


def test_twenty_concurrent_deductions_crossing_together_send_one_alert(
    app, caller, org, run_threads, verify_ledger
):
    caller.grant(org, 2000)
    set_threshold(caller, org, 1000)

    statuses = run_threads(
        20, lambda i: caller.deduct(org, 100, client=app.test_client()).status_code
    )

    assert statuses == [201] * 20
    assert caller.balance(org)["available"] == 0
    assert len(events_of(caller, org, "balance.low")) == 1
    verify_ledger()


def test_a_batch_crossing_the_threshold_sends_one_alert(caller, org):
    caller.grant(org, 1000)
    set_threshold(caller, org, 500)
    items = [{"order_id": new_order_id(), "amount": 100} for _ in range(8)]

    r = caller.client.post(
        f"/v1/orgs/{org.id}/deductions/batch", json={"deductions": items}, headers=caller.service
    )

    assert r.status_code == 200, r.json
    [alert] = events_of(caller, org, "balance.low")
    assert alert["data"]["available"] == 200


def test_a_refused_deduction_writes_no_event(caller, org):
    caller.grant(org, 1000)
    set_threshold(caller, org, 500)
    before = events_of(caller, org)

    r = caller.deduct(org, 5000)

    assert r.status_code == 402
    assert events_of(caller, org) == before


def test_a_threshold_above_the_balance_alerts_at_once_and_off_is_null(caller, org):
    caller.grant(org, 300)

    assert set_threshold(caller, org, 500).status_code == 200
    assert len(events_of(caller, org, "balance.low")) == 1
    off = set_threshold(caller, org, None)
    assert off.status_code == 200
    assert off.json["low_balance_threshold"] is None
    deduct_ok(caller, org, 100)
    assert len(events_of(caller, org, "balance.low")) == 1
    shown = caller.client.get(f"/v1/orgs/{org.id}", headers=caller.user(org, "viewer")).json
    assert shown["low_balance_threshold"] is None


def test_an_expiring_lot_crosses_the_threshold_when_it_expires(app, caller, org):
    soon = datetime.now(UTC) + timedelta(hours=1)
    caller.grant(org, 700, expires_at=soon)
    caller.grant(org, 300)
    set_threshold(caller, org, 500)

    clock.pin(soon + timedelta(seconds=1))
    assert app.test_cli_runner().invoke(args=["ledger", "expire-lots"]).exit_code == 0

    [alert] = events_of(caller, org, "balance.low")
    assert alert["data"]["available"] == 300
    [expired] = events_of(caller, org, "lot.expired")
    assert expired["data"]["remaining"] == 0
    assert expired["data"]["expired"] == 700


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"low_balance_threshold": -1}, 422),
        ({"low_balance_threshold": 1.5}, 422),
        ({"low_balance_threshold": "100"}, 422),
        ({"name": "renamed"}, 422),
    ],
)
def test_bad_thresholds_are_422(caller, org, body, status):
    r = caller.client.patch(f"/v1/orgs/{org.id}", json=body, headers=caller.service)
    assert r.status_code == status, r.json


def test_who_may_set_the_threshold(caller, org):
    other = caller.create_org()
    _, key = caller.api_key(org, ["credits:read", "credits:deduct"])
    assert set_threshold(caller, org, 1, caller.user(org, "admin")).status_code == 200
    assert set_threshold(caller, org, 1, caller.operator).status_code == 200
    assert set_threshold(caller, org, 1, caller.user(org, "member")).status_code == 403
    assert set_threshold(caller, org, 1, key).status_code == 403
    assert set_threshold(caller, org, 1, caller.user(other, "owner")).status_code == 404


# Top-ups and refund requests


def test_topup_succeeded_is_sent_after_stripe_says_so_once(
    caller, org, fake_stripe, stripe_webhook, receiver, endpoints, deliver
):
    endpoints.add("a", events=["topup.succeeded"], org=org)
    started = create_topup(caller, org, 1000)
    intent = fake_stripe.succeed_payment(started["stripe"]["payment_intent_id"])
    event = fake_stripe.event("payment_intent.succeeded", intent)

    assert stripe_webhook.send(event).status_code == 200
    assert stripe_webhook.send(event).status_code == 200  # Stripe sends it again
    deliver()

    [succeeded] = events_of(caller, org, "topup.succeeded")
    assert succeeded["data"] == topup(caller, org, started["id"])
    [got] = receiver.received("a")
    assert got.verified
    assert got.body["data"]["status"] == "paid"


def test_refund_requests_send_their_states(caller, org, fake_stripe):
    paid = paid_stripe_topup(caller, fake_stripe, org, 1000)
    first = request_refund(caller, org, paid["id"], 300)
    r = caller.client.post(
        f"/v1/orgs/{org.id}/refund-requests/{first['id']}/cancel", headers=caller.user(org)
    )
    assert r.status_code == 200, r.json
    second = request_refund(caller, org, paid["id"], 400)
    assert approve(caller, second["id"]).status_code == 200

    types = [e["type"] for e in reversed(events_of(caller, org))]
    assert types == [
        "topup.succeeded",
        "refund_request.created",
        "refund_request.canceled",
        "refund_request.created",
        "refund_request.succeeded",
        "topup.refunded",
    ]
    [succeeded] = events_of(caller, org, "refund_request.succeeded")
    assert succeeded["data"]["id"] == second["id"]
    assert succeeded["data"]["status"] == "succeeded"


def test_a_refund_request_holding_credit_crosses_the_threshold(caller, org, fake_stripe):
    paid = paid_stripe_topup(caller, fake_stripe, org, 1000)
    set_threshold(caller, org, 500)

    request_refund(caller, org, paid["id"], 600)

    [alert] = events_of(caller, org, "balance.low")
    assert (alert["data"]["available"], alert["data"]["held"]) == (400, 600)


def test_topup_failed_is_sent_when_the_gateway_says_so(caller, org, fake_stripe, stripe_webhook):
    started = create_topup(caller, org, 1000)
    intent = fake_stripe.fail_payment(started["stripe"]["payment_intent_id"])

    assert (
        stripe_webhook.send(fake_stripe.event("payment_intent.payment_failed", intent)).status_code
        == 200
    )

    [failed] = events_of(caller, org, "topup.failed")
    assert failed["data"] == topup(caller, org, started["id"])
    assert failed["data"]["status"] == "failed"
