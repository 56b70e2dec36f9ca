"""PortOne top-ups end to end: the API, the real adapter, the fake PortOne API, and
webhooks signed as PortOne signs them. Credit is given once, only after PortOne's own
record says paid for exactly the top-up's amount and currency."""

import pytest
from sqlalchemy import text

from ledger.extensions import db
from tests.helpers import new_order_id


class PortOneTopups:
    """Scenario steps for one organisation's PortOne top-ups."""

    def __init__(self, app, caller, org, portone):
        self.app, self.caller, self.org, self.portone = app, caller, org, portone

    def start(self, amount=50000, currency=None):
        body = {"order_id": new_order_id("po"), "amount": amount, "provider": "portone"}
        if currency:
            body["currency"] = currency
        return self.caller.client.post(
            f"/v1/orgs/{self.org.id}/topups", json=body, headers=self.caller.user(self.org)
        )

    def started(self, amount=50000):
        r = self.start(amount)
        assert r.status_code == 201, r.json
        return r.json

    def confirm(self, topup, client=None):
        return (client or self.caller.client).post(
            f"/v1/orgs/{self.org.id}/topups/{topup['id']}/confirm",
            headers=self.caller.user(self.org),
        )

    def deliver(self, body, headers, client=None):
        return (client or self.caller.client).post(
            "/v1/webhooks/portone", data=body, headers=headers
        )

    def webhook(self, type_, topup, **signing):
        return self.portone.webhook(type_, topup["portone"]["payment_id"], **signing)

    def get(self, topup):
        r = self.caller.client.get(
            f"/v1/orgs/{self.org.id}/topups/{topup['id']}", headers=self.caller.user(self.org)
        )
        assert r.status_code == 200
        return r.json

    def available(self):
        return self.caller.balance(self.org)["available"]

    def topup_entries(self):
        r = self.caller.client.get(
            f"/v1/orgs/{self.org.id}/transactions?kind=topup", headers=self.caller.service
        )
        assert r.status_code == 200
        return r.json["data"]

    def stored_event(self, event_id):
        with self.app.app_context():
            row = db.session.execute(
                text(
                    "SELECT processed_at, attempts, last_error FROM webhook_events "
                    "WHERE provider = 'portone' AND event_id = :id"
                ),
                {"id": event_id},
            ).first()
            db.session.rollback()
        return row


@pytest.fixture
def topups(app, caller, org, portone):
    return PortOneTopups(app, caller, org, portone)


def test_creating_a_topup_answers_what_request_payment_needs_and_calls_nothing(topups, portone):
    r = topups.start(amount=50000)
    assert r.status_code == 201, r.json
    topup = r.json
    assert (topup["status"], topup["provider"], topup["amount"], topup["currency"]) == (
        "pending",
        "portone",
        50000,
        "KRW",
    )
    assert topup["portone"]["payment_id"] == topup["id"]
    assert topup["portone"]["store_id"] == "store-test"
    assert topup["portone"]["channel_key"] == "channel-key-test"
    assert topup["portone"]["order_name"]
    assert (topup["portone"]["total_amount"], topup["portone"]["currency"]) == (50000, "KRW")
    assert "stripe" not in topup
    assert portone.requests == []


def test_usd_is_refused_before_anything(topups, portone):
    r = topups.start(amount=1999, currency="USD")
    assert r.status_code == 422
    assert r.json["error"]["code"] == "unsupported_currency"
    assert portone.requests == []
    listed = topups.caller.client.get(
        f"/v1/orgs/{topups.org.id}/topups", headers=topups.caller.user(topups.org)
    )
    assert listed.json["data"] == []


@pytest.mark.parametrize("order", ["confirm first", "webhook first"])
def test_confirm_and_paid_webhook_credit_once_in_either_order(
    topups, portone, verify_ledger, order
):
    topup = topups.started(50000)
    portone.pay(topup["id"], 50000)
    body, headers = topups.webhook("Transaction.Paid", topup)

    steps = [lambda: topups.confirm(topup), lambda: topups.deliver(body, headers)]
    if order == "webhook first":
        steps.reverse()
    answers = [step() for step in steps]

    assert [a.status_code for a in answers] == [200, 200]
    assert topups.get(topup)["status"] == "paid"
    assert topups.get(topup)["paid_at"] is not None
    assert topups.available() == 50000
    assert len(topups.topup_entries()) == 1
    verify_ledger()


def test_the_same_webhook_delivered_five_times_credits_once(topups, portone, verify_ledger):
    topup = topups.started(30000)
    portone.pay(topup["id"], 30000)
    body, headers = topups.webhook("Transaction.Paid", topup)

    outcomes = [topups.deliver(body, headers).json["outcome"] for _ in range(5)]

    assert outcomes == ["processed"] + ["duplicate"] * 4
    assert topups.stored_event(headers["webhook-id"]).attempts == 5
    assert topups.available() == 30000
    assert len(topups.topup_entries()) == 1
    verify_ledger()


