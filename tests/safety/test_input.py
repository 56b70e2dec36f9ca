"""Input that cannot hurt: hostile JSON, metadata and expiry dates are clear 4xx answers
that change nothing, and a batch's bad item fails alone."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.portone import sign_webhook
from tests.helpers import new_order_id

# Raw JSON text for `metadata`, as a client could send it.
BAD_METADATA = {
    "NaN": '{"m": NaN}',
    "Infinity": '{"m": Infinity}',
    "-Infinity": '{"m": -Infinity}',
    "1e999": '{"m": 1e999}',
    "4,300-digit integer": '{"m": ' + "9" * 4300 + "}",
    "nested object": '{"m": {"deep": {"er": 1}}}',
    "list": '{"m": [1, 2]}',
    "null value": '{"m": null}',
    "51 keys": json.dumps({f"k{i}": i for i in range(51)}),
    "41-character key": json.dumps({"k" * 41: 1}),
    "501-character string": json.dumps({"m": "x" * 501}),
    "not an object": '"just text"',
}


def raw_deduction(metadata: str, order_id: str | None = None) -> str:
    order = json.dumps(order_id or new_order_id())
    return f'{{"order_id": {order}, "amount": 100, "metadata": {metadata}}}'


def post_raw(caller, path: str, body: str):
    """POST JSON text as written (the test client would re-encode a dict)."""
    return caller.client.post(
        path, data=body, content_type="application/json", headers=caller.service
    )


def entries(caller, org, kind=None):
    query = f"?kind={kind}" if kind else ""
    r = caller.client.get(f"/v1/orgs/{org.id}/transactions{query}", headers=caller.service)
    assert r.status_code == 200, r.json
    return r.json["data"]


@pytest.mark.parametrize("value", BAD_METADATA.values(), ids=BAD_METADATA.keys())
def test_bad_metadata_is_422_and_changes_nothing(caller, org, value):
    caller.grant(org, 1_000)
    r = post_raw(caller, f"/v1/orgs/{org.id}/deductions", raw_deduction(value))
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "invalid_metadata"
    assert caller.balance(org)["available"] == 1_000
    assert entries(caller, org, "deduction") == []


def test_long_integers_and_deep_nesting_are_never_500(caller, org):
    caller.grant(org, 1_000)
    huge_amount = f'{{"order_id": "{new_order_id()}", "amount": {"9" * 4300}}}'
    deep = f'{{"order_id": "{new_order_id()}", "amount": 1, "metadata": {"[" * 100_000}'
    for body, status in ((huge_amount, 422), (deep, 400)):
        r = post_raw(caller, f"/v1/orgs/{org.id}/deductions", body)
        assert r.status_code == status, r.json
    assert caller.balance(org)["available"] == 1_000


def test_a_bad_item_fails_alone_in_a_batch(caller, org):
    caller.grant(org, 1_000)
    good = [new_order_id(), new_order_id()]
    body = (
        '{"deductions": ['
        f'{{"order_id": "{good[0]}", "amount": 100, "metadata": {{"campaign": "spring"}}}}, '
        + raw_deduction(BAD_METADATA["NaN"], "bad-nan")
        + ", "
        + raw_deduction(BAD_METADATA["1e999"], "bad-inf")
        + ", "
        f'{{"order_id": "{good[1]}", "amount": 200}}'
        "]}"
    )
    r = post_raw(caller, f"/v1/orgs/{org.id}/deductions/batch", body)
    assert r.status_code == 200, r.json
    results = r.json["results"]
    assert [x["status"] for x in results] == [201, 422, 422, 201]
    assert results[1]["error"]["code"] == "invalid_metadata"
    assert results[2]["order_id"] == "bad-inf"
    assert caller.balance(org)["available"] == 700


def test_stored_metadata_is_shown_on_transactions(caller, org):
    caller.grant(org, 1_000)
    metadata = {"campaign": "spring", "clicks": 12, "ratio": 0.5, "billable": True}
    assert caller.deduct(org, 100, metadata=metadata).status_code == 201
    assert caller.deduct(org, 100).status_code == 201
    newest, older = entries(caller, org, "deduction")
    assert newest["metadata"] is None
    assert older["metadata"] == metadata


def test_an_unknown_kind_is_422(caller, org):
    r = caller.client.get(f"/v1/orgs/{org.id}/transactions?kind=nonsense", headers=caller.service)
    assert r.status_code == 422
    assert "kind" in r.json["error"]["details"]["fields"]


@pytest.mark.parametrize(
    "expires_at",
    [
        (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "9999-01-01T00:00:00+00:00",
        "9999-12-31T23:00:00-05:00",
        "10000-01-01T00:00:00+00:00",
        "2030-01-01T00:00:00",  # no timezone
    ],
)
def test_expires_at_lies_in_the_future_before_year_9999(caller, org, expires_at):
    r = caller.client.post(
        f"/v1/admin/orgs/{org.id}/grants",
        json={"order_id": new_order_id(), "amount": 500, "reason": "r", "expires_at": expires_at},
        headers=caller.operator,
    )
    assert r.status_code == 422, r.json
    assert "expires_at" in r.json["error"]["details"]["fields"]
    assert caller.balance(org)["available"] == 0
    assert caller.deduct(org, 1).status_code == 402


def test_the_latest_allowed_expiry_keeps_reads_and_deductions_working(caller, org):
    caller.grant(org, 500, expires_at=datetime(9998, 12, 31, 23, 59, tzinfo=UTC))
    assert caller.deduct(org, 100).status_code == 201
    assert caller.balance(org)["available"] == 400


def test_bodies_over_max_body_bytes_are_413(app, caller, org):
    too_big = (
        b'{"order_id": "x", "amount": 1, "description": "'
        + b"x" * app.config["MAX_BODY_BYTES"]
        + b'"}'
    )
    for path in (f"/v1/orgs/{org.id}/deductions", "/v1/webhooks/portone"):
        r = caller.client.post(
            path, data=too_big, content_type="application/json", headers=caller.service
        )
        assert r.status_code == 413
        assert r.json["error"]["code"] == "payload_too_large"
        assert r.headers["X-Request-Id"]


@pytest.mark.parametrize("timestamp", ["²", "9" * 5000, "-5", "1e9", " 17"])
def test_malformed_portone_timestamps_are_400(client, timestamp):
    body = b'{"type": "Transaction.Paid", "data": {"paymentId": "p"}}'
    headers = {**sign_webhook(body), "webhook-timestamp": timestamp}
    r = client.post("/v1/webhooks/portone", data=body, headers=headers)
    assert r.status_code == 400
    assert r.json["error"]["code"] == "invalid_signature"


def test_405_names_the_allowed_methods_and_401_the_scheme(caller, org):
    r = caller.client.get(f"/v1/orgs/{org.id}/deductions", headers=caller.service)
    assert r.status_code == 405
    assert "POST" in r.headers["Allow"]
    assert r.json["error"]["code"] == "method_not_allowed"
    r = caller.client.get(f"/v1/orgs/{org.id}/balance")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"


HOSTILE_BODIES = {
    "1e999": '{"order_id": "h-inf", "amount": 1e999}',
    "4,300-digit integer": '{"order_id": "h-long", "amount": ' + "9" * 4300 + "}",
    "NaN": '{"order_id": "h-nan", "amount": NaN}',
    "nested 100,000 deep": '{"order_id": "h-deep", "metadata": ' + "[" * 100_000,
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_every_route_parses_hostile_json_safely(caller, org, body):
    """Holds, captures and webhook endpoints parse bodies as deductions do: 4xx, never
    500, nothing written."""
    caller.grant(org, 1_000)
    hold = caller.client.post(
        f"/v1/orgs/{org.id}/holds",
        json={"order_id": new_order_id(), "amount": 100},
        headers=caller.service,
    ).json
    paths = [
        f"/v1/orgs/{org.id}/holds",
        f"/v1/orgs/{org.id}/holds/{hold['id']}/captures",
        "/v1/webhook-endpoints",
    ]
    for path in paths:
        headers = caller.operator if path.startswith("/v1/webhook") else caller.service
        r = caller.client.post(path, data=body, content_type="application/json", headers=headers)
        assert 400 <= r.status_code < 500, (path, r.status_code, r.json)
    balance = caller.balance(org)
    assert (balance["available"], balance["reserved"]) == (900, 100)
