"""Holds through the API: reserve, capture, void, their answers, and the ledger behind."""

from datetime import UTC, datetime, timedelta

from ledger import clock
from tests.helpers import new_order_id
from tests.hold_steps import capture, get_hold, held, hold, lots, platform_leg, void

HOLD_FIELDS = {
    "id",
    "order_id",
    "status",
    "amount",
    "captured",
    "remaining",
    "currency",
    "expires_at",
    "reference",
    "description",
    "metadata",
    "created_at",
}


def test_a_hold_moves_credit_from_available_to_reserved(caller, org, verify_ledger):
    caller.grant(org, 1000)
    before = datetime.now(UTC)
    r = hold(caller, org, 300, reference="cmp_7", description="campaign 7", metadata={"a": 1})
    assert r.status_code == 201, r.json
    assert set(r.json) == HOLD_FIELDS
    assert r.json["status"] == "active"
    assert (r.json["amount"], r.json["captured"], r.json["remaining"]) == (300, 0, 300)
    assert r.json["currency"] == "KRW"
    assert r.json["reference"] == "cmp_7"
    assert r.json["metadata"] == {"a": 1}
    expires_at = datetime.fromisoformat(r.json["expires_at"])
    assert before + timedelta(hours=167) < expires_at < before + timedelta(hours=169)
    balance = caller.balance(org)
    assert (balance["available"], balance["reserved"], balance["held"]) == (700, 300, 0)
    assert get_hold(caller, org, r.json["id"]) == r.json
    verify_ledger()


def test_a_hold_is_402_beyond_available_and_changes_nothing(caller, org, verify_ledger):
    caller.grant(org, 100)
    order_id = new_order_id()
    r = hold(caller, org, 101, order_id=order_id)
    assert r.status_code == 402
    assert r.json["error"]["code"] == "insufficient_credit"
    assert r.json["error"]["details"]["available"] == 100
    assert caller.balance(org)["reserved"] == 0
    # Reserved credit cannot be spent by a deduction, nor by another hold.
    assert hold(caller, org, 60).status_code == 201
    assert caller.deduct(org, 41).status_code == 402
    assert hold(caller, org, 41).status_code == 402
    caller.grant(org, 1)
    assert hold(caller, org, 101, order_id=order_id).status_code == 402  # 41 available now
    verify_ledger()


def test_hold_replay_and_conflict(caller, org):
    caller.grant(org, 1000)
    order_id = new_order_id()
    first = hold(caller, org, 100, order_id=order_id)
    assert capture(caller, org, first.json["id"], 40).status_code == 201
    again = hold(caller, org, 100, order_id=order_id)
    different = hold(caller, org, 101, order_id=order_id)
    assert again.status_code == 201
    assert again.json == first.json  # the first answer, not the hold as it is now
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.headers.get("Idempotent-Replayed") is None
    assert different.status_code == 409
    assert different.json["error"]["code"] == "idempotency_conflict"
    assert caller.balance(org)["reserved"] == 60


def test_captures_spend_the_hold_and_revenue_gets_them(caller, org, verify_ledger):
    caller.grant(org, 1000)
    h = held(caller, org, 500)
    first = capture(caller, org, h["id"], 200)
    assert first.status_code == 201, first.json
    assert set(first.json) >= {"id", "hold_id", "order_id", "amount", "currency", "created_at"}
    assert (first.json["hold_id"], first.json["amount"]) == (h["id"], 200)
    assert capture(caller, org, h["id"], 250).status_code == 201
    now = get_hold(caller, org, h["id"])
    assert (now["status"], now["captured"], now["remaining"]) == ("active", 450, 50)
    balance = caller.balance(org)
    assert (balance["available"], balance["reserved"]) == (500, 50)

    beyond = capture(caller, org, h["id"], 51)
    assert beyond.status_code == 422
    assert beyond.json["error"]["code"] == "capture_exceeds_hold"
    assert beyond.json["error"]["details"]["remaining"] == 50

    last = capture(caller, org, h["id"], 50)
    assert last.status_code == 201
    closed = get_hold(caller, org, h["id"])
    assert (closed["status"], closed["remaining"]) == ("captured", 0)
    assert caller.balance(org)["reserved"] == 0
    verify_ledger()


def test_capture_replay_and_conflict(caller, org):
    caller.grant(org, 1000)
    h = held(caller, org, 500)
    other = held(caller, org, 100)
    order_id = new_order_id()
    first = capture(caller, org, h["id"], 100, order_id=order_id, final=True)
    again = capture(caller, org, h["id"], 100, order_id=order_id, final=True)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    for body in ({"amount": 99, "final": True}, {"amount": 100}):
        r = capture(caller, org, h["id"], order_id=order_id, **body)
        assert r.status_code == 409
        assert r.json["error"]["code"] == "idempotency_conflict"
    on_another_hold = capture(caller, org, other["id"], 100, order_id=order_id, final=True)
    assert on_another_hold.json["error"]["code"] == "idempotency_conflict"
    assert get_hold(caller, org, h["id"])["captured"] == 100
    assert caller.balance(org)["available"] == 800


