"""The Stripe adapter on its own, against the fake: refunds and what events mean."""

import json
import uuid

import pytest
import stripe

from ledger.gateways import base as gw
from ledger.gateways import get_gateway


@pytest.fixture
def stripe_gateway(app, fake_stripe):
    with app.app_context():
        yield get_gateway("stripe")


@pytest.fixture
def paid_intent(stripe_gateway, fake_stripe):
    """A ₩1,000 PaymentIntent that has succeeded."""
    organization = gw.OrganizationRef(uuid.uuid4(), "Acme Ads", "billing@example.com", None)
    created = stripe_gateway.create_payment(
        gw.PaymentRequest(uuid.uuid4(), "ord-1", 1000, "KRW", "Prepaid credit", organization)
    )
    return fake_stripe.succeed_payment(created.payment_id)


def _refund(gateway, intent, amount, key):
    return gateway.refund(
        payment_id=intent["id"],
        amount=amount,
        currency="KRW",
        idempotency_key=f"{key}-{intent['id']}",  # keys live as long as the fake
        reason="customer asked",
        refundable_before=0,
    )


def test_partial_refunds_accumulate_until_the_charge_is_fully_refunded(
    stripe_gateway, fake_stripe, paid_intent
):
    first = _refund(stripe_gateway, paid_intent, 500, "rf-a")
    assert (first.amount, first.currency, first.status) == (500, "KRW", gw.REFUND_SUCCEEDED)
    assert first.payment_id == paid_intent["id"]
    charge = fake_stripe.charge(paid_intent["latest_charge"])
    assert (charge["amount"], charge["amount_refunded"], charge["refunded"]) == (1000, 500, False)

    _refund(stripe_gateway, paid_intent, 500, "rf-b")
    charge = fake_stripe.charge(paid_intent["latest_charge"])
    assert (charge["amount"], charge["amount_refunded"], charge["refunded"]) == (1000, 1000, True)
    assert stripe_gateway.fetch_payment(gw.PaymentRef(paid_intent["id"])).refunded_amount == 1000

    with pytest.raises(gw.GatewayError) as refused:
        _refund(stripe_gateway, paid_intent, 1, "rf-c")
    assert refused.value.gateway_code == "charge_already_refunded"


def test_a_refund_past_what_is_left_is_refused(stripe_gateway, paid_intent):
    _refund(stripe_gateway, paid_intent, 700, "rf-a")

    with pytest.raises(gw.GatewayError) as refused:
        _refund(stripe_gateway, paid_intent, 301, "rf-b")

    assert refused.value.gateway_code == "amount_too_large"
    assert not isinstance(refused.value, gw.GatewayUnavailable)


def test_a_retried_refund_key_answers_the_same_refund_and_refuses_other_amounts(
    stripe_gateway, fake_stripe, paid_intent
):
    first = _refund(stripe_gateway, paid_intent, 300, "rf-same")
    again = _refund(stripe_gateway, paid_intent, 300, "rf-same")

    assert again == first
    assert fake_stripe.charge(paid_intent["latest_charge"])["amount_refunded"] == 300
    with pytest.raises(gw.GatewayError) as refused:
        _refund(stripe_gateway, paid_intent, 400, "rf-same")
    assert refused.value.gateway_code == "idempotency_error"


@pytest.mark.parametrize(
    ("settled", "expected", "refunded_after"),
    [("succeeded", gw.REFUND_SUCCEEDED, 400), ("failed", gw.REFUND_FAILED, 0)],
)
def test_a_pending_refund_is_fetched_until_it_settles(
    stripe_gateway, fake_stripe, paid_intent, settled, expected, refunded_after
):
    fake_stripe.next_refund_status = "pending"
    pending = _refund(stripe_gateway, paid_intent, 400, "rf-pending")
    assert pending.status == gw.REFUND_PENDING
    assert stripe_gateway.fetch_refund(pending.id).status == gw.REFUND_PENDING

    fake_stripe.settle_refund(pending.id, settled)

    assert stripe_gateway.fetch_refund(pending.id).status == expected
    assert fake_stripe.charge(paid_intent["latest_charge"])["amount_refunded"] == refunded_after


