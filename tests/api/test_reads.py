from tests.helpers import new_order_id


def test_transactions_page_newest_first_by_cursor(caller, org):
    caller.grant(org, 100)
    orders = [caller.deduct(org, 1, order_id=new_order_id()).json["order_id"] for _ in range(7)]
    seen, cursor = [], None
    while True:
        query = "?limit=3&kind=deduction" + (f"&cursor={cursor}" if cursor else "")
        page = caller.client.get(
            f"/v1/orgs/{org.id}/transactions{query}", headers=caller.service
        ).json
        seen += [e["order_id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        caller.deduct(org, 1, order_id=new_order_id("late"))  # inserts while paging
    assert seen == list(reversed(orders))


def test_transactions_show_amount_and_balance_after(caller, org):
    caller.grant(org, 100)
    caller.deduct(org, 30)
    data = caller.client.get(f"/v1/orgs/{org.id}/transactions", headers=caller.service).json["data"]
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in data] == [
        ("deduction", -30, 70),
        ("grant", 100, 100),
    ]


def test_balance_per_currency(caller, org):
    caller.grant(org, 500, currency="USD")
    assert caller.balance(org)["available"] == 0
    usd = caller.balance(org, "USD")
    assert (usd["currency"], usd["available"], usd["held"]) == ("USD", 500, 0)
    assert [lot["kind"] for lot in usd["lots"]] == ["bonus"]


def test_trial_balance_totals_zero(caller, org):
    caller.grant(org, 100)
    caller.deduct(org, 40)
    r = caller.client.get("/v1/admin/ledger/trial-balance", headers=caller.operator)
    assert r.status_code == 200
    assert r.json["total"]["KRW"] == 0
    mine = [a for a in r.json["accounts"] if a["org_id"] == org.id and a["kind"] == "available"]
    assert mine[0]["balance"] == 60


def test_grants_are_idempotent(caller, org):
    body = {"order_id": "grant-1", "amount": 100, "reason": "welcome"}
    first = caller.client.post(
        f"/v1/admin/orgs/{org.id}/grants", json=body, headers=caller.operator
    )
    again = caller.client.post(
        f"/v1/admin/orgs/{org.id}/grants", json=body, headers=caller.operator
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert caller.balance(org)["available"] == 100


def test_health_and_openapi(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").json == {"status": "ready"}
    spec = client.get("/openapi.json").json
    assert "/v1/orgs/{org_id}/deductions" in spec["paths"]
    assert client.get("/docs").status_code == 200
