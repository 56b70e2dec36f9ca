"""Refund request routes: who may do what, the policy's answers, audit fields, lists."""

import uuid
from datetime import datetime, timedelta

import pytest

from ledger import clock
from tests.gateways.refund_steps import (
    approve,
    ask_refund,
    paid_stripe_topup,
    refund_request,
    request_refund,
)


@pytest.fixture
def paid(caller, org, fake_stripe):
    """A paid 10000 KRW top-up of `org`."""
    return paid_stripe_topup(caller, fake_stripe, org, 10000)


def _error(r):
    return r.status_code, r.json["error"]["code"]


def test_an_advertiser_cannot_approve_an_operator_can(caller, org, paid, verify_ledger):
    request = request_refund(caller, org, paid["id"], 1000)

    for role in ("owner", "admin"):
        assert _error(approve(caller, request["id"], headers=caller.user(org, role))) == (
            403,
            "forbidden",
        )
    assert _error(approve(caller, request["id"], headers=caller.service)) == (403, "forbidden")
    reject = caller.client.post(
        f"/v1/admin/refund-requests/{request['id']}/reject",
        json={"reason": "no"},
        headers=caller.user(org),
    )
    assert _error(reject) == (403, "forbidden")
    assert refund_request(caller, org, request["id"])["status"] == "pending"

    r = approve(caller, request["id"])

    assert (r.status_code, r.json["status"]) == (200, "succeeded")
    assert _error(approve(caller, request["id"])) == (409, "invalid_state")
    verify_ledger()


def test_another_organisations_user_sees_404(caller, org, paid):
    request = request_refund(caller, org, paid["id"], 1000)
    other = caller.create_org()
    stranger = caller.user(other, "owner")
    base = f"/v1/orgs/{org.id}/refund-requests"

    assert _error(ask_refund(caller, org, paid["id"], headers=stranger)) == (404, "not_found")
    assert caller.client.get(base, headers=stranger).status_code == 404
    assert caller.client.get(f"{base}/{request['id']}", headers=stranger).status_code == 404
    assert caller.client.post(f"{base}/{request['id']}/cancel", headers=stranger).status_code == 404
    # Their own organisation's path does not reach our request or top-up either.
    theirs = f"/v1/orgs/{other.id}/refund-requests"
    assert (
        caller.client.post(f"{theirs}/{request['id']}/cancel", headers=stranger).status_code == 404
    )
    assert _error(ask_refund(caller, other, paid["id"], headers=stranger)) == (404, "not_found")
    assert refund_request(caller, org, request["id"])["status"] == "pending"


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_may_read_but_not_ask(caller, org, paid, role):
    headers = caller.user(org, role)
    assert _error(ask_refund(caller, org, paid["id"], headers=headers)) == (403, "forbidden")
    r = caller.client.get(f"/v1/orgs/{org.id}/refund-requests", headers=headers)
    assert (r.status_code, r.json["data"]) == (200, [])


def test_the_refund_window_at_its_boundary(caller, org, paid):
    paid_at = datetime.fromisoformat(paid["paid_at"])

    clock.pin(paid_at + timedelta(days=7, minutes=1))
    assert _error(ask_refund(caller, org, paid["id"])) == (422, "refund_window_expired")

    clock.pin(paid_at + timedelta(days=6, hours=23, minutes=59))
    assert ask_refund(caller, org, paid["id"]).status_code == 201


def test_the_policy_answers_with_the_contract_codes(caller, org, paid, verify_ledger):
    caller.grant(org, 5000)  # bonus credit: never part of a refund
    assert _error(ask_refund(caller, org, paid["id"], 10001)) == (422, "amount_exceeds_refundable")

    first = request_refund(caller, org, paid["id"])

    assert first["amount"] == 10000
    assert _error(ask_refund(caller, org, paid["id"], 1)) == (409, "refund_already_pending")
    unknown = ask_refund(caller, org, str(uuid.uuid4()))
    assert _error(unknown) == (404, "not_found")
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (5000, 10000)
    verify_ledger()


def test_cancel_and_reject_release_the_hold_and_keep_the_audit_trail(
    caller, org, paid, verify_ledger
):
    assert caller.deduct(org, 2000).status_code == 201
    canceled = request_refund(caller, org, paid["id"], 3000)
    r = caller.client.post(
        f"/v1/orgs/{org.id}/refund-requests/{canceled['id']}/cancel",
        headers=caller.user(org, "admin"),
    )
    assert (r.status_code, r.json["status"]) == (200, "canceled")
    assert r.json["canceled_by"] == f"admin-of-{org.id}"
    assert caller.balance(org)["available"] == 8000

    rejected = request_refund(caller, org, paid["id"], 8000)
    missing_reason = caller.client.post(
        f"/v1/admin/refund-requests/{rejected['id']}/reject", json={}, headers=caller.operator
    )
    assert _error(missing_reason) == (422, "validation_error")
    r = caller.client.post(
        f"/v1/admin/refund-requests/{rejected['id']}/reject",
        json={"reason": "credit used for a running campaign"},
        headers=caller.operator,
    )

    assert (r.status_code, r.json["status"]) == (200, "rejected")
    seen = refund_request(caller, org, rejected["id"])
    assert (seen["decided_by"], seen["decision_note"]) == (
        "operator-1",
        "credit used for a running campaign",
    )
    assert seen["decided_at"] is not None
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (8000, 0)
    assert [lot["remaining"] for lot in balance["lots"]] == [8000]  # back to the same lot
    assert _error(approve(caller, rejected["id"])) == (409, "invalid_state")
    verify_ledger()


def test_lists_are_newest_first_with_cursors_and_filter_by_status(caller, org, paid):
    first = request_refund(caller, org, paid["id"], 1000)
    caller.client.post(
        f"/v1/orgs/{org.id}/refund-requests/{first['id']}/cancel", headers=caller.user(org)
    )
    second = request_refund(caller, org, paid["id"], 2000)
    base = f"/v1/orgs/{org.id}/refund-requests"

    page = caller.client.get(f"{base}?limit=1", headers=caller.user(org, "viewer")).json
    assert [r["id"] for r in page["data"]] == [second["id"]]
    rest = caller.client.get(
        f"{base}?limit=1&cursor={page['next_cursor']}", headers=caller.user(org)
    ).json
    assert ([r["id"] for r in rest["data"]], rest["next_cursor"]) == ([first["id"]], None)
    pending = caller.client.get(f"{base}?status=pending", headers=caller.user(org)).json["data"]
    assert [r["id"] for r in pending] == [second["id"]]

    admin = caller.client.get(
        "/v1/admin/refund-requests?status=pending&limit=200", headers=caller.operator
    )
    assert admin.status_code == 200
    mine = [r for r in admin.json["data"] if r["org_id"] == org.id]
    assert [(r["id"], r["requested_by"]) for r in mine] == [(second["id"], f"owner-of-{org.id}")]
    assert (
        caller.client.get("/v1/admin/refund-requests", headers=caller.user(org)).status_code == 403
    )
    assert _error(caller.client.get(f"{base}?status=lost", headers=caller.user(org))) == (
        422,
        "validation_error",
    )
