"""Stripe webhooks: verified, stored once, and crediting exactly once whatever the order."""

import json
import time

import pytest

from tests.gateways.stripe_steps import (
    confirm,
    create_topup,
    inbox,
    organization,
    topup,
    topup_entries,
)


@pytest.fixture
def paid_topup(caller, org, fake_stripe):
    """A ₩1,000 top-up whose PaymentIntent has succeeded at Stripe (no event sent yet)."""
    answer = create_topup(caller, org, 1000)
    return answer, fake_stripe.succeed_payment(answer["stripe"]["payment_intent_id"])


def test_the_same_succeeded_event_five_times_credits_once(
    caller, org, fake_stripe, stripe_webhook, paid_topup, app, verify_ledger
):
    answer, intent = paid_topup
    event = fake_stripe.event("payment_intent.succeeded", intent)

    answers = [stripe_webhook.send(event) for _ in range(5)]

    assert [r.status_code for r in answers] == [200] * 5
    assert [r.json["outcome"] for r in answers] == ["processed"] + ["duplicate"] * 4
    assert topup(caller, org, answer["id"])["status"] == "paid"
    assert caller.balance(org)["available"] == 1000
    assert len(topup_entries(caller, org)) == 1
    row = inbox(app, event["id"])
    assert (row.type, row.attempts) == ("payment_intent.succeeded", 5)
    assert row.processed_at is not None
    verify_ledger()


def test_concurrent_deliveries_and_confirms_credit_once(
    caller, org, fake_stripe, paid_topup, app, run_threads, verify_ledger
):
    answer, intent = paid_topup
    event = fake_stripe.event("payment_intent.succeeded", intent)
    body = json.dumps(event).encode()
    signature = fake_stripe.sign(body)

    def deliver_or_confirm(i):
        client = app.test_client()
        if i % 2:
            return confirm(caller, org, answer["id"], client=client).status_code
        return client.post(
            "/v1/webhooks/stripe", data=body, headers={"Stripe-Signature": signature}
        ).status_code

    statuses = run_threads(8, deliver_or_confirm)

    assert statuses == [200] * 8
    assert topup(caller, org, answer["id"])["status"] == "paid"
    assert caller.balance(org)["available"] == 1000
    assert len(topup_entries(caller, org)) == 1
    assert len(caller.balance(org)["lots"]) == 1
    verify_ledger()


@pytest.mark.parametrize(
    ("late_type", "snapshot"),
    [
        ("payment_intent.created", lambda fake, pi_id: fake.payment_intent(pi_id)),
        ("payment_intent.payment_failed", lambda fake, pi_id: fake.fail_payment(pi_id)),
    ],
)
def test_an_earlier_event_arriving_after_success_leaves_the_topup_paid(
    caller, org, fake_stripe, stripe_webhook, verify_ledger, late_type, snapshot
):
    answer = create_topup(caller, org, 1000)
    pi_id = answer["stripe"]["payment_intent_id"]
    late = fake_stripe.event(late_type, snapshot(fake_stripe, pi_id))
    fake_stripe.succeed_payment(pi_id)

    stripe_webhook.payment_intent("payment_intent.succeeded", pi_id)
    r = stripe_webhook.send(late)

    assert r.status_code == 200
    after = topup(caller, org, answer["id"])
    assert (after["status"], after["failure_code"]) == ("paid", None)
    assert caller.balance(org)["available"] == 1000
    assert len(topup_entries(caller, org)) == 1
    verify_ledger()


def test_a_declined_payment_fails_and_a_later_success_credits_once(
    caller, org, fake_stripe, stripe_webhook, verify_ledger
):
    answer = create_topup(caller, org, 1000)
    pi_id = answer["stripe"]["payment_intent_id"]

    fake_stripe.fail_payment(pi_id, "insufficient_funds", "Your card has insufficient funds.")
    stripe_webhook.payment_intent("payment_intent.payment_failed", pi_id)
    failed = topup(caller, org, answer["id"])
    assert failed["status"] == "failed"
    assert failed["failure_code"] == "insufficient_funds"
    assert failed["failure_message"] == "Your card has insufficient funds."
    assert caller.balance(org)["available"] == 0

    # The customer tries again with another card on the same PaymentIntent.
    fake_stripe.succeed_payment(pi_id)
    stripe_webhook.payment_intent("payment_intent.succeeded", pi_id)
    stripe_webhook.payment_intent("payment_intent.succeeded", pi_id)

    paid = topup(caller, org, answer["id"])
    assert (paid["status"], paid["failure_code"]) == ("paid", None)
    assert caller.balance(org)["available"] == 1000
    assert len(topup_entries(caller, org)) == 1
    verify_ledger()