def test_final_capture_releases_the_rest_and_closes_the_hold(caller, org, verify_ledger):
    caller.grant(org, 1000)
    h = held(caller, org, 500)
    r = capture(caller, org, h["id"], 120, final=True)
    assert r.status_code == 201
    closed = get_hold(caller, org, h["id"])
    assert (closed["status"], closed["captured"], closed["remaining"]) == ("captured", 120, 0)
    balance = caller.balance(org)
    assert (balance["available"], balance["reserved"]) == (880, 0)
    for late in (capture(caller, org, h["id"], 1), void(caller, org, h["id"])):
        assert late.status_code == 409
        assert late.json["error"]["code"] == "hold_not_active"
        assert late.json["error"]["details"]["status"] == "captured"
    assert caller.balance(org)["available"] == 880
    verify_ledger()


def test_void_gives_back_the_rest_once(caller, org, verify_ledger):
    caller.grant(org, 1000)
    h = held(caller, org, 500)
    capture(caller, org, h["id"], 200)
    r = void(caller, org, h["id"])
    assert r.status_code == 200
    assert set(r.json) == HOLD_FIELDS
    assert (r.json["status"], r.json["captured"], r.json["remaining"]) == ("voided", 200, 0)
    assert caller.balance(org)["available"] == 800

    again = void(caller, org, h["id"])
    assert again.status_code == 409
    assert again.json["error"]["code"] == "hold_not_active"
    late = capture(caller, org, h["id"], 1)
    assert late.status_code == 409
    assert late.json["error"]["code"] == "hold_not_active"
    balance = caller.balance(org)
    assert (balance["available"], balance["reserved"]) == (800, 0)
    verify_ledger()


def test_holds_take_lots_in_order_and_give_back_to_the_same_lots(caller, org, verify_ledger):
    soon = datetime.now(UTC) + timedelta(days=3)
    never = caller.grant(org, 100)
    expiring = caller.grant(org, 100, expires_at=soon)
    h = held(caller, org, 150)
    assert lots(caller, org) == {never["id"]: 50}
    # Captures come from the lots in the order they were taken: the expiring one first.
    capture(caller, org, h["id"], 120)
    void(caller, org, h["id"])
    assert lots(caller, org) == {never["id"]: 80}
    assert expiring["id"] not in lots(caller, org)
    verify_ledger()


def test_a_part_whose_lot_expired_before_the_void_goes_to_breakage(app, caller, org, verify_ledger):
    soon = datetime.now(UTC) + timedelta(hours=1)
    expiring = caller.grant(org, 100, expires_at=soon)
    never = caller.grant(org, 100)
    h = held(caller, org, 150, expires_at=(soon + timedelta(days=1)).isoformat())
    capture(caller, org, h["id"], 30)  # from the expiring lot: 70 of it remains reserved

    clock.pin(soon + timedelta(seconds=1))
    r = void(caller, org, h["id"])
    assert r.status_code == 200
    balance = caller.balance(org)
    assert (balance["available"], balance["reserved"]) == (100, 0)
    assert lots(caller, org) == {never["id"]: 100}
    release = entries(caller, org, "hold_release")[0]
    assert release["amount"] == 50  # the effect on available: only the live lot's part
    assert platform_leg(app, org, "expired_credit_breakage") == 70
    assert expiring["id"] not in lots(caller, org)
    verify_ledger()


def test_transactions_show_holds_captures_and_releases_by_their_effect_on_available(
    caller, org, verify_ledger
):
    caller.grant(org, 1000)
    h = held(caller, org, 400)
    capture(caller, org, h["id"], 100)
    void(caller, org, h["id"])
    kinds = [(e["kind"], e["amount"], e["balance_after"]) for e in entries(caller, org)[:3]]
    assert kinds == [("hold_release", 300, 900), ("hold_capture", 0, 600), ("hold", -400, 600)]
    verify_ledger()


def test_expires_at_must_lie_in_the_future(caller, org):
    caller.grant(org, 1000)
    for bad in (datetime.now(UTC) - timedelta(seconds=1), datetime(9999, 12, 31, tzinfo=UTC)):
        r = hold(caller, org, 100, expires_at=bad.isoformat())
        assert r.status_code == 422, r.json
    assert hold(caller, org, 100, expires_at="2030-01-01T00:00:00").status_code == 422  # naive
    assert caller.balance(org)["reserved"] == 0


