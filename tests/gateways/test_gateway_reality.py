"""The gateways as they really behave, end to end through HTTP, the real adapters and the
fakes: refunds made before we credited, payments whose webhook never came, refunds that
fail after succeeding or that the PG refuses, virtual accounts, legacy webhooks."""

import pytest

from tests.gateways.gateway_steps import (
    books_are_sound,
    history,
    portone_webhook,
    reverse,
    sync_topups,
)
from tests.gateways.refund_steps import (
    approve,
    ask_refund,
    entries,
    paid_portone_topup,
    paid_stripe_topup,
    refund_request,
    request_refund,
    resume_refunds,
    topup_of,
)
from tests.gateways.stripe_steps import create_topup, inbox, start_topup
from tests.helpers import new_order_id


def _portone_topup(caller, org, amount):
    r = caller.client.post(
        f"/v1/orgs/{org.id}/topups",
        json={"order_id": new_order_id("top"), "amount": amount, "provider": "portone"},
        headers=caller.user(org),
    )
    assert r.status_code == 201, r.json
    return r.json


# Refunds made before we credited


@pytest.mark.parametrize(
    ("refunded", "status", "credited"), [(3000, "partially_refunded", 7000), (10000, "refunded", 0)]
)
def test_a_stripe_dashboard_refund_before_crediting_credits_only_what_stripe_kept(
    app, caller, org, fake_stripe, stripe_webhook, verify_ledger, refunded, status, credited
):
    started = create_topup(caller, org, 10000)
    pi = started["stripe"]["payment_intent_id"]
    fake_stripe.succeed_payment(pi)
    fake_stripe.refund_in_dashboard(pi, refunded)  # before any webhook reached us

    assert stripe_webhook.payment_intent("payment_intent.succeeded", pi).status_code == 200
    charge = fake_stripe.charge(fake_stripe.payment_intent(pi)["latest_charge"])
    assert stripe_webhook.send(fake_stripe.event("charge.refunded", charge)).status_code == 200

    after = topup_of(caller, org, started["id"])
    assert (after["status"], after["refunded_amount"]) == (status, refunded)
    assert after["paid_at"] is not None
    assert caller.balance(org)["available"] == credited
    assert [e["amount"] for e in entries(caller, org, "topup")] == ([credited] if credited else [])
    assert entries(caller, org, "external_refund") == []  # not taken back a second time
    books_are_sound(app, verify_ledger, org)


def test_a_portone_console_partial_cancel_before_crediting_credits_what_is_left(
    app, caller, org, portone, verify_ledger
):
    started = _portone_topup(caller, org, 30000)
    payment_id = started["portone"]["payment_id"]
    portone.pay(payment_id, 30000)
    cancellation = portone.cancel(payment_id, 12000)  # in the console; `Paid` webhook lost

    r = portone_webhook(
        caller,
        portone,
        "Transaction.PartialCancelled",
        payment_id,
        cancellation_id=cancellation["id"],
    )

    assert r.status_code == 200
    after = topup_of(caller, org, started["id"])
    assert (after["status"], after["refunded_amount"]) == ("partially_refunded", 12000)
    assert caller.balance(org)["available"] == 18000
    # The rest is refundable, and PortOne is told what it really has left.
    request = request_refund(caller, org, started["id"])
    assert request["amount"] == 18000
    assert approve(caller, request["id"]).json["status"] == "succeeded"
    [*_, sent] = portone.calls("POST", f"/payments/{payment_id}/cancel")
    assert sent.body["currentCancellableAmount"] == 18000
    books_are_sound(app, verify_ledger, org)


# Nothing waits forever


def test_sync_topups_credits_a_virtual_account_deposit_whose_webhook_never_came(
    app, caller, org, portone, verify_ledger
):
    started = _portone_topup(caller, org, 50000)
    payment_id = started["portone"]["payment_id"]
    portone.issue_virtual_account(payment_id, 50000)
    portone.deposit(payment_id)  # days later; PortOne's retries long over

    sync_topups(app)  # by default only top-ups pending for 10 minutes: not this one yet
    assert portone.calls("GET", f"/payments/{payment_id}") == []
    assert topup_of(caller, org, started["id"])["status"] == "pending"

    sync_topups(app, "--older-than", "0")
    after = topup_of(caller, org, started["id"])
    assert after["status"] == "paid"
    assert caller.balance(org)["available"] == 50000

    sync_topups(app, "--older-than", "0")  # twice: nothing more
    assert caller.balance(org)["available"] == 50000
    assert len(entries(caller, org, "topup")) == 1
    books_are_sound(app, verify_ledger, org)


