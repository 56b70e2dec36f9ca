"""The PortOne adapter against the fake PortOne API: what it asks, how it reads the
answers, and how PortOne's refusals and silences reach the rest of the service."""

import uuid

import pytest

from config import TestConfig
from ledger.gateways import base as gw
from ledger.gateways.portone import PortOneGateway


@pytest.fixture
def adapter(portone):
    """The adapter with a short timeout, so that hanging tests stay fast."""
    return make_adapter(portone)


def make_adapter(portone, **overrides):
    settings = {
        "api_secret": TestConfig.PORTONE_API_SECRET,
        "webhook_secret": TestConfig.PORTONE_WEBHOOK_SECRET,
        "store_id": TestConfig.PORTONE_STORE_ID,
        "channel_key": TestConfig.PORTONE_CHANNEL_KEY,
        "api_base": portone.url,
        "timeout": 0.5,
        **overrides,
    }
    return PortOneGateway(**settings)


def new_payment_id():
    return str(uuid.uuid4())


def test_create_payment_calls_nothing_and_answers_what_the_browser_needs(portone, adapter):
    topup_id = uuid.uuid4()
    request = gw.PaymentRequest(
        topup_id=topup_id,
        order_id="o-1",
        amount=50000,
        currency="KRW",
        order_name="Prepaid credit o-1",
        organization=gw.OrganizationRef(uuid.uuid4(), "Acme", "b@example.com", None),
    )
    created = adapter.create_payment(request)
    assert created.payment_id == str(topup_id)
    assert created.client == {
        "payment_id": str(topup_id),
        "store_id": TestConfig.PORTONE_STORE_ID,
        "channel_key": TestConfig.PORTONE_CHANNEL_KEY,
        "order_name": "Prepaid credit o-1",
        "total_amount": 50000,
        "currency": "KRW",
    }
    assert portone.requests == []


def test_fetch_asks_with_the_secret_and_store(portone, adapter):
    payment_id = new_payment_id()
    portone.pay(payment_id, 1000)
    adapter.fetch_payment(gw.PaymentRef(payment_id))
    [call] = portone.calls("GET", f"/payments/{payment_id}")
    assert call.headers["authorization"] == f"PortOne {TestConfig.PORTONE_API_SECRET}"
    assert call.query == {"storeId": [TestConfig.PORTONE_STORE_ID]}


@pytest.mark.parametrize(
    ("setup", "status", "gateway_status"),
    [
        (lambda f, pid: f.ready(pid, 30000), gw.PAYMENT_PENDING, "READY"),
        (
            lambda f, pid: f.issue_virtual_account(pid, 30000),
            gw.PAYMENT_PENDING,
            "VIRTUAL_ACCOUNT_ISSUED",
        ),
        # Approved by the customer, not yet confirmed by the PG: not paid yet.
        (lambda f, pid: f.pay_pending(pid, 30000), gw.PAYMENT_PENDING, "PAY_PENDING"),
        (lambda f, pid: f.fail(pid, 30000), gw.PAYMENT_FAILED, "FAILED"),
        (lambda f, pid: f.pay(pid, 30000), gw.PAYMENT_PAID, "PAID"),
    ],
)
def test_statuses(portone, adapter, setup, status, gateway_status):
    payment_id = new_payment_id()
    setup(portone, payment_id)
    payment = adapter.fetch_payment(gw.PaymentRef(payment_id))
    assert (payment.status, payment.gateway_status) == (status, gateway_status)
    assert (payment.id, payment.topup_id) == (payment_id, payment_id)
    assert (payment.amount, payment.currency, payment.refunded_amount) == (30000, "KRW", 0)
    assert (payment.paid_at is not None) == (status == gw.PAYMENT_PAID)