def test_confirms_and_webhooks_at_once_credit_once(
    app, topups, portone, run_threads, verify_ledger
):
    topup = topups.started(70000)
    portone.pay(topup["id"], 70000)
    # Distinct deliveries (PortOne may send Paid more than once) and the same one repeated.
    deliveries = [topups.webhook("Transaction.Paid", topup) for _ in range(3)]
    deliveries += [deliveries[0]] * 2

    def act(i):
        client = app.test_client()
        if i < 3:
            return topups.confirm(topup, client).status_code
        body, headers = deliveries[i - 3]
        return topups.deliver(body, headers, client).status_code

    assert run_threads(8, act) == [200] * 8
    assert topups.get(topup)["status"] == "paid"
    assert topups.available() == 70000
    assert len(topups.topup_entries()) == 1
    verify_ledger()


@pytest.mark.parametrize(
    ("paid_amount", "paid_currency", "words"),
    [(49000, "KRW", "amount 49000"), (50000, "USD", "currency USD")],
)
@pytest.mark.parametrize("path", ["confirm", "webhook"])
def test_a_payment_that_differs_is_flagged_not_credited(
    topups, portone, verify_ledger, paid_amount, paid_currency, words, path
):
    topup = topups.started(50000)
    portone.pay(topup["id"], paid_amount, paid_currency)

    if path == "confirm":
        r = topups.confirm(topup)
    else:
        r = topups.deliver(*topups.webhook("Transaction.Paid", topup))
    assert r.status_code == 200

    flagged = topups.get(topup)
    assert flagged["status"] == "pending"
    assert words in flagged["flagged_reason"]
    assert topups.available() == 0
    assert topups.topup_entries() == []
    verify_ledger()


def test_a_failed_payment_marks_the_topup_failed(topups, portone, verify_ledger):
    topup = topups.started(50000)
    portone.fail(topup["id"], 50000, reason="card declined", pg_code="V801")

    r = topups.deliver(*topups.webhook("Transaction.Failed", topup))

    assert r.status_code == 200
    failed = topups.get(topup)
    assert (failed["status"], failed["failure_code"], failed["failure_message"]) == (
        "failed",
        "V801",
        "card declined",
    )
    assert topups.available() == 0
    verify_ledger()


def test_a_virtual_account_topup_stays_pending_until_its_deposit(topups, portone, verify_ledger):
    topup = topups.started(120000)
    portone.issue_virtual_account(topup["id"], 120000)

    assert (
        topups.deliver(*topups.webhook("Transaction.VirtualAccountIssued", topup)).status_code
        == 200
    )
    assert topups.confirm(topup).json["status"] == "pending"
    assert topups.available() == 0

    portone.pay(topup["id"], 120000)  # the deposit arrives
    assert topups.deliver(*topups.webhook("Transaction.Paid", topup)).status_code == 200

    assert topups.get(topup)["status"] == "paid"
    assert topups.available() == 120000
    verify_ledger()


@pytest.mark.parametrize("fault", ["5xx", "timeout"])
def test_portone_silent_on_the_fetch_means_no_credit_and_a_retry(
    app, topups, portone, verify_ledger, fault
):
    topup = topups.started(50000)
    portone.pay(topup["id"], 50000)
    body, headers = topups.webhook("Transaction.Paid", topup)
    if fault == "5xx":
        portone.fail_next(1, status=503, method="GET")
    else:
        portone.hang_next(1, seconds=app.config["GATEWAY_TIMEOUT_SECONDS"] + 1, method="GET")

    first = topups.deliver(body, headers)

    assert first.status_code >= 500
    assert first.json["error"]["code"] == "gateway_unavailable"
    stored = topups.stored_event(headers["webhook-id"])
    assert stored.processed_at is None
    assert "GatewayUnavailable" in stored.last_error
    assert topups.get(topup)["status"] == "pending"
    assert topups.available() == 0

    retried = topups.deliver(body, headers)  # PortOne retries with the same webhook-id

    assert (retried.status_code, retried.json["outcome"]) == (200, "processed")
    assert topups.stored_event(headers["webhook-id"]).processed_at is not None
    assert topups.available() == 50000
    verify_ledger()


def test_confirm_while_portone_is_down_answers_502_and_changes_nothing(topups, portone):
    topup = topups.started(50000)
    portone.pay(topup["id"], 50000)
    portone.fail_next(1, status=500, method="GET")

    r = topups.confirm(topup)

    assert (r.status_code, r.json["error"]["code"]) == (502, "gateway_unavailable")
    assert topups.get(topup)["status"] == "pending"
    assert topups.available() == 0


def test_a_cancel_at_portone_does_not_take_back_a_credited_topup(topups, portone, verify_ledger):
    """Refunds are the refunds service's business; a sync must never un-credit a top-up."""
    topup = topups.started(50000)
    portone.pay(topup["id"], 50000)
    assert topups.confirm(topup).json["status"] == "paid"

    portone.cancel(topup["id"], 20000)
    assert topups.confirm(topup).json["status"] == "paid"
    portone.cancel(topup["id"])
    assert topups.confirm(topup).json["status"] == "paid"

    assert topups.available() == 50000
    verify_ledger()


def test_a_payment_cancelled_before_we_credited_it_is_never_credited(
    topups, portone, verify_ledger
):
    topup = topups.started(50000)
    portone.pay(topup["id"], 50000)
    portone.cancel(topup["id"])  # all of it went back before we heard of the payment

    assert topups.confirm(topup).json["status"] == "canceled"
    assert topups.available() == 0
    verify_ledger()
