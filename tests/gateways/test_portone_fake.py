"""The fake PortOne keeps to PortOne's published API description and cancel rules, so the
adapter tests that rely on it prove something about the real API."""

import json
import uuid
from pathlib import Path

import pytest
import requests
from jsonschema import Draft202012Validator

from config import TestConfig

SPEC = Path(__file__).resolve().parents[2].parent / "shared/gateway-specs/portone-v2.openapi.json"


def _discriminated(node):
    """OpenAPI's oneOf + discriminator as JSON Schema: choose the variant by the tag, as
    PortOne's SDKs do (plain oneOf would reject variants that differ only by the tag)."""
    if isinstance(node, list):
        return [_discriminated(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _discriminated(v) for k, v in node.items()}
    discriminator = node.get("discriminator")
    if discriminator and "oneOf" in node:
        tag, mapping = discriminator["propertyName"], discriminator["mapping"]
        node = {
            "type": "object",
            "required": [tag],
            "properties": {tag: {"enum": sorted(mapping)}},
            "allOf": [
                {"if": {"properties": {tag: {"const": value}}}, "then": {"$ref": ref}}
                for value, ref in mapping.items()
            ],
        }
    return node


@pytest.fixture(scope="module")
def spec():
    if not SPEC.exists():
        pytest.skip(f"PortOne's OpenAPI description is not beside the repository ({SPEC})")
    return {"components": _discriminated(json.loads(SPEC.read_text())["components"])}


def conforms(spec, schema_name, document):
    validator = Draft202012Validator({**spec, "$ref": f"#/components/schemas/{schema_name}"})
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


@pytest.fixture
def api(portone):
    session = requests.Session()
    session.headers["Authorization"] = f"PortOne {TestConfig.PORTONE_API_SECRET}"

    def call(method, path, **kwargs):
        return session.request(method, portone.url + path, timeout=5, **kwargs)

    return call


def new_id():
    return str(uuid.uuid4())


@pytest.mark.parametrize(
    ("make", "schema"),
    [
        (lambda f, pid: f.ready(pid, 5000), "ReadyPayment"),
        (lambda f, pid: f.pay(pid, 5000), "PaidPayment"),
        (lambda f, pid: f.fail(pid, 5000), "FailedPayment"),
        (lambda f, pid: f.issue_virtual_account(pid, 5000), "VirtualAccountIssuedPayment"),
        (lambda f, pid: f.pay_pending(pid, 5000), "PayPendingPayment"),
        (
            lambda f, pid: (f.issue_virtual_account(pid, 5000), f.deposit(pid)),
            "PaidPayment",
        ),
        (lambda f, pid: (f.pay(pid, 5000), f.open_dispute(pid)), "PaidPayment"),
        (
            lambda f, pid: (
                f.pay(pid, 5000),
                f.open_dispute(pid),
                f.resolve_dispute(pid, lost=True),
            ),
            "CancelledPayment",
        ),
    ],
)
def test_payments_match_the_published_schema(spec, portone, api, make, schema):
    payment_id = new_id()
    make(portone, payment_id)
    r = api("GET", f"/payments/{payment_id}", params={"storeId": TestConfig.PORTONE_STORE_ID})
    assert r.status_code == 200
    conforms(spec, schema, r.json())
    conforms(spec, "Payment", r.json())


def test_partial_cancels_accumulate_until_the_payment_is_cancelled(spec, portone, api):
    payment_id = new_id()
    portone.pay(payment_id, 10000)

    first = api(
        "POST",
        f"/payments/{payment_id}/cancel",
        json={"amount": 3000, "reason": "r1", "currentCancellableAmount": 10000},
    )
    assert first.status_code == 200
    conforms(spec, "CancelPaymentResponse", first.json())
    assert first.json()["cancellation"]["status"] == "SUCCEEDED"
    after_first = api("GET", f"/payments/{payment_id}").json()
    assert after_first["status"] == "PARTIAL_CANCELLED"
    assert after_first["amount"]["cancelled"] == 3000
    conforms(spec, "PartialCancelledPayment", after_first)

    rest = api(
        "POST",
        f"/payments/{payment_id}/cancel",
        json={"reason": "r2", "currentCancellableAmount": 7000},
    )
    assert rest.json()["cancellation"]["totalAmount"] == 7000
    cancelled = api("GET", f"/payments/{payment_id}").json()
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["amount"]["cancelled"] == 10000
    assert [c["totalAmount"] for c in cancelled["cancellations"]] == [3000, 7000]
    conforms(spec, "CancelledPayment", cancelled)

    again = api("POST", f"/payments/{payment_id}/cancel", json={"reason": "r3"})
    assert (again.status_code, again.json()["type"]) == (409, "PAYMENT_ALREADY_CANCELLED")
    conforms(spec, "CancelPaymentError", again.json())


@pytest.mark.parametrize(
    ("body", "status", "type_"),
    [
        (
            {"amount": 1000, "reason": "r", "currentCancellableAmount": 9999},
            409,
            "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN",
        ),
        ({"amount": 10001, "reason": "r"}, 409, "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT"),
        ({"amount": 1000}, 400, "INVALID_REQUEST"),
    ],
)
def test_cancel_refusals(spec, portone, api, body, status, type_):
    payment_id = new_id()
    portone.pay(payment_id, 10000)
    r = api("POST", f"/payments/{payment_id}/cancel", json=body)
    assert (r.status_code, r.json()["type"]) == (status, type_)
    conforms(spec, "CancelPaymentError", r.json())
    assert portone.payment(payment_id)["amount"]["cancelled"] == 0


def test_unpaid_and_unknown_payments_cannot_be_cancelled(portone, api):
    payment_id = new_id()
    portone.issue_virtual_account(payment_id, 10000)
    unpaid = api("POST", f"/payments/{payment_id}/cancel", json={"reason": "r"})
    assert (unpaid.status_code, unpaid.json()["type"]) == (409, "PAYMENT_NOT_PAID")
    unknown = api("POST", f"/payments/{new_id()}/cancel", json={"reason": "r"})
    assert (unknown.status_code, unknown.json()["type"]) == (404, "PAYMENT_NOT_FOUND")


def test_a_requested_cancellation_holds_its_amount_until_settled(spec, portone, api):
    payment_id = new_id()
    portone.pay(payment_id, 10000)
    portone.cancellation_outcomes("REQUESTED")
    r = api(
        "POST",
        f"/payments/{payment_id}/cancel",
        json={"amount": 4000, "reason": "r", "currentCancellableAmount": 10000},
    )
    requested = r.json()["cancellation"]
    assert requested["status"] == "REQUESTED"
    conforms(spec, "RequestedPaymentCancellation", requested)
    assert portone.payment(payment_id)["amount"]["cancelled"] == 0
    stale = api(
        "POST",
        f"/payments/{payment_id}/cancel",
        json={"amount": 4000, "reason": "r", "currentCancellableAmount": 10000},
    )
    assert stale.json()["type"] == "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN"

    portone.settle_cancellation(payment_id, requested["id"], "SUCCEEDED")
    payment = portone.payment(payment_id)
    assert (payment["status"], payment["amount"]["cancelled"]) == ("PARTIAL_CANCELLED", 4000)


def test_a_failed_cancellation_changes_nothing(spec, portone, api):
    payment_id = new_id()
    portone.pay(payment_id, 10000)
    portone.cancellation_outcomes("FAILED")
    r = api("POST", f"/payments/{payment_id}/cancel", json={"reason": "r"})
    conforms(spec, "FailedPaymentCancellation", r.json()["cancellation"])
    payment = portone.payment(payment_id)
    assert (payment["status"], payment["amount"]["cancelled"]) == ("PAID", 0)


def test_wrong_secret_is_unauthorized(spec, portone):
    payment_id = new_id()
    portone.pay(payment_id, 1000)
    r = requests.get(
        f"{portone.url}/payments/{payment_id}",
        headers={"Authorization": "PortOne wrong"},
        timeout=5,
    )
    assert (r.status_code, r.json()["type"]) == (401, "UNAUTHORIZED")
    conforms(spec, "GetPaymentError", r.json())


def test_faults_apply_to_the_next_calls_only(portone, api):
    payment_id = new_id()
    portone.pay(payment_id, 1000)
    portone.fail_next(2, status=502)
    assert [api("GET", f"/payments/{payment_id}").status_code for _ in range(3)] == [502, 502, 200]
    assert len(portone.calls("GET", f"/payments/{payment_id}")) == 3


def test_a_pg_refusal_matches_the_published_error(spec, portone, api):
    payment_id = new_id()
    portone.pay(payment_id, 5000)
    portone.refuse_next_cancel("F113", "취소기간 경과")
    r = api("POST", f"/payments/{payment_id}/cancel", json={"reason": "r"})
    assert r.status_code == 502
    conforms(spec, "CancelPaymentError", r.json())
    assert (r.json()["type"], r.json()["pgCode"]) == ("PG_PROVIDER", "F113")
