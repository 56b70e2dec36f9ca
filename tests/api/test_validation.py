"""Bad input: a 4xx with a stable code, and nothing written."""

import pytest

from tests.helpers import new_order_id


@pytest.fixture
def funded(caller, org):
    caller.grant(org, 1000)
    return org


def entry_count(caller, org):
    return len(
        caller.client.get(f"/v1/orgs/{org.id}/transactions", headers=caller.service).json["data"]
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": 10.0}, "amount"),
        ({"amount": "10"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 10**13}, "amount"),
        ({"amount": 10, "currency": "EUR"}, "currency"),
        ({"amount": 10, "currency": "krw"}, "currency"),
        ({"amount": 10, "order_id": "x" * 65}, "order_id"),
        ({"amount": 10, "order_id": "주문-1"}, "order_id"),
        ({"amount": 10, "order_id": ""}, "order_id"),
        ({"amount": 10, "order_id": "has space"}, "order_id"),
        ({"amount": 10, "surprise": 1}, "surprise"),
        ({"order_id": "no-amount"}, "amount"),
    ],
)
def test_bad_deductions_are_422_and_write_nothing(caller, funded, body, field):
    before = entry_count(caller, funded)
    r = caller.client.post(
        f"/v1/orgs/{funded.id}/deductions",
        json={"order_id": new_order_id(), **body},
        headers=caller.service,
    )
    assert r.status_code == 422
    assert r.json["error"]["code"] == "validation_error"
    assert field in r.json["error"]["details"]["fields"]
    assert entry_count(caller, funded) == before
    assert caller.balance(funded)["available"] == 1000


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"', ""])
def test_malformed_bodies_are_4xx(caller, funded, raw):
    r = caller.client.post(
        f"/v1/orgs/{funded.id}/deductions",
        data=raw,
        headers={**caller.service, "Content-Type": "application/json"},
    )
    assert r.status_code in (400, 422)
    assert r.json["error"]["code"] in ("invalid_json", "validation_error")
    assert caller.balance(funded)["available"] == 1000


def test_the_largest_amount_is_accepted_and_refused_for_credit(caller, funded):
    r = caller.deduct(funded, 10**12)
    assert r.status_code == 402


def test_every_error_has_the_envelope_and_a_request_id(caller, org):
    r = caller.client.get("/v1/no-such-route", headers={"X-Request-Id": "trace-123"})
    assert r.status_code == 404
    assert set(r.json["error"]) == {"code", "message", "details"}
    assert r.headers["X-Request-Id"] == "trace-123"


def test_list_limits_are_checked(caller, org):
    for limit in (0, 201, "x"):
        r = caller.client.get(
            f"/v1/orgs/{org.id}/transactions?limit={limit}", headers=caller.service
        )
        assert r.status_code == 422
    r = caller.client.get(f"/v1/orgs/{org.id}/transactions?cursor=%%%", headers=caller.service)
    assert r.status_code == 422


@pytest.mark.parametrize(
    "extra",
    [
        {"description": "nul \x00 inside"},
        {"metadata": {"note": "\x00"}},
        {"metadata": {"\ud800": 1}},
        {"reference": "lone \udc00 surrogate"},
    ],
)
def test_text_the_database_cannot_store_is_422(caller, funded, extra):
    r = caller.deduct(funded, 10, **extra)
    assert r.status_code == 422
    assert set(extra) <= set(r.json["error"]["details"]["fields"])
    assert caller.balance(funded)["available"] == 1000


def test_a_nul_in_a_query_is_422(caller, funded):
    r = caller.client.get(f"/v1/orgs/{funded.id}/transactions?kind=%00", headers=caller.service)
    assert r.status_code == 422
    assert r.json["error"]["details"]["fields"] == {
        "kind": ["contains characters that cannot be stored"]
    }
