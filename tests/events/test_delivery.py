"""Delivering events: signed, retried with the same webhook-id, filtered, redelivered,
and never sent twice by two workers."""

from datetime import timedelta

from sqlalchemy import text

from ledger import clock
from ledger.extensions import db
from ledger.services.event_delivery import deliver_due


def events_of(caller, org, **query) -> list[dict]:
    r = caller.client.get(f"/v1/orgs/{org.id}/events", query_string=query, headers=caller.service)
    assert r.status_code == 200, r.json
    return r.json["data"]


def test_an_event_is_posted_signed_with_the_endpoints_secret(
    caller, org, receiver, endpoints, emit, deliver
):
    endpoints.add("a", org=org)
    emit(org, "topup.succeeded", {"id": "t-1", "amount": 5000})

    run = deliver()

    [event] = events_of(caller, org)
    [got] = receiver.received("a")
    assert got.verified
    assert got.webhook_id == event["id"]
    assert got.body == {
        "id": event["id"],
        "type": "topup.succeeded",
        "created_at": event["created_at"],
        "org_id": org.id,
        "data": {"id": "t-1", "amount": 5000},
    }
    assert (run.attempted, run.delivered) == (1, 1)


def test_retries_after_500s_keep_the_same_webhook_id(
    caller, org, receiver, endpoints, emit, deliver
):
    endpoint = endpoints.add("a", org=org)
    receiver.answer("a", 500, 503)
    emit(org, "balance.low")
    start = clock.now()

    deliver()
    assert deliver().attempted == 0  # the retry is not due yet
    clock.pin(start + timedelta(minutes=1))
    deliver()
    clock.pin(start + timedelta(minutes=10))
    deliver()

    [event] = events_of(caller, org)
    assert receiver.ids("a") == [event["id"]] * 3
    assert all(r.verified for r in receiver.received("a"))
    attempts = endpoints.attempts(endpoint["id"])
    assert [(a["attempt"], a["status_code"]) for a in attempts] == [(3, 200), (2, 503), (1, 500)]
    assert attempts[1]["error"] == "HTTP 503"
    assert deliver().attempted == 0  # delivered: nothing more


def test_an_endpoint_that_never_answers_is_given_up_after_three_days(
    app, org, receiver, endpoints, emit, deliver
):
    endpoint = endpoints.add("down", org=org)
    receiver.answer("down", *[500] * 100)
    emit(org, "balance.low")
    start = clock.now()

    moments = [start]
    while moments[-1] < start + timedelta(days=4):
        clock.pin(moments[-1])
        deliver()
        moments.append(moments[-1] + timedelta(hours=1))

    sent = len(receiver.ids("down"))
    assert 5 < sent < 20  # growing delays, not one per hour
    with app.app_context():
        state = db.session.execute(
            text("SELECT state FROM event_deliveries WHERE endpoint_id = :id"),
            {"id": endpoint["id"]},
        ).scalar_one()
    assert state == "failed"


def test_type_and_organisation_filters_and_disabled_endpoints(
    caller, receiver, endpoints, emit, deliver
):
    acme, other = caller.create_org(), caller.create_org()
    endpoints.add("topups", events=["topup.succeeded", "topup.failed"], org=acme)
    endpoints.add("all-of-acme", events=["*"], org=acme)
    disabled = endpoints.add("disabled", events=["*"], org=acme)
    endpoints.patch(disabled["id"], status="disabled")

    emit(acme, "topup.succeeded")
    emit(acme, "balance.low")
    emit(other, "topup.succeeded")
    deliver()

    acme_events = {e["type"]: e["id"] for e in events_of(caller, acme)}
    assert receiver.ids("topups") == [acme_events["topup.succeeded"]]
    assert sorted(receiver.ids("all-of-acme")) == sorted(acme_events.values())
    assert receiver.ids("disabled") == []


def test_disabling_drops_what_is_pending_and_enabling_sends_what_comes_next(
    caller, org, receiver, endpoints, emit, deliver
):
    endpoint = endpoints.add("a", org=org)
    emit(org, "topup.failed")
    endpoints.patch(endpoint["id"], status="disabled")
    deliver()
    endpoints.patch(endpoint["id"], status="enabled")
    emit(org, "topup.canceled")
    deliver()

    assert [r.body["type"] for r in receiver.received("a")] == ["topup.canceled"]


def test_redelivery_sends_the_event_again_with_the_same_webhook_id(
    caller, org, receiver, endpoints, emit, deliver
):
    endpoint = endpoints.add("a", org=org)
    emit(org, "refund_request.created")
    deliver()
    [event] = events_of(caller, org)

    r = caller.client.post(
        f"/v1/admin/events/{event['id']}/redeliver", json={}, headers=caller.operator
    )
    assert r.status_code == 202, r.json
    assert r.json == {"event_id": event["id"], "endpoint_ids": [endpoint["id"]]}
    deliver()

    assert receiver.ids("a") == [event["id"], event["id"]]
    assert [a["attempt"] for a in endpoints.attempts(endpoint["id"])] == [2, 1]


def test_redelivery_to_one_endpoint_and_its_refusals(
    caller, org, receiver, endpoints, emit, deliver
):
    first = endpoints.add("first", org=org)
    second = endpoints.add("second", org=org)
    only_holds = endpoints.add("holds", events=["hold.expired"], org=org)
    emit(org, "lot.expired")
    deliver()
    [event] = events_of(caller, org)

    def redeliver(body, headers=caller.operator):
        return caller.client.post(
            f"/v1/admin/events/{event['id']}/redeliver", json=body, headers=headers
        )

    assert redeliver({"endpoint_id": second["id"]}).status_code == 202
    assert redeliver({"endpoint_id": only_holds["id"]}).status_code == 409
    assert redeliver({"endpoint_id": "00000000-0000-0000-0000-000000000000"}).status_code == 404
    assert redeliver({}, headers=caller.user(org)).status_code == 403
    deliver()
    assert receiver.ids("first") == [event["id"]]
    assert receiver.ids("second") == [event["id"]] * 2
    assert first["id"] != second["id"]


def test_two_workers_send_each_attempt_once(caller, receiver, endpoints, emit, run_threads, app):
    org = caller.create_org()
    endpoints.add("a", org=org)
    endpoints.add("b", org=org, events=["balance.low"])
    for _ in range(40):
        emit(org, "balance.low")

    def worker(_):
        with app.app_context():
            return deliver_due().attempted

    attempted = run_threads(2, worker)

    event_ids = {e["id"] for e in events_of(caller, org, limit=200)}
    assert sorted(receiver.ids("a")) == sorted(event_ids)
    assert sorted(receiver.ids("b")) == sorted(event_ids)
    assert sum(attempted) == 80