def test_a_failed_payment_says_why(portone, adapter):
    payment_id = new_payment_id()
    portone.fail(payment_id, 1000, reason="insufficient balance", pg_code="V123")
    payment = adapter.fetch_payment(gw.PaymentRef(payment_id))
    assert (payment.failure_code, payment.failure_message) == ("V123", "insufficient balance")


def test_cancels_after_payment_are_refunds_not_failures(portone, adapter):
    payment_id = new_payment_id()
    portone.pay(payment_id, 30000)
    portone.cancel(payment_id, 10000)
    partial = adapter.fetch_payment(gw.PaymentRef(payment_id))
    assert (partial.status, partial.gateway_status) == (gw.PAYMENT_PAID, "PARTIAL_CANCELLED")
    assert (partial.amount, partial.refunded_amount) == (30000, 10000)
    assert partial.paid_at is not None

    portone.cancel(payment_id)
    full = adapter.fetch_payment(gw.PaymentRef(payment_id))
    assert (full.status, full.gateway_status) == (gw.PAYMENT_CANCELED, "CANCELLED")
    assert (full.amount, full.refunded_amount) == (30000, 30000)


def test_portone_errors_keep_their_type(portone):
    wrong_secret = make_adapter(portone, api_secret="not-the-secret")
    payment_id = new_payment_id()
    portone.pay(payment_id, 1000)
    with pytest.raises(gw.GatewayError) as unauthorized:
        wrong_secret.fetch_payment(gw.PaymentRef(payment_id))
    assert (unauthorized.value.gateway_code, unauthorized.value.gateway_status) == (
        "UNAUTHORIZED",
        401,
    )
    assert not isinstance(unauthorized.value, gw.GatewayUnavailable)

    with pytest.raises(gw.GatewayError) as missing:
        make_adapter(portone).fetch_payment(gw.PaymentRef(new_payment_id()))
    assert missing.value.gateway_code == "PAYMENT_NOT_FOUND"


@pytest.mark.parametrize("fault", ["503", "502 with a PortOne body", "hang", "refused"])
def test_no_answer_is_unavailable(portone, adapter, fault):
    payment_id = new_payment_id()
    portone.pay(payment_id, 1000)
    if fault == "503":
        portone.fail_next(1, status=503)
    elif fault == "502 with a PortOne body":
        portone.fail_next(1, status=502, body=b'{"type": "INTERNAL", "message": "upstream down"}')
    elif fault == "hang":
        portone.hang_next(1, seconds=2)
    else:
        adapter = make_adapter(portone, api_base="http://127.0.0.1:9")  # nothing listens
    with pytest.raises(gw.GatewayUnavailable):
        adapter.fetch_payment(gw.PaymentRef(payment_id))
    # The next call gets the answer.
    assert make_adapter(portone).fetch_payment(gw.PaymentRef(payment_id)).status == gw.PAYMENT_PAID


def refund(adapter, payment_id, amount, refundable_before, key=None, reason="customer asked"):
    return adapter.refund(
        payment_id=payment_id,
        amount=amount,
        currency="KRW",
        idempotency_key=key or f"refund-{uuid.uuid4()}",
        reason=reason,
        refundable_before=refundable_before,
    )


def test_partial_refunds_accumulate(portone, adapter):
    payment_id = new_payment_id()
    portone.pay(payment_id, 30000)
    first = refund(adapter, payment_id, 10000, refundable_before=30000)
    second = refund(adapter, payment_id, 20000, refundable_before=20000)
    assert (first.status, first.amount, first.currency) == (gw.REFUND_SUCCEEDED, 10000, "KRW")
    assert second.status == gw.REFUND_SUCCEEDED
    payment = portone.payment(payment_id)
    assert (payment["status"], payment["amount"]["cancelled"]) == ("CANCELLED", 30000)
    assert [c["id"] for c in payment["cancellations"]] == [first.id, second.id]
    [call, _] = portone.calls("POST", f"/payments/{payment_id}/cancel")
    assert call.body["amount"] == 10000
    assert call.body["currentCancellableAmount"] == 30000
    # The tag comes first, so a PG that keeps a short message cannot cut it off.
    assert call.body["reason"].startswith("[ref refund-")
    assert call.body["reason"].endswith("customer asked")


