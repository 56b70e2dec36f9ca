"""Errors a caller can act on, answered the same on every path: the gateways' amount limits
(checked before any call), a reused order_id, and an outage."""

import pytest

from tests.gateways.gateway_steps import books_are_sound
from tests.gateways.refund_steps import paid_stripe_topup
from tests.gateways.stripe_steps import start_topup
from tests.helpers import new_order_id


@pytest.mark.parametrize(
    ("currency", "amount", "code"),
    [
        ("KRW", 999, "amount_too_small"),
        ("KRW", 100_000_000, "amount_too_large"),
        ("USD", 49, "amount_too_small"),
        ("USD", 100_000_000, "amount_too_large"),
    ],
)
def test_stripe_amounts_outside_its_limits_are_refused_before_stripe_is_called(
    app, caller, fake_stripe, verify_ledger, currency, amount, code
):
    org = caller.create_org(currency=currency)
    calls_before = len(fake_stripe.requests)

    r = start_topup(caller, org, amount)

    assert (r.status_code, r.json["error"]["code"]) == (422, code)
    assert len(fake_stripe.requests) == calls_before  # not even a customer was made
    listed = caller.client.get(f"/v1/orgs/{org.id}/topups", headers=caller.user(org))
    assert listed.json["data"] == []
    books_are_sound(app, verify_ledger, org)


def test_a_portone_card_payment_under_1000_won_is_refused(app, caller, org, portone, verify_ledger):
    r = caller.client.post(
        f"/v1/orgs/{org.id}/topups",
        json={"order_id": new_order_id(), "amount": 999, "provider": "portone"},
        headers=caller.user(org),
    )
    assert (r.status_code, r.json["error"]["code"]) == (422, "amount_too_small")
    assert r.json["error"]["details"] == {"minimum": 1000}
    assert portone.requests == []
    books_are_sound(app, verify_ledger, org)


def test_an_order_id_reused_with_another_body_after_a_lost_answer_is_a_conflict(
    app, caller, org, fake_stripe, verify_ledger
):
    """Stripe made the PaymentIntent but its answer was lost: nothing is recorded here, and
    the same order_id with another amount meets Stripe's idempotency key, not a 502."""
    order_id = new_order_id("top")
    fake_stripe.hang_next(method="POST", path="/v1/payment_intents", after_processing=True)
    lost = start_topup(caller, org, 1000, order_id=order_id)
    assert (lost.status_code, lost.json["error"]["code"]) == (502, "gateway_unavailable")

    other = start_topup(caller, org, 2000, order_id=order_id)

    assert (other.status_code, other.json["error"]["code"]) == (409, "idempotency_conflict")
    same = start_topup(caller, org, 1000, order_id=order_id)
    assert same.status_code == 201  # the first body, retried, gets Stripe's PaymentIntent
    books_are_sound(app, verify_ledger, org)


def test_an_outage_answers_502_gateway_unavailable_on_every_webhook_path(
    app, caller, org, fake_stripe, stripe_webhook, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 5000)
    pi = topup["stripe"]["payment_intent_id"]
    charge = fake_stripe.charge(fake_stripe.payment_intent(pi)["latest_charge"])

    fake_stripe.fail_next(3, status=503, method="GET")
    answers = [
        stripe_webhook.payment_intent("payment_intent.succeeded", pi),
        stripe_webhook.send(fake_stripe.event("charge.refunded", charge)),
        caller.client.post(
            f"/v1/orgs/{org.id}/topups/{topup['id']}/confirm", headers=caller.user(org)
        ),
    ]

    assert [(r.status_code, r.json["error"]["code"]) for r in answers] == [
        (502, "gateway_unavailable")
    ] * 3
    assert caller.balance(org)["available"] == 5000
    books_are_sound(app, verify_ledger, org)