def test_a_webhook_that_matched_nothing_is_kept_and_retried_by_sync_topups(
    app, caller, org, fake_stripe, stripe_webhook, verify_ledger
):
    """Stripe made the PaymentIntent but its answer was lost, so the payment's webhook finds
    no top-up; it is kept, and once the caller's retry records the top-up, sync-topups
    processes it again."""
    order_id = new_order_id("top")
    fake_stripe.hang_next(method="POST", path="/v1/payment_intents", after_processing=True)
    assert start_topup(caller, org, 4000, order_id=order_id).status_code == 502
    [intent] = fake_stripe.payment_intents_with(order_id=order_id)
    fake_stripe.succeed_payment(intent["id"])

    event = fake_stripe.event("payment_intent.succeeded", fake_stripe.payment_intent(intent["id"]))
    assert stripe_webhook.send(event).json["outcome"] == "unmatched"
    assert inbox(app, event["id"]).last_error == "matched no top-up yet"
    assert caller.balance(org)["available"] == 0

    retried = start_topup(caller, org, 4000, order_id=order_id)
    assert retried.status_code == 201
    assert retried.json["stripe"]["payment_intent_id"] == intent["id"]

    sync_topups(app, "--older-than", "0")
    assert inbox(app, event["id"]).processed_at is not None
    assert topup_of(caller, org, retried.json["id"])["status"] == "paid"
    assert caller.balance(org)["available"] == 4000
    sync_topups(app, "--older-than", "0")
    assert caller.balance(org)["available"] == 4000
    assert len(entries(caller, org, "topup")) == 1
    books_are_sound(app, verify_ledger, org)


# Refund outcomes


