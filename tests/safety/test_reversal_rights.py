"""Only the platform reverses a deduction: an organisation's users and keys get 403, even
with credits:deduct, and nothing changes; the service token can."""

from tests.helpers import new_order_id


def test_only_service_and_operator_reverse(caller, org):
    caller.grant(org, 10_000)
    charge = caller.deduct(org, 4_000)
    assert charge.status_code == 201
    path = f"/v1/orgs/{org.id}/deductions/{charge.json['id']}/reversals"
    _, deduct_key = caller.api_key(org, ["credits:deduct", "credits:read"])

    for headers in (deduct_key, caller.user(org, "owner"), caller.user(org, "admin")):
        r = caller.client.post(path, json={"order_id": new_order_id("rev")}, headers=headers)
        assert r.status_code == 403, r.json
        assert r.json["error"]["code"] == "forbidden"
    assert caller.balance(org)["available"] == 6_000

    for headers in (caller.service, caller.operator):
        r = caller.client.post(
            path, json={"order_id": new_order_id("rev"), "amount": 1_000}, headers=headers
        )
        assert r.status_code == 201, r.json
    assert caller.balance(org)["available"] == 8_000
