"""Holds under real threads against the real database: never overdrawn, one effect each."""

from datetime import UTC, datetime, timedelta

from ledger import clock
from tests.helpers import new_order_id
from tests.hold_steps import capture, get_hold, held, hold, void


def test_20_concurrent_holds_of_100_against_1000_exactly_10_succeed(
    app, caller, org, run_threads, verify_ledger
):
    caller.grant(org, 1000)

    statuses = run_threads(
        20, lambda i: hold(caller, org, 100, client=app.test_client()).status_code
    )

    assert statuses.count(201) == 10
    assert statuses.count(402) == 10
    balance = caller.balance(org)
    assert (balance["available"], balance["reserved"]) == (0, 1000)
    verify_ledger()


def test_holds_and_deductions_together_never_overdraw(app, caller, org, run_threads, verify_ledger):
    caller.grant(org, 1000)

    def spend(i):
        client = app.test_client()
        if i % 2:
            return caller.deduct(org, 100, client=client).status_code
        return hold(caller, org, 100, client=client).status_code

    statuses = run_threads(30, spend)

    assert statuses.count(201) == 10
    balance = caller.balance(org)
    assert balance["available"] == 0
    assert balance["reserved"] == 100 * sum(
        1 for i, s in enumerate(statuses) if s == 201 and i % 2 == 0
    )
    verify_ledger()


def test_concurrent_captures_and_voids_on_different_holds_never_overdraw(
    app, caller, org, run_threads, verify_ledger
):
    caller.grant(org, 1000)
    holds = [held(caller, org, 100) for _ in range(8)]

    def work(i):
        client = app.test_client()
        h = holds[i % 8]
        if i < 8:  # the first of each pair captures from its hold, three times
            return [capture(caller, org, h["id"], 30, client=client).status_code for _ in range(3)]
        return [void(caller, org, h["id"], client=client).status_code]

    results = run_threads(16, work)

    captured = sum(get_hold(caller, org, h["id"])["captured"] for h in holds)
    for h, captures, voids in zip(holds, results[:8], results[8:], strict=True):
        now = get_hold(caller, org, h["id"])
        assert now["status"] == "voided"
        assert now["captured"] == 30 * captures.count(201)
        assert set(captures) <= {201, 409}
        assert voids == [200]
    balance = caller.balance(org)
    assert balance["reserved"] == 0
    assert balance["available"] == 1000 - captured
    verify_ledger()


def test_concurrent_captures_of_one_hold_never_exceed_it(
    app, caller, org, run_threads, verify_ledger
):
    caller.grant(org, 1000)
    h = held(caller, org, 100)

    statuses = run_threads(
        10, lambda i: capture(caller, org, h["id"], 30, client=app.test_client()).status_code
    )

    assert statuses.count(201) == 3
    assert statuses.count(422) == 7
    assert get_hold(caller, org, h["id"])["remaining"] == 10
    verify_ledger()


def test_concurrent_duplicate_captures_make_one_capture(
    app, caller, org, run_threads, verify_ledger
):
    caller.grant(org, 1000)
    h = held(caller, org, 500)
    order_id = new_order_id("cap")

    def send(i):
        r = capture(caller, org, h["id"], 100, order_id=order_id, client=app.test_client())
        return r.status_code, r.json

    answers = run_threads(10, send)

    assert {status for status, _ in answers} == {201}
    assert len({body["id"] for _, body in answers}) == 1
    assert get_hold(caller, org, h["id"])["captured"] == 100
    verify_ledger()


def test_two_expire_holds_running_together_release_each_hold_once(
    app, caller, org, run_threads, verify_ledger
):
    caller.grant(org, 1000)
    soon = datetime.now(UTC) + timedelta(minutes=5)
    for _ in range(5):
        h = held(caller, org, 100, expires_at=soon.isoformat())
        capture(caller, org, h["id"], 10)
    clock.pin(soon + timedelta(seconds=1))

    runner = app.test_cli_runner()
    codes = run_threads(2, lambda i: runner.invoke(args=["ledger", "expire-holds"]).exit_code)

    assert codes == [0, 0]
    balance = caller.balance(org)
    assert (balance["available"], balance["reserved"]) == (950, 0)
    r = caller.client.get(
        f"/v1/orgs/{org.id}/transactions?kind=hold_release", headers=caller.service
    )
    assert [e["amount"] for e in r.json["data"]] == [90] * 5
    verify_ledger()


def test_ten_concurrent_voids_of_one_hold_give_back_once(
    app, caller, org, run_threads, verify_ledger
):
    caller.grant(org, 1000)
    h = held(caller, org, 400)
    capture(caller, org, h["id"], 100)

    statuses = run_threads(
        10, lambda i: void(caller, org, h["id"], client=app.test_client()).status_code
    )

    assert sorted(statuses) == [200] + [409] * 9
    balance = caller.balance(org)
    assert (balance["available"], balance["reserved"]) == (900, 0)
    r = caller.client.get(
        f"/v1/orgs/{org.id}/transactions?kind=hold_release", headers=caller.service
    )
    assert [e["amount"] for e in r.json["data"]] == [300]
    verify_ledger()


def test_batches_and_holds_together_never_overdraw(app, caller, org, run_threads, verify_ledger):
    caller.grant(org, 1000)

    def spend(i):
        client = app.test_client()
        if i % 2:
            items = [{"order_id": new_order_id("b"), "amount": 10} for _ in range(10)]
            r = client.post(
                f"/v1/orgs/{org.id}/deductions/batch",
                json={"deductions": items},
                headers=caller.service,
            )
            return [item["status"] for item in r.json["results"]]
        return [hold(caller, org, 100, client=client).status_code]

    results = run_threads(12, spend)

    spent = 10 * sum(s == 201 for i, statuses in enumerate(results) if i % 2 for s in statuses)
    reserved = 100 * sum(
        s == 201 for i, statuses in enumerate(results) if not i % 2 for s in statuses
    )
    balance = caller.balance(org)
    assert spent + reserved == 1000
    assert (balance["available"], balance["reserved"]) == (0, reserved)
    verify_ledger()
