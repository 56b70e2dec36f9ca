"""Batch deductions: each item answers as a single call would, in order, independently."""

from tests.helpers import new_order_id


def batch(caller, org, items, headers=None):
    return caller.client.post(
        f"/v1/orgs/{org.id}/deductions/batch",
        json={"deductions": items},
        headers=caller.service if headers is None else headers,
    )


def item(amount, order_id=None, **extra):
    return {"order_id": order_id or new_order_id(), "amount": amount, **extra}


def entries(caller, org):
    r = caller.client.get(
        f"/v1/orgs/{org.id}/transactions?kind=deduction&limit=200", headers=caller.service
    )
    return r.json["data"]


def test_items_apply_in_order_and_a_402_does_not_undo_the_others(caller, org, verify_ledger):
    caller.grant(org, 1000)
    items = [item(400), item(700), item(600)]

    r = batch(caller, org, items)

    assert r.status_code == 200
    results = r.json["results"]
    assert [x["order_id"] for x in results] == [i["order_id"] for i in items]
    assert [x["status"] for x in results] == [201, 402, 201]
    assert results[0]["deduction"]["balance_after"] == 600
    assert results[1]["error"]["code"] == "insufficient_credit"
    assert results[1]["error"]["details"] == {"available": 600, "currency": "KRW"}
    assert results[2]["deduction"]["balance_after"] == 0
    assert set(results[0]["deduction"]) == {
        "id",
        "order_id",
        "amount",
        "currency",
        "balance_after",
        "created_at",
    }
    newest_first = [items[2]["order_id"], items[0]["order_id"]]
    assert [e["order_id"] for e in entries(caller, org)] == newest_first
    verify_ledger()


def test_a_failed_item_keeps_no_key_so_its_order_id_can_be_retried(caller, org, verify_ledger):
    caller.grant(org, 100)
    failed = item(500)
    assert batch(caller, org, [failed]).json["results"][0]["status"] == 402

    caller.grant(org, 400)
    retried = caller.deduct(org, 500, order_id=failed["order_id"])

    assert retried.status_code == 201
    assert retried.headers.get("Idempotent-Replayed") is None
    verify_ledger()


def test_a_replayed_batch_returns_the_same_results_and_writes_nothing(caller, org, verify_ledger):
    caller.grant(org, 1000)
    items = [item(100), {"order_id": "no-amount"}, item(200, description="second")]
    first = batch(caller, org, items)

    again = batch(caller, org, items)

    assert again.status_code == 200
    assert [x["status"] for x in first.json["results"]] == [201, 422, 201]
    assert again.json == first.json
    assert caller.balance(org)["available"] == 700
    assert len(entries(caller, org)) == 2
    verify_ledger()


def test_items_share_idempotency_with_single_deductions(caller, org):
    caller.grant(org, 1000)
    single = caller.deduct(org, 100).json
    items = [item(100, order_id=single["order_id"]), item(101, order_id=single["order_id"])]

    results = batch(caller, org, items).json["results"]

    assert results[0] == {"order_id": single["order_id"], "status": 201, "deduction": single}
    assert results[1]["status"] == 409
    assert results[1]["error"]["code"] == "idempotency_conflict"
    replay = caller.deduct(org, 100, order_id=single["order_id"])
    assert replay.json == single
    assert caller.balance(org)["available"] == 900


def test_a_batch_item_replays_as_a_single_deduction(caller, org):
    caller.grant(org, 1000)
    first = batch(caller, org, [item(300, order_id="ord-batch-1")]).json["results"][0]

    single = caller.deduct(org, 300, order_id="ord-batch-1")

    assert single.status_code == 201
    assert single.headers["Idempotent-Replayed"] == "true"
    assert single.json == first["deduction"]


def test_a_repeated_order_id_inside_one_batch_replays_or_conflicts(caller, org, verify_ledger):
    caller.grant(org, 1000)
    items = [item(100, order_id="dup"), item(100, order_id="dup"), item(200, order_id="dup")]

    results = batch(caller, org, items).json["results"]

    assert [x["status"] for x in results] == [201, 201, 409]
    assert results[1]["deduction"] == results[0]["deduction"]
    assert caller.balance(org)["available"] == 900
    verify_ledger()


def test_a_repeat_after_a_failed_first_occurrence_is_applied_with_its_own_body(
    caller, org, verify_ledger
):
    caller.grant(org, 100)
    items = [item(500, order_id="again"), item(50, order_id="again"), item(50, order_id="again")]

    results = batch(caller, org, items).json["results"]

    assert [x["status"] for x in results] == [402, 201, 201]
    assert results[2]["deduction"] == results[1]["deduction"]
    replay = caller.deduct(org, 50, order_id="again")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert caller.deduct(org, 500, order_id="again").status_code == 409
    verify_ledger()


def test_an_invalid_item_is_its_own_422_with_the_single_call_body(caller, org, verify_ledger):
    caller.grant(org, 1000)
    bad = {"order_id": "bad-1", "amount": 1.5}
    single = caller.client.post(f"/v1/orgs/{org.id}/deductions", json=bad, headers=caller.service)
    items = [item(100), bad, {"amount": 5, "surprise": True}, "not an object"]

    results = batch(caller, org, items).json["results"]

    assert [x["status"] for x in results] == [201, 422, 422, 422]
    assert results[1] == {"order_id": "bad-1", "status": 422, "error": single.json["error"]}
    assert set(results[2]["error"]["details"]["fields"]) == {"order_id", "surprise"}
    assert results[2]["order_id"] is None
    assert caller.balance(org)["available"] == 900
    verify_ledger()


def test_items_in_another_currency_spend_that_wallet(caller, org, verify_ledger):
    caller.grant(org, 1000)
    caller.grant(org, 50, currency="USD")

    results = batch(caller, org, [item(30, currency="USD"), item(30, currency="USD"), item(10)])

    assert [x["status"] for x in results.json["results"]] == [201, 402, 201]
    assert results.json["results"][0]["deduction"]["currency"] == "USD"
    assert caller.balance(org, "USD")["available"] == 20
    assert caller.balance(org)["available"] == 990
    verify_ledger()


def test_the_batch_itself_must_hold_1_to_1000_items(caller, org):
    caller.grant(org, 10**6)
    assert batch(caller, org, []).status_code == 422
    too_many = batch(caller, org, [item(1) for _ in range(1001)])
    assert too_many.status_code == 422
    assert too_many.json["error"]["code"] == "validation_error"
    full = batch(caller, org, [item(1) for _ in range(1000)])
    assert [x["status"] for x in full.json["results"]] == [201] * 1000
    assert caller.balance(org)["available"] == 10**6 - 1000


def test_batch_access_is_that_of_single_deductions(caller, org):
    caller.grant(org, 1000)
    other = caller.create_org()
    _, deduct_key = caller.api_key(org, ["credits:deduct"])
    _, read_key = caller.api_key(org, ["credits:read"])

    assert batch(caller, org, [item(1)], headers={}).status_code == 401
    assert batch(caller, org, [item(1)], headers=read_key).status_code == 403
    assert batch(caller, org, [item(1)], headers=caller.user(org, "owner")).status_code == 403
    assert batch(caller, other, [item(1)], headers=deduct_key).status_code == 404
    assert batch(caller, org, [item(1)], headers=deduct_key).status_code == 200
    assert batch(caller, org, [item(1)], headers=caller.operator).status_code == 200
