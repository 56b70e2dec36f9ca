"""Real threads: deductions and a refund request racing for one lot, and concurrent
decisions on one request."""

import pytest

from tests.gateways.refund_steps import ask_refund, paid_stripe_topup, request_refund


@pytest.mark.parametrize("round_", range(3))
def test_a_deduction_and_a_refund_request_racing_for_one_lot_never_take_more_than_it_holds(
    app, caller, fake_stripe, run_threads, verify_ledger, round_
):
    org = caller.create_org()
    topup = paid_stripe_topup(caller, fake_stripe, org, 1000)

    def race(i):
        client = app.test_client()
        if i == 0:
            r = ask_refund(caller, org, topup["id"], 700, client=client)
            return "refund", r.status_code, 700
        return "deduction", caller.deduct(org, 300, client=client).status_code, 300

    outcomes = run_threads(4, race)

    assert {status for kind, status, _ in outcomes if kind == "refund"} <= {201, 422}
    assert {status for kind, status, _ in outcomes if kind == "deduction"} <= {201, 402}
    taken = sum(amount for _, status, amount in outcomes if status == 201)
    assert taken <= 1000
    balance = caller.balance(org)
    held = sum(amount for kind, status, amount in outcomes if kind == "refund" and status == 201)
    assert (balance["available"], balance["held"]) == (1000 - taken, held)
    verify_ledger()


def test_concurrent_cancel_and_reject_release_the_hold_once(
    app, caller, org, fake_stripe, run_threads, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 1000)
    request = request_refund(caller, org, topup["id"], 600)

    def decide(i):
        client = app.test_client()
        if i % 2:
            path = f"/v1/orgs/{org.id}/refund-requests/{request['id']}/cancel"
            return client.post(path, headers=caller.user(org)).status_code
        path = f"/v1/admin/refund-requests/{request['id']}/reject"
        return client.post(path, json={"reason": "no"}, headers=caller.operator).status_code

    statuses = run_threads(6, decide)

    assert sorted(statuses) == [200] + [409] * 5
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (1000, 0)
    verify_ledger()
