"""`lot.expiring` once per lot, LOT_EXPIRY_WARNING_DAYS ahead; `lot.expired` when it expires."""

from datetime import UTC, datetime, timedelta


def events_of(caller, org, type_):
    r = caller.client.get(
        f"/v1/orgs/{org.id}/events", query_string={"type": type_}, headers=caller.service
    )
    assert r.status_code == 200, r.json
    return r.json["data"]


def test_expiring_lots_are_warned_of_once_whoever_runs_the_job(
    app, caller, org, run_threads, receiver, endpoints, deliver
):
    endpoints.add("a", events=["lot.expiring"], org=org)
    now = datetime.now(UTC)
    soon = caller.grant(org, 300, expires_at=now + timedelta(days=3))
    caller.grant(org, 200, expires_at=now + timedelta(days=30))  # outside the window
    caller.grant(org, 100)  # never expires
    caller.deduct(org, 50)  # from the soonest lot

    runner = app.test_cli_runner()
    results = run_threads(3, lambda i: runner.invoke(args=["ledger", "expire-lots"]))
    assert [r.exit_code for r in results] == [0, 0, 0], [r.output for r in results]
    assert runner.invoke(args=["ledger", "expire-lots"]).exit_code == 0
    deliver()

    [event] = events_of(caller, org, "lot.expiring")
    [lot] = [lot for lot in caller.balance(org)["lots"] if lot["id"] == soon["id"]]
    assert event["data"] == {**lot, "currency": "KRW"}
    assert event["data"]["remaining"] == 250
    assert receiver.ids("a") == [event["id"]]
