"""Webhook endpoints and event lists through the API: who may, what is shown, bad input."""

import pytest


def test_the_secret_is_shown_once_and_endpoints_are_listed_without_it(caller, receiver, endpoints):
    created = endpoints.add("a", events=["topup.succeeded", "balance.low"], description="crm")

    assert created["secret"].startswith("whsec_")
    assert created["status"] == "enabled"
    assert created["events"] == ["balance.low", "topup.succeeded"]
    assert created["org_id"] is None
    listed = caller.client.get("/v1/webhook-endpoints?limit=200", headers=caller.operator).json
    [shown] = [e for e in listed["data"] if e["id"] == created["id"]]
    assert "secret" not in shown
    assert shown == {k: v for k, v in created.items() if k != "secret"}
    one = caller.client.get(f"/v1/webhook-endpoints/{created['id']}", headers=caller.operator)
    assert "secret" not in one.json


def test_patch_changes_types_and_status_and_delete_removes(caller, org, endpoints):
    created = endpoints.add("a", org=org)

    patched = endpoints.patch(created["id"], events=["lot.expiring"], status="disabled")

    assert (patched["events"], patched["status"]) == (["lot.expiring"], "disabled")
    path = f"/v1/webhook-endpoints/{created['id']}"
    assert caller.client.delete(path, headers=caller.operator).status_code == 204
    assert caller.client.get(path, headers=caller.operator).status_code == 404
    assert caller.client.delete(path, headers=caller.operator).status_code == 404
    assert caller.client.get(f"{path}/deliveries", headers=caller.operator).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.com/hook", "events": ["*"]},
        {"url": "not a url", "events": ["*"]},
        {"url": "https://example.com/hook", "events": []},
        {"url": "https://example.com/hook", "events": ["topup.exploded"]},
        {"url": "https://example.com/hook"},
        {"url": "https://example.com/hook", "events": ["*"], "secret": "whsec_mine"},
    ],
)
def test_bad_endpoints_are_422(caller, body):
    r = caller.client.post("/v1/webhook-endpoints", json=body, headers=caller.operator)
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "validation_error"


def test_an_endpoint_for_an_unknown_organisation_is_404(caller):
    body = {
        "url": "https://example.com/hook",
        "events": ["*"],
        "org_id": "00000000-0000-0000-0000-000000000000",
    }
    r = caller.client.post("/v1/webhook-endpoints", json=body, headers=caller.operator)
    assert r.status_code == 404


def test_only_operators_manage_endpoints_and_list_every_event(caller, org):
    body = {"url": "https://example.com/hook", "events": ["*"]}
    for headers in (caller.service, caller.user(org, "owner")):
        assert (
            caller.client.post("/v1/webhook-endpoints", json=body, headers=headers).status_code
            == 403
        )
        assert caller.client.get("/v1/webhook-endpoints", headers=headers).status_code == 403
        assert caller.client.get("/v1/events", headers=headers).status_code == 403
    assert caller.client.get("/v1/webhook-endpoints").status_code == 401


def test_events_are_listed_newest_first_in_pages_with_filters(caller, emit):
    org, other = caller.create_org(), caller.create_org()
    for type_ in ("topup.succeeded", "balance.low", "topup.failed"):
        emit(org, type_)
    emit(other, "topup.succeeded")

    def page(path, headers, **query):
        r = caller.client.get(path, query_string=query, headers=headers)
        assert r.status_code == 200, r.json
        return r.json

    first = page(f"/v1/orgs/{org.id}/events", caller.user(org, "viewer"), limit=2)
    rest = page(
        f"/v1/orgs/{org.id}/events", caller.user(org, "viewer"), cursor=first["next_cursor"]
    )
    assert [e["type"] for e in first["data"] + rest["data"]] == [
        "topup.failed",
        "balance.low",
        "topup.succeeded",
    ]
    assert rest["next_cursor"] is None
    mine = page(f"/v1/orgs/{org.id}/events", caller.service, type="topup.succeeded")
    assert [e["org_id"] for e in mine["data"]] == [org.id]
    everyone = page("/v1/events", caller.operator, type="topup.succeeded", limit=200)
    assert {org.id, other.id} <= {e["org_id"] for e in everyone["data"]}
    only_other = page("/v1/events", caller.operator, org_id=other.id)
    assert [e["type"] for e in only_other["data"]] == ["topup.succeeded"]
    assert (
        caller.client.get(f"/v1/orgs/{org.id}/events", headers=caller.user(other)).status_code
        == 404
    )
    bad = caller.client.get(f"/v1/orgs/{org.id}/events?type=nope", headers=caller.service)
    assert bad.status_code == 422


def test_metrics_show_the_backlog_and_attempts_by_outcome(
    caller, org, receiver, endpoints, emit, deliver
):
    endpoints.add("a", org=org)
    receiver.answer("a", 500)
    emit(org, "balance.low")

    before = caller.client.get("/metrics").get_data(as_text=True)
    deliver()
    after = caller.client.get("/metrics").get_data(as_text=True)

    assert "ledger_events_pending " in before
    assert "ledger_event_oldest_pending_age_seconds " in before
    pending_before = _sample(before, "ledger_events_pending")
    assert pending_before >= 1
    failed = 'ledger_event_delivery_attempts_total{outcome="http_error"}'
    assert _sample(after, failed) == _sample(before, failed) + 1


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0