def test_two_refunds_from_the_same_belief_cannot_both_pass(portone, adapter):
    payment_id = new_payment_id()
    portone.pay(payment_id, 30000)
    refund(adapter, payment_id, 20000, refundable_before=30000)
    with pytest.raises(gw.GatewayError) as stale:
        refund(adapter, payment_id, 20000, refundable_before=30000)
    assert stale.value.gateway_code == "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN"
    with pytest.raises(gw.GatewayError) as too_much:
        refund(adapter, payment_id, 20000, refundable_before=10000)
    assert too_much.value.gateway_code == "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT"
    assert portone.payment(payment_id)["amount"]["cancelled"] == 20000


@pytest.mark.parametrize("amount", [10000, 30000])
def test_a_retry_after_a_lost_answer_finds_the_first_cancel(portone, adapter, amount):
    payment_id = new_payment_id()
    portone.pay(payment_id, 30000)
    portone.hang_next(1, seconds=2, method="POST", apply_first=True)
    with pytest.raises(gw.GatewayUnavailable):
        refund(adapter, payment_id, amount, refundable_before=30000, key="rr-1")

    again = refund(adapter, payment_id, amount, refundable_before=30000, key="rr-1")
    payment = portone.payment(payment_id)
    assert [c["id"] for c in payment["cancellations"]] == [again.id]
    assert (again.status, again.amount, payment["amount"]["cancelled"]) == (
        gw.REFUND_SUCCEEDED,
        amount,
        amount,
    )
    # Another request from the same stale belief is still refused.
    with pytest.raises(gw.GatewayError):
        refund(adapter, payment_id, amount, refundable_before=30000, key="rr-2")


def test_a_requested_cancellation_is_pending_until_portone_settles_it(portone, adapter):
    payment_id = new_payment_id()
    portone.pay(payment_id, 30000)
    portone.cancellation_outcomes("REQUESTED", "FAILED")
    requested = refund(adapter, payment_id, 10000, refundable_before=30000)
    assert requested.status == gw.REFUND_PENDING
    assert adapter.fetch_refund(requested.id, payment_id=payment_id).status == gw.REFUND_PENDING

    portone.settle_cancellation(payment_id, requested.id, "SUCCEEDED")
    settled = adapter.fetch_refund(requested.id, payment_id=payment_id)
    assert (settled.status, settled.amount, settled.currency) == (gw.REFUND_SUCCEEDED, 10000, "KRW")

    failed = refund(adapter, payment_id, 5000, refundable_before=20000)
    assert (failed.status, failed.failure_message is not None) == (gw.REFUND_FAILED, True)
    assert portone.payment(payment_id)["amount"]["cancelled"] == 10000


def test_refusals_of_a_refund(portone, adapter):
    unpaid = new_payment_id()
    portone.issue_virtual_account(unpaid, 30000)
    with pytest.raises(gw.GatewayError) as not_paid:
        refund(adapter, unpaid, 1000, refundable_before=30000)
    assert not_paid.value.gateway_code == "PAYMENT_NOT_PAID"

    cancelled = new_payment_id()
    portone.pay(cancelled, 30000)
    portone.cancel(cancelled)
    with pytest.raises(gw.GatewayError) as already:
        refund(adapter, cancelled, 1000, refundable_before=0)
    assert already.value.gateway_code == "PAYMENT_ALREADY_CANCELLED"

    with pytest.raises(gw.GatewayError) as unknown:
        adapter.fetch_refund("no-such-cancellation", payment_id=cancelled)
    assert unknown.value.gateway_code == "CANCELLATION_NOT_FOUND"