def test_a_refund_stripe_did_not_answer_is_unavailable_not_refused(
    stripe_gateway, fake_stripe, paid_intent
):
    fake_stripe.fail_next(1, status=500, method="POST", path="/v1/refunds")

    with pytest.raises(gw.GatewayUnavailable):
        _refund(stripe_gateway, paid_intent, 100, "rf-outage")


@pytest.mark.parametrize(
    ("event_type", "obj", "expected"),
    [
        (
            "payment_intent.succeeded",
            {"id": "pi_1", "object": "payment_intent", "metadata": {"topup_id": "t1"}},
            {"action": gw.EVENT_PAYMENT, "payment": gw.PaymentRef("pi_1"), "topup_id": "t1"},
        ),
        (
            "checkout.session.completed",
            {"id": "cs_1", "payment_intent": "pi_1", "metadata": {"topup_id": "t1"}},
            {
                "action": gw.EVENT_PAYMENT,
                "payment": gw.PaymentRef("pi_1", checkout_id="cs_1"),
                "topup_id": "t1",
            },
        ),
        (
            "charge.refunded",
            {"id": "ch_1", "object": "charge", "payment_intent": "pi_1"},
            {"action": gw.EVENT_REFUND, "payment": gw.PaymentRef("pi_1"), "refund_id": None},
        ),
        (
            "refund.updated",
            {"id": "re_1", "object": "refund", "payment_intent": "pi_1"},
            {"action": gw.EVENT_REFUND, "payment": gw.PaymentRef("pi_1"), "refund_id": "re_1"},
        ),
        (
            "customer.deleted",
            {"id": "cus_1", "object": "customer"},
            {"action": gw.EVENT_CUSTOMER, "customer_id": "cus_1"},
        ),
        ("charge.succeeded", {"id": "ch_1"}, {"action": gw.EVENT_IGNORED, "payment": None}),
    ],
)
def test_what_each_event_type_asks_of_us(stripe_gateway, fake_stripe, event_type, obj, expected):
    body = json.dumps(fake_stripe.event(event_type, obj)).encode()

    event = stripe_gateway.parse_webhook(body, {"Stripe-Signature": fake_stripe.sign(body)})

    assert event.type == event_type
    assert {name: getattr(event, name) for name in expected} == expected


@pytest.mark.parametrize(
    ("status", "should_retry"),
    [(409, None), (429, None), (400, "true"), (500, None)],
)
def test_answers_stripe_asks_to_retry_are_no_answer_not_a_refusal(
    stripe_gateway, fake_stripe, paid_intent, status, should_retry
):
    fake_stripe.fail_next(
        status=status, method="POST", path="/v1/refunds", should_retry=should_retry
    )
    with pytest.raises(gw.GatewayUnavailable):
        _refund(stripe_gateway, paid_intent, 500, "rf-busy")
    # Nothing was saved under the key: asking again refunds once.
    assert _refund(stripe_gateway, paid_intent, 500, "rf-busy").status == gw.REFUND_SUCCEEDED
    assert fake_stripe.charge(paid_intent["latest_charge"])["amount_refunded"] == 500


def test_the_sdk_retries_a_409_with_the_same_key_when_retries_are_on(app, fake_stripe, paid_intent):
    app.config["STRIPE_MAX_NETWORK_RETRIES"] = 2
    app.extensions["gateways"].pop("stripe", None)
    try:
        with app.app_context():
            gateway = get_gateway("stripe")
            fake_stripe.fail_next(status=409, method="POST", path="/v1/refunds")
            refund = _refund(gateway, paid_intent, 300, "rf-retried")
    finally:
        app.config["STRIPE_MAX_NETWORK_RETRIES"] = 0
        app.extensions["gateways"].pop("stripe", None)
    assert refund.status == gw.REFUND_SUCCEEDED
    sent = [
        r
        for r in fake_stripe.requests_to("POST", "/v1/refunds")
        if r.params["payment_intent"] == paid_intent["id"]
    ]
    assert [r.headers["idempotency-key"] for r in sent] == [f"rf-retried-{paid_intent['id']}"] * 2


