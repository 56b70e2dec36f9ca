"""Starting Stripe top-ups: what reaches Stripe, customers made once, Checkout, confirm."""

import pytest

from ledger.errors import UnsupportedCurrency
from ledger.services import topups as topup_service
from tests.gateways.stripe_steps import confirm, create_topup, organization, start_topup, topup
from tests.helpers import new_order_id


def _sent_for(fake, path, topup_id):
    """What the SDK sent to create the top-up's PaymentIntent or Checkout Session."""
    sent = [
        r for r in fake.requests_to("POST", path) if r.params["metadata"]["topup_id"] == topup_id
    ]
    assert len(sent) == 1
    return sent[0]


@pytest.mark.parametrize(("currency", "amount"), [("KRW", 1000), ("USD", 1999)])
def test_amounts_reach_stripe_exactly_in_minor_units_and_lower_case(
    caller, fake_stripe, currency, amount
):
    org = caller.create_org(currency=currency)
    answer = create_topup(caller, org, amount)

    sent = _sent_for(fake_stripe, "/v1/payment_intents", answer["id"])
    assert (sent.params["amount"], sent.params["currency"]) == (str(amount), currency.lower())
    assert sent.headers["authorization"] == "Bearer sk_test_fake"
    assert sent.headers["idempotency-key"] == f"topup-{answer['id']}"
    assert sent.params["metadata"] == {
        "organization_id": org.id,
        "topup_id": answer["id"],
        "order_id": answer["order_id"],
    }
    intent = fake_stripe.payment_intent(answer["stripe"]["payment_intent_id"])
    assert (intent["amount"], intent["currency"]) == (amount, currency.lower())
    assert answer["status"] == "pending"
    assert (answer["amount"], answer["currency"]) == (amount, currency)
    assert answer["stripe"] == {
        "payment_intent_id": intent["id"],
        "client_secret": intent["client_secret"],
    }


def test_the_first_topup_makes_the_organisations_customer_and_later_ones_reuse_it(
    caller, fake_stripe
):
    org = caller.create_org()
    assert organization(caller, org)["stripe_customer_id"] is None
    first = create_topup(caller, org, 1000)
    second = create_topup(caller, org, 2000)

    [customer] = fake_stripe.customers_of(org.id)
    assert customer["email"] == "billing@example.com"
    assert organization(caller, org)["stripe_customer_id"] == customer["id"]
    for answer in (first, second):
        intent = fake_stripe.payment_intent(answer["stripe"]["payment_intent_id"])
        assert intent["customer"] == customer["id"]
    created = [
        r
        for r in fake_stripe.requests_to("POST", "/v1/customers")
        if r.params["metadata"]["organization_id"] == org.id
    ]
    assert [r.headers["idempotency-key"] for r in created] == [f"customer-{org.id}"]


def test_two_concurrent_first_topups_make_one_customer(caller, fake_stripe, run_threads, app):
    org = caller.create_org()

    answers = run_threads(2, lambda i: start_topup(caller, org, 1000 + i, client=app.test_client()))

    assert [r.status_code for r in answers] == [201, 201]
    [customer] = fake_stripe.customers_of(org.id)
    assert organization(caller, org)["stripe_customer_id"] == customer["id"]
    for r in answers:
        intent = fake_stripe.payment_intent(r.json["stripe"]["payment_intent_id"])
        assert intent["customer"] == customer["id"]


def test_a_retry_after_stripe_timed_out_making_the_customer_reuses_it(caller, fake_stripe):
    org = caller.create_org()
    order_id = new_order_id("top")
    # Stripe makes the customer but the answer never arrives.
    fake_stripe.hang_next(1, method="POST", path="/v1/customers", after_processing=True)

    lost = start_topup(caller, org, 1000, order_id=order_id)
    assert lost.status_code == 502
    assert lost.json["error"]["code"] == "gateway_unavailable"
    assert organization(caller, org)["stripe_customer_id"] is None

    retried = start_topup(caller, org, 1000, order_id=order_id)
    assert retried.status_code == 201
    [customer] = fake_stripe.customers_of(org.id)
    assert organization(caller, org)["stripe_customer_id"] == customer["id"]


def test_the_same_order_id_replays_the_topup_without_a_second_payment_intent(
    caller, org, fake_stripe
):
    order_id = new_order_id("top")
    first = start_topup(caller, org, 1000, order_id=order_id)
    again = start_topup(caller, org, 1000, order_id=order_id)
    different = start_topup(caller, org, 1001, order_id=order_id)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert different.status_code == 409
    assert different.json["error"]["code"] == "idempotency_conflict"
    made = [
        r
        for r in fake_stripe.requests_to("POST", "/v1/payment_intents")
        if r.params["metadata"]["order_id"] == order_id
    ]
    assert len(made) == 1


