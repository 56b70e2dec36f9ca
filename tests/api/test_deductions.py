from datetime import UTC, datetime, timedelta

from tests.helpers import new_order_id


def test_a_deduction_answers_the_contract_fields(caller, org, verify_ledger):
    caller.grant(org, 1000)
    r = caller.deduct(org, 300, description="campaign 7", reference="cmp_7", metadata={"a": 1})
    assert r.status_code == 201
    assert set(r.json) == {"id", "order_id", "amount", "currency", "balance_after", "created_at"}
    assert r.json["amount"] == 300
    assert r.json["currency"] == "KRW"
    assert r.json["balance_after"] == 700
    assert r.headers.get("Idempotent-Replayed") is None
    assert r.headers["X-Request-Id"]
    verify_ledger()


def test_replay_and_conflict(caller, org):
    caller.grant(org, 1000)
    order_id = new_order_id()
    first = caller.deduct(org, 100, order_id=order_id)
    again = caller.deduct(org, 100, order_id=order_id)
    different = caller.deduct(org, 101, order_id=order_id)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert different.status_code == 409
    assert different.json["error"]["code"] == "idempotency_conflict"
    assert caller.balance(org)["available"] == 900


def test_insufficient_credit_is_402_with_the_available_amount_and_changes_nothing(caller, org):
    caller.grant(org, 100)
    order_id = new_order_id()
    r = caller.deduct(org, 101, order_id=order_id)
    assert r.status_code == 402
    assert r.json["error"]["code"] == "insufficient_credit"
    assert r.json["error"]["details"]["available"] == 100
    assert caller.balance(org)["available"] == 100
    # A failed request keeps no idempotency record: after a top-up the same order_id works.
    caller.grant(org, 1)
    assert caller.deduct(org, 101, order_id=order_id).status_code == 201


def test_deductions_take_lots_in_the_contract_order(caller, org, verify_ledger):
    soon = datetime.now(UTC) + timedelta(days=3)
    never_expires = caller.grant(org, 100)
    expiring = caller.grant(org, 100, expires_at=soon)
    caller.deduct(org, 150)
    lots = {lot["id"]: lot["remaining"] for lot in caller.balance(org)["lots"]}
    assert expiring["id"] not in lots  # consumed first, fully
    assert lots[never_expires["id"]] == 50
    verify_ledger()


def test_reversal_returns_credit_to_the_same_lots(caller, org, verify_ledger):
    first = caller.grant(org, 100, expires_at=datetime.now(UTC) + timedelta(days=1))
    second = caller.grant(org, 100)
    deduction = caller.deduct(org, 150).json
    path = f"/v1/orgs/{org.id}/deductions/{deduction['id']}/reversals"

    partial = caller.client.post(
        path, json={"order_id": "rev-1", "amount": 40}, headers=caller.service
    )
    assert partial.status_code == 201
    assert partial.json["amount"] == 40
    assert partial.json["deduction_id"] == deduction["id"]
    lots = {lot["id"]: lot["remaining"] for lot in caller.balance(org)["lots"]}
    assert lots == {second["id"]: 90}  # the last lot taken gets credit back first

    rest = caller.client.post(path, json={"order_id": "rev-2"}, headers=caller.service)
    assert rest.status_code == 201
    assert rest.json["amount"] == 110
    lots = {lot["id"]: lot["remaining"] for lot in caller.balance(org)["lots"]}
    assert lots == {first["id"]: 100, second["id"]: 100}

    beyond = caller.client.post(
        path, json={"order_id": "rev-3", "amount": 1}, headers=caller.service
    )
    assert beyond.status_code == 422
    assert beyond.json["error"]["code"] == "reversal_exceeds_deduction"
    verify_ledger()


def test_reversal_of_an_unknown_deduction_is_404(caller, org):
    r = caller.client.post(
        f"/v1/orgs/{org.id}/deductions/999999999/reversals",
        json={"order_id": "r"},
        headers=caller.service,
    )
    assert r.status_code == 404


def test_deduction_in_a_currency_without_credit_is_402(caller, org):
    caller.grant(org, 1000)
    r = caller.deduct(org, 1, currency="USD")
    assert r.status_code == 402
    assert r.json["error"]["details"] == {"available": 0, "currency": "USD"}