@pytest.mark.parametrize("event_type", ["refund.failed", "refund.updated"])
def test_a_stripe_refund_failing_after_success_gives_the_credit_back_to_the_same_lot(
    app, caller, org, fake_stripe, stripe_webhook, verify_ledger, event_type
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    assert caller.deduct(org, 2000).status_code == 201
    request = request_refund(caller, org, topup["id"], 5000)
    done = approve(caller, request["id"]).json
    assert done["status"] == "succeeded"
    assert caller.balance(org)["available"] == 3000

    fake_stripe.settle_refund(done["gateway_refund_id"], "failed", "expired_or_canceled_card")
    event = fake_stripe.event(event_type, fake_stripe.refund(done["gateway_refund_id"]))
    assert stripe_webhook.send(event).status_code == 200
    assert stripe_webhook.send(event).json["outcome"] == "duplicate"

    failed = refund_request(caller, org, request["id"])
    assert (failed["status"], failed["failure_code"]) == ("failed", "expired_or_canceled_card")
    assert failed["failure_message"] == "the card has expired or was canceled"
    after = topup_of(caller, org, topup["id"])
    assert (after["status"], after["refunded_amount"]) == ("paid", 0)
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (8000, 0)
    [lot] = balance["lots"]
    assert lot["remaining"] == 8000  # the same lot
    [back] = entries(caller, org, "refund_failure")
    assert (back["amount"], back["balance_after"]) == (5000, 8000)
    books_are_sound(app, verify_ledger, org)


def test_a_portone_pg_refusal_fails_the_request_with_the_pgs_reason_and_releases_it(
    app, caller, org, portone, verify_ledger
):
    topup = paid_portone_topup(caller, portone, org, 30000)
    request = request_refund(caller, org, topup["id"], 10000)
    portone.refuse_next_cancel("F113", "취소기간 경과")

    r = approve(caller, request["id"])

    assert r.status_code == 200
    assert (r.json["status"], r.json["failure_code"], r.json["failure_message"]) == (
        "failed",
        "F113",
        "취소기간 경과",
    )
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (30000, 0)
    assert portone.payment(topup["portone"]["payment_id"])["amount"]["cancelled"] == 0
    resume = resume_refunds(app)  # nothing is left processing
    assert "still processing 0" in resume.output
    books_are_sound(app, verify_ledger, org)


def test_a_stripe_409_leaves_the_refund_processing_and_resume_finishes_it_once(
    app, caller, org, fake_stripe, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    request = request_refund(caller, org, topup["id"], 4000)
    fake_stripe.fail_next(status=409, method="POST", path="/v1/refunds")

    assert approve(caller, request["id"]).json["status"] == "processing"  # not a refusal
    assert caller.balance(org)["held"] == 4000

    resume_refunds(app)
    assert refund_request(caller, org, request["id"])["status"] == "succeeded"
    charge = fake_stripe.charge(
        fake_stripe.payment_intent(topup["stripe"]["payment_intent_id"])["latest_charge"]
    )
    assert charge["amount_refunded"] == 4000
    books_are_sound(app, verify_ledger, org)


# Virtual accounts


def test_a_virtual_account_topup_is_credited_on_deposit_and_refunded_to_a_bank_account(
    app, caller, org, portone, verify_ledger
):
    started = _portone_topup(caller, org, 50000)
    payment_id = started["portone"]["payment_id"]
    portone.issue_virtual_account(payment_id, 50000)
    issued = portone_webhook(caller, portone, "Transaction.VirtualAccountIssued", payment_id)
    assert issued.status_code == 200
    assert topup_of(caller, org, started["id"])["status"] == "pending"
    portone.deposit(payment_id)
    assert portone_webhook(caller, portone, "Transaction.Paid", payment_id).status_code == 200
    assert caller.balance(org)["available"] == 50000

    missing = ask_refund(caller, org, started["id"], 20000)
    assert (missing.status_code, missing.json["error"]["code"]) == (422, "refund_account_required")
    assert caller.balance(org)["held"] == 0
    bad_bank = caller.client.post(
        f"/v1/orgs/{org.id}/refund-requests",
        json={
            "topup_id": started["id"],
            "reason": "unused",
            "refund_account": {"bank": "NOT_A_BANK", "number": "110-1", "holder_name": "x"},
        },
        headers=caller.user(org),
    )
    assert bad_bank.status_code == 422

    account = {"bank": "SHINHAN", "number": "110-123-456789", "holder_name": "홍길동"}
    r = caller.client.post(
        f"/v1/orgs/{org.id}/refund-requests",
        json={
            "topup_id": started["id"],
            "amount": 20000,
            "reason": "unused",
            "refund_account": account,
        },
        headers=caller.user(org),
    )
    assert r.status_code == 201, r.json
    assert approve(caller, r.json["id"]).json["status"] == "succeeded"
    [sent] = portone.calls("POST", f"/payments/{payment_id}/cancel")
    assert sent.body["refundAccount"] == {
        "bank": "SHINHAN",
        "number": "110-123-456789",
        "holderName": "홍길동",
    }
    assert sent.body["reason"].startswith(f"[ref refund-request-{r.json['id']}] ")
    assert caller.balance(org)["available"] == 30000
    books_are_sound(app, verify_ledger, org)


# Legacy webhooks


@pytest.mark.parametrize("form", [False, True])
def test_a_legacy_2024_01_01_portone_webhook_credits_the_payment(
    app, caller, org, portone, verify_ledger, form
):
    started = _portone_topup(caller, org, 20000)
    payment_id = started["portone"]["payment_id"]
    portone.pay(payment_id, 20000)
    body, headers = portone.legacy_webhook(payment_id, "Paid", form=form)

    r = caller.client.post("/v1/webhooks/portone", data=body, headers=headers)

    assert (r.status_code, r.json["outcome"]) == (200, "processed")
    assert topup_of(caller, org, started["id"])["status"] == "paid"
    assert caller.balance(org)["available"] == 20000
    again = caller.client.post("/v1/webhooks/portone", data=body, headers=headers)
    assert again.json["outcome"] == "duplicate"
    books_are_sound(app, verify_ledger, org)


# The history


def test_a_refund_shows_in_the_history_with_the_credit_it_took_back(
    app, caller, org, fake_stripe, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    request = request_refund(caller, org, topup["id"], 4000)
    approve(caller, request["id"])

    by_kind = {e["kind"]: e for e in history(caller, org)}
    assert (by_kind["refund_hold"]["amount"], by_kind["refund_hold"]["balance_after"]) == (
        -4000,
        6000,
    )
    assert (by_kind["refund"]["amount"], by_kind["refund"]["balance_after"]) == (-4000, 6000)
    books_are_sound(app, verify_ledger, org)


def test_after_a_full_outside_refund_a_reversal_settles_the_shortfall_not_the_wallet(
    app, caller, org, fake_stripe, stripe_webhook, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    spent = caller.deduct(org, 6000).json
    pi = topup["stripe"]["payment_intent_id"]
    fake_stripe.refund_in_dashboard(pi)  # all 10,000 back to the card
    charge = fake_stripe.charge(fake_stripe.payment_intent(pi)["latest_charge"])
    assert stripe_webhook.send(fake_stripe.event("charge.refunded", charge)).status_code == 200
    assert caller.balance(org)["available"] == 0  # 4,000 taken back, 6,000 short

    reverse(caller, org, spent["id"], 5000)

    assert caller.balance(org)["available"] == 0  # the campaign's refund repays the loss
    reverse(caller, org, spent["id"])
    assert caller.balance(org)["available"] == 0
    caller.grant(org, 700)  # other credit is untouched
    assert caller.balance(org)["available"] == 700
    settled = [e["amount"] for e in history(caller, org) if e["kind"] == "shortfall_settlement"]
    assert sorted(settled) == [-5000, -1000]
    books_are_sound(app, verify_ledger, org)