def test_an_unsupported_currency_is_refused_before_stripe_is_called(caller, org, fake_stripe, app):
    calls_before = len(fake_stripe.requests)

    r = start_topup(caller, org, 1000, currency="JPY")
    assert r.status_code == 422
    with app.app_context(), pytest.raises(UnsupportedCurrency):
        topup_service.create_topup(
            org_id=org.id,
            order_id=new_order_id(),
            amount=1000,
            currency="EUR",
            provider="stripe",
        )

    assert len(fake_stripe.requests) == calls_before
    assert (
        caller.client.get(f"/v1/orgs/{org.id}/topups", headers=caller.user(org)).json["data"] == []
    )


def test_stripe_refusing_the_payment_intent_writes_nothing(caller, org, fake_stripe):
    fake_stripe.fail_next(1, status=402, method="POST", path="/v1/payment_intents")

    r = start_topup(caller, org, 1000)

    assert r.status_code == 502
    assert r.json["error"]["code"] == "gateway_error"
    assert (
        caller.client.get(f"/v1/orgs/{org.id}/topups", headers=caller.user(org)).json["data"] == []
    )


def test_checkout_answers_the_session_url_and_credits_once_paid(
    caller, fake_stripe, stripe_webhook, verify_ledger
):
    org = caller.create_org(currency="USD")
    answer = create_topup(caller, org, 1999, checkout=True)
    session_id = answer["stripe"]["checkout_session_id"]

    session = fake_stripe.checkout_session(session_id)
    assert answer["stripe"] == {"checkout_session_id": session_id, "checkout_url": session["url"]}
    sent = _sent_for(fake_stripe, "/v1/checkout/sessions", answer["id"])
    assert sent.params["mode"] == "payment"
    assert sent.params["line_items"][0]["price_data"]["unit_amount"] == "1999"
    assert sent.params["line_items"][0]["price_data"]["currency"] == "usd"
    assert sent.params["payment_intent_data"]["metadata"]["topup_id"] == answer["id"]
    assert confirm(caller, org, answer["id"]).json["status"] == "pending"

    completed = fake_stripe.complete_checkout(session_id)
    r = stripe_webhook.send(fake_stripe.event("checkout.session.completed", completed))
    assert r.status_code == 200
    stripe_webhook.payment_intent("payment_intent.succeeded", completed["payment_intent"])

    assert topup(caller, org, answer["id"])["status"] == "paid"
    assert caller.balance(org)["available"] == 1999
    verify_ledger()


def test_a_checkout_completed_but_still_unpaid_credits_only_when_the_payment_settles(
    caller, org, fake_stripe, stripe_webhook, verify_ledger
):
    answer = create_topup(caller, org, 5000, checkout=True)
    session_id = answer["stripe"]["checkout_session_id"]

    completed = fake_stripe.complete_checkout(session_id, paid=False)
    stripe_webhook.send(fake_stripe.event("checkout.session.completed", completed))
    assert topup(caller, org, answer["id"])["status"] == "pending"
    assert caller.balance(org)["available"] == 0

    settled = fake_stripe.settle_checkout(session_id)
    stripe_webhook.send(fake_stripe.event("checkout.session.async_payment_succeeded", settled))
    assert topup(caller, org, answer["id"])["status"] == "paid"
    assert caller.balance(org)["available"] == 5000
    verify_ledger()


def test_an_expired_checkout_cancels_the_topup(caller, org, fake_stripe, stripe_webhook):
    answer = create_topup(caller, org, 5000, checkout=True)

    expired = fake_stripe.expire_checkout(answer["stripe"]["checkout_session_id"])
    stripe_webhook.send(fake_stripe.event("checkout.session.expired", expired))

    assert topup(caller, org, answer["id"])["status"] == "canceled"
    assert caller.balance(org)["available"] == 0


def test_confirm_credits_a_paid_topup_once(caller, org, fake_stripe, verify_ledger):
    answer = create_topup(caller, org, 1000)
    assert confirm(caller, org, answer["id"]).json["status"] == "pending"

    fake_stripe.succeed_payment(answer["stripe"]["payment_intent_id"])
    first = confirm(caller, org, answer["id"])
    again = confirm(caller, org, answer["id"])

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json["status"] == again.json["status"] == "paid"
    assert first.json["paid_at"] is not None
    assert caller.balance(org)["available"] == 1000
    [lot] = caller.balance(org)["lots"]
    assert (lot["kind"], lot["remaining"]) == ("paid", 1000)
    verify_ledger()


def test_confirm_answers_502_when_stripe_does_not_and_changes_nothing(caller, org, fake_stripe):
    answer = create_topup(caller, org, 1000)
    fake_stripe.succeed_payment(answer["stripe"]["payment_intent_id"])
    fake_stripe.fail_next(1, status=503, method="GET", path="/v1/payment_intents/")

    r = confirm(caller, org, answer["id"])

    assert r.status_code == 502
    assert r.json["error"]["code"] == "gateway_unavailable"
    assert topup(caller, org, answer["id"])["status"] == "pending"
    assert caller.balance(org)["available"] == 0
