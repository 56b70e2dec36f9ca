"""What each PortOne webhook asks the service to do (parsing only, no database)."""

import base64
import json
from urllib.parse import urlencode

import pytest

from config import TestConfig
from ledger.gateways import base as gw
from ledger.gateways.portone import PortOneGateway
from tests.fakes.portone import sign_webhook

ADAPTER = PortOneGateway.from_config(
    {
        "PORTONE_API_SECRET": TestConfig.PORTONE_API_SECRET,
        "PORTONE_WEBHOOK_SECRET": TestConfig.PORTONE_WEBHOOK_SECRET,
        "PORTONE_STORE_ID": TestConfig.PORTONE_STORE_ID,
        "PORTONE_CHANNEL_KEY": TestConfig.PORTONE_CHANNEL_KEY,
        "PORTONE_API_BASE": "http://127.0.0.1:9",
        "GATEWAY_TIMEOUT_SECONDS": 1,
        "PORTONE_AMOUNT_LIMITS": TestConfig.PORTONE_AMOUNT_LIMITS,
    }
)


def parse(payload):
    body = json.dumps(payload).encode()
    return ADAPTER.parse_webhook(body, sign_webhook(body, msg_id="msg_1"))


def event(type_, **data):
    data = {"storeId": "store-test", "paymentId": "pay-1", "transactionId": "tx-1", **data}
    return {"type": type_, "timestamp": "2024-04-25T10:00:00Z", "data": data}


@pytest.mark.parametrize(
    "type_",
    [
        "Transaction.Ready",
        "Transaction.PayPending",
        "Transaction.VirtualAccountIssued",
        "Transaction.Paid",
        "Transaction.Failed",
    ],
)
def test_payment_events_ask_for_the_payment(type_):
    parsed = parse(event(type_))
    assert (parsed.id, parsed.type, parsed.action) == ("msg_1", type_, gw.EVENT_PAYMENT)
    assert parsed.payment == gw.PaymentRef("pay-1")
    assert parsed.refund_id is None


@pytest.mark.parametrize(
    "type_", ["Transaction.Cancelled", "Transaction.PartialCancelled", "Transaction.CancelPending"]
)
def test_cancel_events_name_the_cancellation(type_):
    parsed = parse(event(type_, cancellationId="cancel-9"))
    assert parsed.action == gw.EVENT_REFUND
    assert (parsed.refund_id, parsed.payment) == ("cancel-9", gw.PaymentRef("pay-1"))


@pytest.mark.parametrize(
    "payload",
    [
        event("BillingKey.Issued"),
        event("Transaction.Paid", paymentId=None),
        {"type": "Transaction.Paid"},
        {"data": "not an object"},
    ],
)
def test_anything_else_is_ignored(payload):
    parsed = parse(payload)
    assert (parsed.action, parsed.payment) == (gw.EVENT_IGNORED, None)


def test_unknown_fields_are_ignored():
    payload = event("Transaction.Paid", somethingNew={"nested": [1, 2]})
    payload["addedLater"] = True
    assert parse(payload).action == gw.EVENT_PAYMENT


def test_a_secret_written_without_base64_padding_verifies_the_same():
    padded = "whsec_" + base64.b64encode(b"key-of-13-byt").decode()
    assert padded.endswith("=")
    unpadded = PortOneGateway(
        api_secret="s",
        webhook_secret=padded.rstrip("="),
        store_id="store-test",
        channel_key="k",
        api_base="http://127.0.0.1:9",
        timeout=1,
    )
    body = json.dumps(event("Transaction.Paid")).encode()
    headers = sign_webhook(body, secrets=[padded])
    assert unpadded.parse_webhook(body, headers).action == gw.EVENT_PAYMENT


@pytest.mark.parametrize("type_", ["Transaction.DisputeCreated", "Transaction.DisputeResolved"])
def test_dispute_events_ask_for_the_payment_and_its_disputes(type_):
    parsed = parse(event(type_))
    assert (parsed.action, parsed.payment) == (gw.EVENT_DISPUTE, gw.PaymentRef("pay-1"))


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("Paid", gw.EVENT_PAYMENT),
        ("VirtualAccountIssued", gw.EVENT_PAYMENT),
        ("PartialCancelled", gw.EVENT_REFUND),
        ("Cancelled", gw.EVENT_REFUND),
        ("SomethingNew", gw.EVENT_IGNORED),
    ],
)
@pytest.mark.parametrize("form", [False, True])
def test_legacy_2024_01_01_bodies_are_read_as_json_or_form(status, action, form):
    fields = {"payment_id": "pay-1", "tx_id": "tx-1", "status": status}
    body = urlencode(fields).encode() if form else json.dumps(fields).encode()
    parsed = ADAPTER.parse_webhook(body, sign_webhook(body, msg_id="msg_legacy"))
    assert (parsed.id, parsed.action) == ("msg_legacy", action)
    if action != gw.EVENT_IGNORED:
        assert parsed.payment == gw.PaymentRef("pay-1")
        assert parsed.type == f"Transaction.{status}"