def test_a_hold_past_its_expiry_is_not_active_and_expire_holds_releases_it_once(
    app, caller, org, verify_ledger
):
    caller.grant(org, 1000)
    soon = datetime.now(UTC) + timedelta(minutes=5)
    h = held(caller, org, 300, expires_at=soon.isoformat())
    capture(caller, org, h["id"], 100)

    clock.pin(soon)
    assert get_hold(caller, org, h["id"])["status"] == "expired"
    assert caller.balance(org)["reserved"] == 0
    for late in (capture(caller, org, h["id"], 1), void(caller, org, h["id"])):
        assert late.status_code == 409
        assert late.json["error"]["details"]["status"] == "expired"

    runner = app.test_cli_runner()
    first = runner.invoke(args=["ledger", "expire-holds"])
    second = runner.invoke(args=["ledger", "expire-holds"])
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "expired 1 holds" in first.output
    assert "expired 0 holds" in second.output
    assert caller.balance(org)["available"] == 900
    assert [e["amount"] for e in entries(caller, org, "hold_release")] == [200]
    verify_ledger()


def test_list_holds_newest_first_by_status(caller, org):
    caller.grant(org, 1000)
    a = held(caller, org, 100)
    b = held(caller, org, 100)
    c = held(caller, org, 100)
    void(caller, org, b["id"])
    capture(caller, org, c["id"], 100)
    path = f"/v1/orgs/{org.id}/holds"

    def ids(query=""):
        r = caller.client.get(path + query, headers=caller.service)
        assert r.status_code == 200, r.json
        return [x["id"] for x in r.json["data"]], r.json["next_cursor"]

    assert ids() == ([c["id"], b["id"], a["id"]], None)
    assert ids("?status=active") == ([a["id"]], None)
    assert ids("?status=voided") == ([b["id"]], None)
    assert ids("?status=captured") == ([c["id"]], None)
    page, cursor = ids("?limit=2")
    assert page == [c["id"], b["id"]]
    assert ids(f"?limit=2&cursor={cursor}") == ([a["id"]], None)
    assert caller.client.get(path + "?status=open", headers=caller.service).status_code == 422


def test_holds_answer_404_for_an_unknown_hold(caller, org):
    caller.grant(org, 100)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert void(caller, org, unknown).status_code == 404
    assert capture(caller, org, unknown, 1).status_code == 404
    r = caller.client.get(f"/v1/orgs/{org.id}/holds/{unknown}", headers=caller.service)
    assert r.status_code == 404


def test_rights(caller, org):
    caller.grant(org, 1000)
    h = held(caller, org, 100)
    other = caller.create_org()
    _, read_key = caller.api_key(org, ["credits:read"])
    _, deduct_key = caller.api_key(org, ["credits:deduct"])
    path = f"/v1/orgs/{org.id}/holds"

    for headers in (caller.user(org, "viewer"), caller.user(org, "owner"), read_key):
        assert hold(caller, org, 10, headers=headers).status_code == 403
        assert capture(caller, org, h["id"], 10, headers=headers).status_code == 403
        assert void(caller, org, h["id"], headers=headers).status_code == 403
    for headers in (caller.user(org, "viewer"), read_key, caller.operator):
        assert caller.client.get(path, headers=headers).status_code == 200
        assert caller.client.get(f"{path}/{h['id']}", headers=headers).status_code == 200

    stranger = caller.user(other, "owner")
    assert caller.client.get(path, headers=stranger).status_code == 404
    assert caller.client.get(f"{path}/{h['id']}", headers=stranger).status_code == 404
    assert void(caller, org, h["id"], headers=stranger).status_code == 404
    # A hold of another organisation is not found through one's own organisation either.
    other_path = f"/v1/orgs/{other.id}/holds/{h['id']}"
    assert caller.client.get(other_path, headers=caller.service).status_code == 404

    assert capture(caller, org, h["id"], 10, headers=deduct_key).status_code == 201
    assert void(caller, org, h["id"], headers=caller.operator).status_code == 200
    assert hold(caller, org, 10, headers=deduct_key).status_code == 201
    assert get_hold(caller, org, h["id"])["status"] == "voided"


def entries(caller, org, kind=None) -> list[dict]:
    query = f"?kind={kind}" if kind else ""
    r = caller.client.get(f"/v1/orgs/{org.id}/transactions{query}", headers=caller.service)
    assert r.status_code == 200, r.json
    return r.json["data"]


def test_metadata_is_checked_like_everywhere(caller, org):
    caller.grant(org, 1000)
    r = hold(caller, org, 100, metadata={"nested": {"a": 1}})
    assert r.status_code == 422
    assert r.json["error"]["code"] == "invalid_metadata"
    assert caller.balance(org)["reserved"] == 0


def test_a_replay_answers_first_even_once_its_expiry_has_passed(caller, org):
    caller.grant(org, 1000)
    soon = datetime.now(UTC) + timedelta(minutes=5)
    order_id = new_order_id()
    first = hold(caller, org, 100, order_id=order_id, expires_at=soon.isoformat())
    clock.pin(soon + timedelta(minutes=1))
    again = hold(caller, org, 100, order_id=order_id, expires_at=soon.isoformat())
    assert (again.status_code, again.json) == (201, first.json)
    assert again.headers["Idempotent-Replayed"] == "true"