def test_a_500_saved_under_its_key_is_replayed_and_never_refunds(
    stripe_gateway, fake_stripe, paid_intent
):
    fake_stripe.fail_next(status=500, method="POST", path="/v1/refunds", cached=True)
    for _ in range(2):
        with pytest.raises(gw.GatewayUnavailable):
            _refund(stripe_gateway, paid_intent, 500, "rf-saved")
    assert fake_stripe.charge(paid_intent["latest_charge"])["amount_refunded"] == 0


def test_every_call_names_the_sdks_api_version(stripe_gateway, fake_stripe, paid_intent):
    stripe_gateway.fetch_payment(gw.PaymentRef(paid_intent["id"]))
    [*_, last] = fake_stripe.requests_to("GET", f"/v1/payment_intents/{paid_intent['id']}")
    assert last.headers["stripe-version"] == stripe.api_version


def test_a_refund_that_fails_after_succeeding_says_why(stripe_gateway, fake_stripe, paid_intent):
    done = _refund(stripe_gateway, paid_intent, 600, "rf-later")
    fake_stripe.settle_refund(done.id, "failed", failure_reason="expired_or_canceled_card")
    failed = stripe_gateway.fetch_refund(done.id)
    assert (failed.status, failed.failure_code) == (gw.REFUND_FAILED, "expired_or_canceled_card")
    assert failed.failure_message == "the card has expired or was canceled"
    assert fake_stripe.refund(done.id)["failure_balance_transaction"].startswith("txn_")
    assert stripe_gateway.fetch_payment(gw.PaymentRef(paid_intent["id"])).refunded_amount == 0


def test_disputes_are_fetched_and_block_refunds(stripe_gateway, fake_stripe, paid_intent):
    opened = fake_stripe.open_dispute(paid_intent["id"])
    [dispute] = stripe_gateway.fetch_disputes(payment_id=None, dispute_id=opened["id"])
    assert (dispute.status, dispute.amount, dispute.payment_id) == (
        gw.DISPUTE_OPEN,
        1000,
        paid_intent["id"],
    )
    with pytest.raises(gw.GatewayError) as refused:
        _refund(stripe_gateway, paid_intent, 100, "rf-disputed")
    assert refused.value.gateway_code == "charge_disputed"
    fake_stripe.withdraw_dispute_funds(opened["id"])
    fake_stripe.close_dispute(opened["id"], "lost")
    [lost] = stripe_gateway.fetch_disputes(payment_id=None, dispute_id=opened["id"])
    assert (lost.status, lost.gateway_status) == (gw.DISPUTE_LOST, "lost")


def test_an_unknown_parameter_is_refused_as_stripe_refuses_it(fake_stripe):
    client = stripe.StripeClient(fake_stripe.api_key, base_addresses={"api": fake_stripe.url})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.customers.create(
            params={"name": "x", "nickname": "y", "metadata": {"organization_id": "-"}}
        )
    assert (refused.value.code, refused.value.param) == ("parameter_unknown", "nickname")


@pytest.mark.parametrize(
    ("amount", "code"), [(49, "amount_too_small"), (10**8, "amount_too_large")]
)
def test_stripe_refuses_amounts_outside_its_limits(fake_stripe, amount, code):
    client = stripe.StripeClient(fake_stripe.api_key, base_addresses={"api": fake_stripe.url})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.create(
            params={
                "amount": amount,
                "currency": "usd",
                "metadata": {"topup_id": "-", "order_id": "-", "organization_id": "-"},
            }
        )
    assert refused.value.code == code