def test_a_canceled_payment_intent_cancels_the_topup(caller, org, fake_stripe, stripe_webhook):
    answer = create_topup(caller, org, 1000)
    pi_id = answer["stripe"]["payment_intent_id"]

    fake_stripe.cancel_payment(pi_id)
    stripe_webhook.payment_intent("payment_intent.canceled", pi_id)

    assert topup(caller, org, answer["id"])["status"] == "canceled"
    assert caller.balance(org)["available"] == 0


def _forged(fake, body):
    return fake.sign(body, secret="whsec_not_ours")


def _stale(fake, body):
    return fake.sign(body, timestamp=int(time.time()) - 301)


def _missing(fake, body):
    return None


def _garbled(fake, body):
    return "t=not-a-time,v1=abc"


@pytest.mark.parametrize("signature", [_forged, _stale, _missing, _garbled])
def test_a_bad_signature_is_400_and_nothing_is_stored_or_credited(
    caller, org, fake_stripe, stripe_webhook, paid_topup, app, signature
):
    answer, intent = paid_topup
    event = fake_stripe.event("payment_intent.succeeded", intent)
    body = json.dumps(event).encode()

    r = stripe_webhook.send_raw(body, signature(fake_stripe, body))

    assert r.status_code == 400
    assert r.json["error"]["code"] == "invalid_signature"
    assert inbox(app, event["id"]) is None
    assert topup(caller, org, answer["id"])["status"] == "pending"
    assert caller.balance(org)["available"] == 0


def test_a_body_changed_after_signing_is_400_and_nothing_is_stored_or_credited(
    caller, org, fake_stripe, stripe_webhook, paid_topup, app
):
    answer, intent = paid_topup
    signed = json.dumps(fake_stripe.event("payment_intent.succeeded", intent)).encode()
    changed_event = json.loads(signed)
    changed_event["id"] = "evt_changed_after_signing"
    changed = json.dumps(changed_event).encode()

    r = stripe_webhook.send_raw(changed, fake_stripe.sign(signed))

    assert r.status_code == 400
    assert r.json["error"]["code"] == "invalid_signature"
    assert inbox(app, "evt_changed_after_signing") is None
    assert inbox(app, json.loads(signed)["id"]) is None
    assert caller.balance(org)["available"] == 0


def test_a_signature_from_a_rotating_secret_is_accepted_with_any_valid_v1(
    caller, org, fake_stripe, stripe_webhook, paid_topup
):
    answer, intent = paid_topup
    body = json.dumps(fake_stripe.event("payment_intent.succeeded", intent)).encode()
    timestamp = int(time.time())
    old = fake_stripe.sign(body, timestamp=timestamp, secret="whsec_old_secret")
    ours = fake_stripe.sign(body, timestamp=timestamp)

    r = stripe_webhook.send_raw(body, f"{old},{ours.split(',')[1]},v0=ignored")

    assert r.status_code == 200
    assert caller.balance(org)["available"] == 1000


def test_a_payment_intent_for_a_different_amount_is_flagged_not_credited(
    caller, org, fake_stripe, stripe_webhook, paid_topup, app, verify_ledger
):
    answer, intent = paid_topup
    fake_stripe.set_amount(intent["id"], 100)
    # The event says ₩1,000; Stripe's own record, fetched, says ₩100.
    event = fake_stripe.event("payment_intent.succeeded", intent)

    r = stripe_webhook.send(event)
    confirmed = confirm(caller, org, answer["id"])

    assert r.status_code == 200
    assert confirmed.status_code == 200
    flagged = topup(caller, org, answer["id"])
    assert flagged["status"] == "pending"
    assert "100" in flagged["flagged_reason"]
    assert caller.balance(org)["available"] == 0
    assert inbox(app, event["id"]).type == "payment_intent.succeeded"
    verify_ledger()


def test_an_event_claiming_success_is_not_believed_without_stripes_record(
    caller, org, fake_stripe, stripe_webhook
):
    answer = create_topup(caller, org, 1000)
    intent = fake_stripe.payment_intent(answer["stripe"]["payment_intent_id"])
    intent.update(status="succeeded", amount_received=1000)

    r = stripe_webhook.send(fake_stripe.event("payment_intent.succeeded", intent))

    assert r.status_code == 200
    assert topup(caller, org, answer["id"])["status"] == "pending"
    assert caller.balance(org)["available"] == 0


