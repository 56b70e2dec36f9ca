"""PortOne webhooks: Standard Webhooks signatures decide, and nothing unverified is kept."""

import base64
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from config import TestConfig
from ledger import clock
from ledger.extensions import db
from tests.fakes.portone import sign_webhook

OTHER_SECRET = "whsec_" + base64.b64encode(b"someone-else's-secret").decode()


@pytest.fixture
def paid(portone):
    """A paid payment at PortOne that is none of our top-ups."""
    portone.pay("pay-not-ours", 1000)
    return "pay-not-ours"


def deliver(client, body, headers):
    return client.post("/v1/webhooks/portone", data=body, headers=headers)


def stored(app, event_id):
    with app.app_context():
        count = db.session.execute(
            text(
                "SELECT count(*) FROM webhook_events WHERE provider = 'portone' AND event_id = :id"
            ),
            {"id": event_id},
        ).scalar()
        db.session.rollback()
    return count


def refused(app, client, body, headers):
    r = deliver(client, body, headers)
    assert (r.status_code, r.json["error"]["code"]) == (400, "invalid_signature")
    assert stored(app, headers.get("webhook-id", "")) == 0


def test_a_valid_delivery_is_stored_once(app, client, portone, paid):
    body, headers = portone.webhook("Transaction.Paid", paid)
    r = deliver(client, body, headers)
    # Acknowledged, and kept for `sync-topups` to retry: its top-up may not be recorded yet.
    assert (r.status_code, r.json["outcome"]) == (200, "unmatched")
    assert stored(app, headers["webhook-id"]) == 1


def test_a_forged_signature_is_refused(app, client, portone, paid):
    body, headers = portone.webhook("Transaction.Paid", paid)
    refused(app, client, body, sign_webhook(body, secrets=[OTHER_SECRET]))


@pytest.mark.parametrize("seconds", [-301, 301])
def test_a_timestamp_past_the_tolerance_is_refused(app, client, portone, paid, seconds):
    body, _ = portone.webhook("Transaction.Paid", paid)
    at = int(clock.now().timestamp()) + seconds
    refused(app, client, body, sign_webhook(body, timestamp=at))


def test_a_timestamp_within_the_tolerance_is_accepted(client, portone, paid):
    body, _ = portone.webhook("Transaction.Paid", paid)
    at = int(clock.now().timestamp()) - 290
    assert deliver(client, body, sign_webhook(body, timestamp=at)).status_code == 200


def test_verification_runs_on_the_service_clock(app, client, portone, paid):
    """A delivery signed at the pinned time verifies; one signed at the real time does not."""
    pinned = datetime(2030, 1, 1, tzinfo=UTC)
    clock.pin(pinned)
    body, _ = portone.webhook("Transaction.Paid", paid)
    assert deliver(client, body, sign_webhook(body)).status_code == 200
    real_now = int(datetime.now(UTC).timestamp())
    refused(app, client, body, sign_webhook(body, timestamp=real_now))


def test_a_body_changed_after_signing_is_refused(app, client, portone, paid):
    body, headers = portone.webhook("Transaction.Paid", paid)
    changed = json.loads(body)
    changed["data"]["paymentId"] = "someone-elses-payment"
    refused(app, client, json.dumps(changed).encode(), headers)


def test_a_signature_for_another_id_is_refused(app, client, portone, paid):
    body, headers = portone.webhook("Transaction.Paid", paid)
    refused(app, client, body, {**headers, "webhook-id": "msg_replayed_under_a_new_id"})


def test_a_rotated_secret_with_one_valid_signature_of_two_is_accepted(app, client, portone, paid):
    body, _ = portone.webhook("Transaction.Paid", paid)
    for secrets in (
        [OTHER_SECRET, TestConfig.PORTONE_WEBHOOK_SECRET],
        [TestConfig.PORTONE_WEBHOOK_SECRET, OTHER_SECRET],
    ):
        headers = sign_webhook(body, secrets=secrets)
        assert len(headers["webhook-signature"].split(" ")) == 2
        assert deliver(client, body, headers).status_code == 200
        assert stored(app, headers["webhook-id"]) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-signature": "v1,not-base64!!"},
        {"webhook-signature": "garbage"},
        {"webhook-signature": "v2,AAAA"},
        {"webhook-timestamp": "yesterday"},
        {"webhook-timestamp": ""},
        {"webhook-id": ""},
    ],
)
def test_malformed_headers_are_refused_not_crashed_on(app, client, portone, paid, change):
    body, headers = portone.webhook("Transaction.Paid", paid)
    refused(app, client, body, {**headers, **change})


def test_malformed_entries_beside_a_valid_signature_do_not_hide_it(client, portone, paid):
    body, headers = portone.webhook("Transaction.Paid", paid)
    headers["webhook-signature"] = "garbage v1,%%% " + headers["webhook-signature"]
    assert deliver(client, body, headers).status_code == 200


@pytest.mark.parametrize(
    ("type_", "cancellation_id"),
    [
        ("Transaction.Cancelled", "cancel-1"),
        ("Transaction.PartialCancelled", "cancel-2"),
        ("BillingKey.Issued", None),
        ("Something.New", None),
    ],
)
def test_cancellations_and_unknown_events_are_stored_and_acknowledged(
    app, client, portone, paid, type_, cancellation_id
):
    body, headers = portone.webhook(type_, paid, cancellation_id=cancellation_id)
    r = deliver(client, body, headers)
    expected = "unmatched" if type_.startswith("Transaction.") else "processed"
    assert (r.status_code, r.json["outcome"]) == (200, expected)
    with app.app_context():
        row = db.session.execute(
            text(
                "SELECT type, payload FROM webhook_events "
                "WHERE provider = 'portone' AND event_id = :id"
            ),
            {"id": headers["webhook-id"]},
        ).one()
        db.session.rollback()
    assert row.type == type_
    assert row.payload["data"]["paymentId"] == paid
    assert row.payload["data"].get("cancellationId") == cancellation_id
