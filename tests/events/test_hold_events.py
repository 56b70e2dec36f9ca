"""`hold.expired`: once per hold that expiry gave credit back from, whoever runs the job."""

from datetime import UTC, datetime, timedelta

from ledger import clock
from tests.hold_steps import capture, get_hold, held, void


def events_of(caller, org, type_):
    r = caller.client.get(
        f"/v1/orgs/{org.id}/events", query_string={"type": type_}, headers=caller.service
    )
    assert r.status_code == 200, r.json
    return r.json["data"]


def test_expired_holds_are_told_once_and_voided_ones_not_at_all(
    app, caller, org, run_threads, receiver, endpoints, deliver
):
    endpoints.add("a", events=["hold.expired"], org=org)
    caller.grant(org, 1000)
    soon = datetime.now(UTC) + timedelta(minutes=5)
    expiring = held(caller, org, 300, expires_at=soon.isoformat())
    capture(caller, org, expiring["id"], 100)
    voided = held(caller, org, 200, expires_at=soon.isoformat())
    void(caller, org, voided["id"])

    clock.pin(soon + timedelta(seconds=1))
    runner = app.test_cli_runner()
    results = run_threads(2, lambda i: runner.invoke(args=["ledger", "expire-holds"]))
    assert [r.exit_code for r in results] == [0, 0], [r.output for r in results]
    deliver()

    [event] = events_of(caller, org, "hold.expired")
    assert event["data"] == get_hold(caller, org, expiring["id"])
    assert (event["data"]["status"], event["data"]["captured"]) == ("expired", 100)
    assert receiver.ids("a") == [event["id"]]