def test_a_pg_refusal_is_an_answer_with_the_pg_code_and_message(portone, adapter):
    payment_id = new_payment_id()
    portone.pay(payment_id, 30000)
    portone.refuse_next_cancel("F113", "취소기간 경과")
    with pytest.raises(gw.GatewayError) as refused:
        refund(adapter, payment_id, 10000, refundable_before=30000)
    assert not isinstance(refused.value, gw.GatewayUnavailable)
    assert (refused.value.gateway_code, refused.value.message) == ("F113", "취소기간 경과")
    assert portone.payment(payment_id)["amount"]["cancelled"] == 0


def test_a_virtual_account_refund_names_the_bank_account(portone, adapter):
    payment_id = new_payment_id()
    portone.issue_virtual_account(payment_id, 30000)
    portone.deposit(payment_id)
    assert adapter.fetch_payment(gw.PaymentRef(payment_id)).bank_transfer
    with pytest.raises(gw.GatewayError) as missing:
        refund(adapter, payment_id, 10000, refundable_before=30000)
    assert missing.value.gateway_code == "INVALID_REQUEST"
    account = gw.RefundAccount(bank="SHINHAN", number="110-123-456789", holder_name="홍길동")
    done = adapter.refund(
        payment_id=payment_id,
        amount=10000,
        currency="KRW",
        idempotency_key="refund-va",
        reason="unused credit",
        refundable_before=30000,
        refund_account=account,
    )
    assert done.status == gw.REFUND_SUCCEEDED
    sent = portone.calls("POST", f"/payments/{payment_id}/cancel")[-1].body
    assert sent["refundAccount"] == {
        "bank": "SHINHAN",
        "number": "110-123-456789",
        "holderName": "홍길동",
    }


def test_a_long_reason_is_capped_and_a_retry_still_finds_its_cancel(portone, adapter):
    payment_id = new_payment_id()
    portone.pay(payment_id, 30000)
    portone.hang_next(1, seconds=2, method="POST", apply_first=True)
    long_reason = "a very long explanation " * 20
    with pytest.raises(gw.GatewayUnavailable):
        refund(
            adapter, payment_id, 10000, refundable_before=30000, key="k-long", reason=long_reason
        )
    again = refund(
        adapter, payment_id, 10000, refundable_before=30000, key="k-long", reason=long_reason
    )
    assert again.status == gw.REFUND_SUCCEEDED
    [cancellation] = portone.payment(payment_id)["cancellations"]
    assert again.id == cancellation["id"]
    assert len(portone.calls("POST", f"/payments/{payment_id}/cancel")[0].body["reason"]) <= 100


def test_a_lost_chargeback_is_the_disputes_not_a_refund(portone, adapter):
    payment_id = new_payment_id()
    portone.pay(payment_id, 30000)
    refund(adapter, payment_id, 5000, refundable_before=30000)
    portone.open_dispute(payment_id)
    [opened] = adapter.fetch_disputes(payment_id=payment_id, dispute_id=None)
    assert (opened.status, opened.amount, opened.currency) == (gw.DISPUTE_OPEN, 25000, "KRW")
    portone.resolve_dispute(payment_id, lost=True)
    [lost] = adapter.fetch_disputes(payment_id=payment_id, dispute_id=None)
    assert (lost.id, lost.status, lost.amount) == (opened.id, gw.DISPUTE_LOST, 25000)
    payment = adapter.fetch_payment(gw.PaymentRef(payment_id))
    assert payment.refunded_amount == 5000  # the chargeback is not a refund


def test_a_won_dispute_takes_nothing(portone, adapter):
    payment_id = new_payment_id()
    portone.pay(payment_id, 30000)
    portone.open_dispute(payment_id)
    portone.resolve_dispute(payment_id, lost=False)
    [won] = adapter.fetch_disputes(payment_id=payment_id, dispute_id=None)
    assert (won.status, won.amount) == (gw.DISPUTE_WON, 30000)
