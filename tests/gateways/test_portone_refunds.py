"""Refunds through the fake PortOne: cancels guarded by `currentCancellableAmount`, a lost
answer finished by `resume-refunds`, and cancels made in PortOne's console."""

from tests.gateways.refund_steps import (
    approve,
    entries,
    external_refunds_of,
    paid_portone_topup,
    refund_request,
    request_refund,
    resume_refunds,
    topup_of,
)


def _cancels(portone, payment_id):
    return [c.body for c in portone.calls("POST", f"/payments/{payment_id}/cancel")]


def _webhook(caller, portone, type_, payment_id, cancellation_id=None):
    body, headers = portone.webhook(type_, payment_id, cancellation_id=cancellation_id)
    r = caller.client.post("/v1/webhooks/portone", data=body, headers=headers)
    assert r.status_code == 200, r.json


def test_approval_cancels_with_what_we_believe_is_left_and_partial_refunds_add_up(
    caller, org, portone, verify_ledger
):
    topup = paid_portone_topup(caller, portone, org, 30000)
    payment_id = topup["portone"]["payment_id"]
    assert caller.deduct(org, 5000).status_code == 201

    first = request_refund(caller, org, topup["id"], 10000)
    assert approve(caller, first["id"]).json["status"] == "succeeded"
    rest = request_refund(caller, org, topup["id"])
    assert rest["amount"] == 15000
    assert approve(caller, rest["id"]).json["status"] == "succeeded"

    sent = _cancels(portone, payment_id)
    assert [(c["amount"], c["currentCancellableAmount"]) for c in sent] == [
        (10000, 30000),
        (15000, 20000),
    ]
    assert sent[0]["reason"].startswith(f"[ref refund-request-{first['id']}] ")
    assert portone.payment(payment_id)["amount"]["cancelled"] == 25000
    after = topup_of(caller, org, topup["id"])
    assert (after["status"], after["refunded_amount"]) == ("partially_refunded", 25000)
    assert caller.balance(org)["available"] == 0
    assert len(entries(caller, org, "refund")) == 2
    verify_ledger()


def test_a_lost_answer_is_finished_by_resume_refunds_without_a_second_cancel(
    app, caller, org, portone, verify_ledger
):
    topup = paid_portone_topup(caller, portone, org, 30000)
    payment_id = topup["portone"]["payment_id"]
    request = request_refund(caller, org, topup["id"], 12000)
    portone.hang_next(method="POST", apply_first=True)

    assert approve(caller, request["id"]).json["status"] == "processing"
    assert caller.balance(org)["held"] == 12000

    result = resume_refunds(app)

    assert result.exit_code == 0, result.output
    assert refund_request(caller, org, request["id"])["status"] == "succeeded"
    cancellations = portone.payment(payment_id)["cancellations"]
    assert [c["totalAmount"] for c in cancellations] == [12000]
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (18000, 0)
    assert len(entries(caller, org, "refund")) == 1
    verify_ledger()


def test_a_console_cancel_refuses_a_stale_approval_and_its_webhook_takes_back_what_is_left(
    caller, org, portone, verify_ledger
):
    topup = paid_portone_topup(caller, portone, org, 30000)
    payment_id = topup["portone"]["payment_id"]
    assert caller.deduct(org, 25000).status_code == 201
    request = request_refund(caller, org, topup["id"])
    assert request["amount"] == 5000
    # An operator cancels 10000 in PortOne's console; its webhook has not arrived yet.
    cancellation = portone.cancel(payment_id, 10000)

    r = approve(caller, request["id"])

    # PortOne refuses: what is left is not what we believed. The hold comes back.
    assert r.json["status"] == "failed"
    assert r.json["failure_message"]
    assert portone.payment(payment_id)["amount"]["cancelled"] == 10000
    assert (caller.balance(org)["available"], caller.balance(org)["held"]) == (5000, 0)

    _webhook(caller, portone, "Transaction.PartialCancelled", payment_id, cancellation["id"])

    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (0, 0)
    [found] = external_refunds_of(caller, topup["id"])
    assert (found["amount"], found["taken_back"], found["shortfall"]) == (10000, 5000, 5000)
    after = topup_of(caller, org, topup["id"])
    assert (after["status"], after["refunded_amount"]) == ("partially_refunded", 10000)
    assert entries(caller, org, "refund") == []
    verify_ledger()