@pytest.mark.parametrize("fault", ["fail", "hang"])
def test_stripe_failing_during_a_webhook_answers_5xx_and_the_next_delivery_credits(
    caller, org, fake_stripe, stripe_webhook, paid_topup, app, fault, verify_ledger
):
    answer, intent = paid_topup
    event = fake_stripe.event("payment_intent.succeeded", intent)
    if fault == "fail":
        fake_stripe.fail_next(1, status=500, method="GET", path="/v1/payment_intents/")
    else:
        fake_stripe.hang_next(1, method="GET", path="/v1/payment_intents/")

    first = stripe_webhook.send(event)

    assert first.status_code >= 500
    row = inbox(app, event["id"])
    assert row.processed_at is None
    assert "GatewayUnavailable" in row.last_error
    assert topup(caller, org, answer["id"])["status"] == "pending"
    assert caller.balance(org)["available"] == 0

    retried = stripe_webhook.send(event)

    assert retried.status_code == 200
    assert inbox(app, event["id"]).processed_at is not None
    assert topup(caller, org, answer["id"])["status"] == "paid"
    assert caller.balance(org)["available"] == 1000
    verify_ledger()


@pytest.mark.parametrize(
    "event_type",
    ["charge.refunded", "refund.created", "refund.updated", "charge.succeeded", "plan.created"],
)
def test_refund_and_unknown_events_are_stored_and_acknowledged(
    caller, org, fake_stripe, stripe_webhook, paid_topup, app, event_type
):
    answer, intent = paid_topup
    event = fake_stripe.event(event_type, {"id": "obj_123", "object": "thing"})

    r = stripe_webhook.send(event)

    assert r.status_code == 200
    row = inbox(app, event["id"])
    # About a refund of no top-up of ours (yet): kept unprocessed for `sync-topups` to retry.
    about_a_refund = event_type.startswith(("charge.refunded", "refund."))
    assert (row.type, row.processed_at is None) == (event_type, about_a_refund)
    assert r.json["outcome"] == ("unmatched" if about_a_refund else "processed")
    assert topup(caller, org, answer["id"])["status"] == "pending"


def test_a_deleted_customer_is_unmapped_and_the_next_topup_makes_a_new_one(
    caller, org, fake_stripe, stripe_webhook, verify_ledger
):
    first = create_topup(caller, org, 1000)
    old_id = organization(caller, org)["stripe_customer_id"]
    snapshot = fake_stripe.customer(old_id)
    fake_stripe.delete_customer(old_id)

    r = stripe_webhook.send(fake_stripe.event("customer.deleted", snapshot))
    assert r.status_code == 200
    assert organization(caller, org)["stripe_customer_id"] is None

    second = create_topup(caller, org, 2000)
    new_id = organization(caller, org)["stripe_customer_id"]
    assert new_id not in (None, old_id)
    assert fake_stripe.payment_intent(second["stripe"]["payment_intent_id"])["customer"] == new_id
    assert fake_stripe.customer(new_id)["metadata"]["organization_id"] == org.id

    # The first top-up's payment history is untouched: it still credits.
    fake_stripe.succeed_payment(first["stripe"]["payment_intent_id"])
    stripe_webhook.payment_intent("payment_intent.succeeded", first["stripe"]["payment_intent_id"])
    assert caller.balance(org)["available"] == 1000
    verify_ledger()


def test_a_customer_deleted_event_for_a_live_customer_changes_nothing(
    caller, org, fake_stripe, stripe_webhook
):
    create_topup(caller, org, 1000)
    customer_id = organization(caller, org)["stripe_customer_id"]
    # A forged or stale body: Stripe's own record says the customer is alive.
    r = stripe_webhook.send(
        fake_stripe.event("customer.deleted", {"id": customer_id, "object": "customer"})
    )

    assert r.status_code == 200
    assert organization(caller, org)["stripe_customer_id"] == customer_id


def test_a_customer_edited_away_from_its_organisation_is_labelled_again(
    caller, org, fake_stripe, stripe_webhook
):
    create_topup(caller, org, 1000)
    customer_id = organization(caller, org)["stripe_customer_id"]
    edited = fake_stripe.edit_customer(customer_id, metadata={}, email="new@example.com")

    r = stripe_webhook.send(fake_stripe.event("customer.updated", edited))

    assert r.status_code == 200
    assert organization(caller, org)["stripe_customer_id"] == customer_id
    customer = fake_stripe.customer(customer_id)
    assert customer["metadata"] == {"organization_id": org.id}
    assert customer["email"] == "new@example.com"


def test_events_about_customers_we_never_mapped_are_only_stored(fake_stripe, stripe_webhook, app):
    calls_before = len(fake_stripe.requests)
    event = fake_stripe.event("customer.updated", {"id": "cus_not_ours", "object": "customer"})

    r = stripe_webhook.send(event)

    assert r.status_code == 200
    assert inbox(app, event["id"]).processed_at is not None
    assert len(fake_stripe.requests) == calls_before
