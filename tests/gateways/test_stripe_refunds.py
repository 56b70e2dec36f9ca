"""Refunds through the fake Stripe: holds, approval, refusals, timeouts and resume,
webhooks racing the approve call, and refunds made in Stripe's dashboard."""

import pytest

from tests.gateways.refund_steps import (
    approve,
    ask_refund,
    entries,
    external_refunds_of,
    in_thread,
    paid_stripe_topup,
    refund_request,
    request_refund,
    resume_refunds,
    topup_of,
    wait_until,
)


def _refunds_at_stripe(fake, payment_intent_id):
    charge = fake.payment_intent(payment_intent_id)["latest_charge"]
    return fake.charge(charge)["refunds"]["data"]


def _charge_refunded(fake, stripe_webhook, payment_intent_id):
    """Stripe's `charge.refunded` event with the charge as Stripe has it now."""
    charge = fake.charge(fake.payment_intent(payment_intent_id)["latest_charge"])
    r = stripe_webhook.send(fake.event("charge.refunded", charge))
    assert r.status_code == 200, r.json


def _refund_event(fake, stripe_webhook, type_, refund_id):
    r = stripe_webhook.send(fake.event(type_, fake.refund(refund_id)))
    assert r.status_code == 200, r.json


def test_a_request_holds_the_credit_and_approval_refunds_it_at_stripe(
    caller, org, fake_stripe, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    pi = topup["stripe"]["payment_intent_id"]
    assert caller.deduct(org, 3000).status_code == 201

    request = request_refund(caller, org, topup["id"], 4000)

    assert (request["status"], request["amount"], request["requested_by"]) == (
        "pending",
        4000,
        f"owner-of-{org.id}",
    )
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (3000, 4000)
    assert caller.deduct(org, 3001).status_code == 402  # held credit cannot be spent

    r = approve(caller, request["id"], note="checked the campaign")

    assert r.status_code == 200, r.json
    assert r.json["status"] == "succeeded"
    assert (r.json["decided_by"], r.json["decision_note"]) == ("operator-1", "checked the campaign")
    [sent] = [
        s
        for s in fake_stripe.requests_to("POST", "/v1/refunds")
        if s.params["payment_intent"] == pi
    ]
    assert sent.headers["idempotency-key"] == f"refund-request-{request['id']}"
    assert sent.params["amount"] == "4000"
    [refund] = _refunds_at_stripe(fake_stripe, pi)
    assert (refund["amount"], refund["status"]) == (4000, "succeeded")
    assert r.json["gateway_refund_id"] == refund["id"]
    assert (
        topup_of(caller, org, topup["id"])["status"],
        topup_of(caller, org, topup["id"])["refunded_amount"],
    ) == (
        "partially_refunded",
        4000,
    )
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (3000, 0)

    # Partial refunds add up: the rest of the lot, then nothing.
    rest = request_refund(caller, org, topup["id"])
    assert rest["amount"] == 3000
    assert approve(caller, rest["id"]).json["status"] == "succeeded"
    after = topup_of(caller, org, topup["id"])
    assert (after["status"], after["refunded_amount"]) == ("partially_refunded", 7000)
    third = ask_refund(caller, org, topup["id"])
    assert (third.status_code, third.json["error"]["code"]) == (422, "credit_consumed")
    assert caller.balance(org)["available"] == 0
    assert len(entries(caller, org, "refund")) == 2
    assert sum(r["amount"] for r in _refunds_at_stripe(fake_stripe, pi)) == 7000
    verify_ledger()


def test_refunding_all_of_an_untouched_topup_marks_it_refunded(
    caller, org, fake_stripe, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 5000)
    request = request_refund(caller, org, topup["id"])
    assert request["amount"] == 5000
    assert approve(caller, request["id"]).json["status"] == "succeeded"
    after = topup_of(caller, org, topup["id"])
    assert (after["status"], after["refunded_amount"]) == ("refunded", 5000)
    assert caller.balance(org)["available"] == 0
    verify_ledger()


@pytest.mark.parametrize("refusal", ["error answer", "refund failed"])
def test_a_definitive_refusal_fails_the_request_and_releases_the_hold(
    caller, org, fake_stripe, verify_ledger, refusal
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    request = request_refund(caller, org, topup["id"], 4000)
    if refusal == "error answer":
        fake_stripe.fail_next(status=400, method="POST", path="/v1/refunds")
    else:
        fake_stripe.next_refund_status = "failed"

    r = approve(caller, request["id"])

    assert r.status_code == 200, r.json
    assert r.json["status"] == "failed"
    assert r.json["failure_message"]
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (10000, 0)
    assert [lot["remaining"] for lot in balance["lots"]] == [10000]
    after = topup_of(caller, org, topup["id"])
    assert (after["status"], after["refunded_amount"]) == ("paid", 0)
    assert entries(caller, org, "refund") == []
    # The top-up can be asked for again.
    assert ask_refund(caller, org, topup["id"], 4000).status_code == 201
    verify_ledger()


@pytest.mark.parametrize("lost", ["the answer", "the request"])
def test_a_timeout_leaves_the_request_processing_and_resume_finishes_it_once(
    app, caller, org, fake_stripe, verify_ledger, lost
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    pi = topup["stripe"]["payment_intent_id"]
    request = request_refund(caller, org, topup["id"], 4000)
    # Either Stripe refunds and the answer is lost, or the call has not reached it yet.
    fake_stripe.hang_next(method="POST", path="/v1/refunds", after_processing=lost == "the answer")

    r = approve(caller, request["id"])

    assert r.status_code == 200, r.json
    assert r.json["status"] == "processing"
    assert caller.balance(org)["held"] == 4000

    result = resume_refunds(app)

    assert result.exit_code == 0, result.output
    assert "succeeded 1" in result.output
    assert refund_request(caller, org, request["id"])["status"] == "succeeded"
    keys = {
        s.headers["idempotency-key"]
        for s in fake_stripe.requests_to("POST", "/v1/refunds")
        if s.params["payment_intent"] == pi
    }
    assert keys == {f"refund-request-{request['id']}"}
    assert [r["amount"] for r in _refunds_at_stripe(fake_stripe, pi)] == [4000]
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (6000, 0)
    assert len(entries(caller, org, "refund")) == 1
    assert resume_refunds(app).output.strip() == "succeeded 0, failed 0, still processing 0"
    verify_ledger()


@pytest.mark.parametrize("webhook", ["before", "during", "after"])
def test_the_approve_calls_own_webhook_in_any_order_books_one_refund(
    app, caller, org, fake_stripe, stripe_webhook, verify_ledger, webhook
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    pi = topup["stripe"]["payment_intent_id"]
    request = request_refund(caller, org, topup["id"], 4000)

    if webhook == "after":
        assert approve(caller, request["id"]).json["status"] == "succeeded"
        [refund] = _refunds_at_stripe(fake_stripe, pi)
        _refund_event(fake_stripe, stripe_webhook, "refund.created", refund["id"])
        _charge_refunded(fake_stripe, stripe_webhook, pi)
    else:
        # Stripe refunds, then holds its answer back while its webhooks arrive.
        fake_stripe.hang_next(method="POST", path="/v1/refunds", after_processing=True)
        finish = in_thread(lambda: approve(caller, request["id"], client=app.test_client()))
        wait_until(lambda: _refunds_at_stripe(fake_stripe, pi))
        [refund] = _refunds_at_stripe(fake_stripe, pi)
        if webhook == "before":
            _refund_event(fake_stripe, stripe_webhook, "refund.created", refund["id"])
            _charge_refunded(fake_stripe, stripe_webhook, pi)
            # The webhook confirmed the refund we started before we heard from Stripe.
            assert refund_request(caller, org, request["id"])["status"] == "succeeded"
            fake_stripe.clear_faults()  # now the answer reaches the approve call
        else:
            deliver = in_thread(lambda: _charge_refunded(fake_stripe, stripe_webhook, pi))
            fake_stripe.clear_faults()
            deliver()
        r = finish()
        assert r.status_code == 200, r.json
        assert r.json["status"] in ("succeeded", "processing")  # processing if it timed out

    assert refund_request(caller, org, request["id"])["status"] == "succeeded"
    [entry] = entries(caller, org, "refund")
    assert entries(caller, org, "external_refund") == []
    assert external_refunds_of(caller, topup["id"]) == []
    after = topup_of(caller, org, topup["id"])
    assert (after["status"], after["refunded_amount"]) == ("partially_refunded", 4000)
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (6000, 0)
    verify_ledger()


def test_a_pending_stripe_refund_is_finished_by_its_webhook(
    caller, org, fake_stripe, stripe_webhook, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    succeeds = request_refund(caller, org, topup["id"], 3000)
    fake_stripe.next_refund_status = "pending"
    r = approve(caller, succeeds["id"])
    assert (r.json["status"], r.json["gateway_refund_id"] is not None) == ("processing", True)
    # Stripe already counts a pending refund as refunded: it is not mistaken for another.
    _charge_refunded(fake_stripe, stripe_webhook, topup["stripe"]["payment_intent_id"])
    assert refund_request(caller, org, succeeds["id"])["status"] == "processing"

    fake_stripe.settle_refund(r.json["gateway_refund_id"], "succeeded")
    _refund_event(fake_stripe, stripe_webhook, "refund.updated", r.json["gateway_refund_id"])

    assert refund_request(caller, org, succeeds["id"])["status"] == "succeeded"

    fails = request_refund(caller, org, topup["id"], 2000)
    r = approve(caller, fails["id"])
    assert r.json["status"] == "processing"
    fake_stripe.settle_refund(r.json["gateway_refund_id"], "failed")
    _refund_event(fake_stripe, stripe_webhook, "refund.failed", r.json["gateway_refund_id"])

    assert refund_request(caller, org, fails["id"])["status"] == "failed"
    after = topup_of(caller, org, topup["id"])
    assert (after["status"], after["refunded_amount"]) == ("partially_refunded", 3000)
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (7000, 0)
    assert len(entries(caller, org, "refund")) == 1
    assert external_refunds_of(caller, topup["id"]) == []
    verify_ledger()


def test_a_dashboard_refund_takes_back_what_is_left_and_records_the_shortfall(
    caller, org, fake_stripe, stripe_webhook, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    pi = topup["stripe"]["payment_intent_id"]
    assert caller.deduct(org, 7000).status_code == 201

    fake_stripe.refund_in_dashboard(pi)  # all 10000, of which 7000 already spent
    _charge_refunded(fake_stripe, stripe_webhook, pi)
    _charge_refunded(fake_stripe, stripe_webhook, pi)  # another delivery: no second effect

    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (0, 0)
    [entry] = entries(caller, org, "external_refund")
    assert (entry["amount"], entry["balance_after"]) == (-3000, 0)
    [found] = external_refunds_of(caller, topup["id"])
    assert (found["amount"], found["taken_back"], found["shortfall"]) == (10000, 3000, 7000)
    assert found["gateway_refunded"] == 10000
    shortfalls = caller.client.get(
        "/v1/admin/external-refunds?with_shortfall=true", headers=caller.operator
    ).json["data"]
    assert found["id"] in {s["id"] for s in shortfalls}
    after = topup_of(caller, org, topup["id"])
    assert (after["status"], after["refunded_amount"]) == ("refunded", 10000)
    verify_ledger()


def test_a_dashboard_refund_releases_a_pending_request_when_the_lot_alone_is_not_enough(
    caller, org, fake_stripe, stripe_webhook, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    pi = topup["stripe"]["payment_intent_id"]
    assert caller.deduct(org, 2000).status_code == 201
    small = request_refund(caller, org, topup["id"], 1000)

    fake_stripe.refund_in_dashboard(pi, 3000)  # fits in the unheld 7000: the request stays
    _charge_refunded(fake_stripe, stripe_webhook, pi)
    assert refund_request(caller, org, small["id"])["status"] == "pending"
    assert (caller.balance(org)["available"], caller.balance(org)["held"]) == (4000, 1000)

    fake_stripe.refund_in_dashboard(pi)  # the remaining 7000: needs the held 1000 too
    _charge_refunded(fake_stripe, stripe_webhook, pi)

    canceled = refund_request(caller, org, small["id"])
    assert (canceled["status"], canceled["canceled_by"]) == ("canceled", "system:outside-refund")
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (0, 0)
    found = external_refunds_of(caller, topup["id"])
    assert sorted((f["amount"], f["taken_back"], f["shortfall"]) for f in found) == [
        (3000, 3000, 0),
        (7000, 5000, 2000),
    ]
    assert topup_of(caller, org, topup["id"])["status"] == "refunded"
    verify_ledger()
