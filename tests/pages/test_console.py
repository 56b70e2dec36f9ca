"""The operators' console in a browser: deciding refunds from the queue, organisations
(search, overview, grants) and the ledger's health. The API is asked afterwards, so the
console is shown to do what the API would have done."""

import uuid

from ledger.services.event_delivery import deliver_due
from tests.conftest import unique
from tests.gateways.refund_steps import (
    approve,
    paid_stripe_topup,
    refund_request,
    request_refund,
)
from tests.hold_steps import capture, held


def _pending_refund(caller, live_stripe, org, paid=50000, spent=8000, refund=20000):
    topup = paid_stripe_topup(caller, live_stripe, org, paid)
    caller.deduct(org, spent)
    return request_refund(caller, org, topup["id"], refund)


def _queue_row(page, request_id):
    return page.locator(f'#refund-queue tr[data-id="{request_id}"]')


def test_the_queue_shows_pending_requests_with_what_an_operator_needs(
    operator_page, caller, live_stripe, base_url
):
    name = unique("Queue Shop")
    org = caller.create_org(name=name)
    asked = _pending_refund(caller, live_stripe, org)

    operator_page.goto(f"{base_url}/console/")
    row = _queue_row(operator_page, asked["id"])
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "pending"
    assert name in cells[1]
    assert cells[2].split() == ["₩50,000", "stripe", "·", asked["topup_id"][:8]]
    assert cells[4] == "7"  # days left in the window, paid just now
    assert cells[5:8] == ["₩20,000", "₩42,000", "₩8,000"]  # requested, refundable, consumed
    assert cells[8] == "unused credit"


def test_an_operator_approves_from_the_queue_and_the_api_agrees(
    operator_page, caller, live_stripe, base_url, verify_ledger
):
    name = unique("Approve Shop")
    org = caller.create_org(name=name)
    asked = _pending_refund(caller, live_stripe, org)

    operator_page.goto(f"{base_url}/console/")
    _queue_row(operator_page, asked["id"]).get_by_role("link", name="Approve", exact=True).click()
    assert operator_page.locator("h1").inner_text() == "Approve the refund"
    # The confirmation step changes nothing by itself.
    assert refund_request(caller, org, asked["id"])["status"] == "pending"

    operator_page.get_by_label("Note (optional)").fill("customer closed the campaign")
    operator_page.get_by_role("button", name="Confirm approval").click()
    operator_page.wait_for_url(f"{base_url}/console/refunds/{asked['id']}")
    assert operator_page.locator("#refund-status").inner_text() == "succeeded"
    trail = operator_page.locator("#audit-trail tbody").inner_text()
    assert "approved" in trail
    assert "customer closed the campaign" in trail

    decided = refund_request(caller, org, asked["id"])
    assert decided["status"] == "succeeded"
    assert decided["decided_by"] == "dev-operator"
    assert decided["decision_note"] == "customer closed the campaign"
    assert len(live_stripe.requests_to("POST", "/v1/refunds")) >= 1
    assert caller.balance(org)["available"] == 50000 - 8000 - 20000
    assert caller.balance(org)["held"] == 0
    verify_ledger()


def test_an_operator_rejects_from_the_queue_and_the_api_agrees(
    operator_page, caller, live_stripe, base_url, verify_ledger
):
    name = unique("Reject Shop")
    org = caller.create_org(name=name)
    asked = _pending_refund(caller, live_stripe, org)
    refunds_before = len(live_stripe.requests_to("POST", "/v1/refunds"))

    operator_page.goto(f"{base_url}/console/")
    _queue_row(operator_page, asked["id"]).get_by_role("link", name="Reject", exact=True).click()
    assert operator_page.locator("h1").inner_text() == "Reject the refund"
    operator_page.get_by_label("Reason for rejecting").fill("credit was used for a campaign")
    operator_page.get_by_role("button", name="Confirm rejection").click()
    operator_page.wait_for_url(f"{base_url}/console/refunds/{asked['id']}")
    assert operator_page.locator("#refund-status").inner_text() == "rejected"

    decided = refund_request(caller, org, asked["id"])
    assert decided["status"] == "rejected"
    assert decided["decision_note"] == "credit was used for a campaign"
    assert len(live_stripe.requests_to("POST", "/v1/refunds")) == refunds_before
    assert caller.balance(org)["available"] == 50000 - 8000  # the hold went back
    assert caller.balance(org)["held"] == 0
    verify_ledger()


def test_a_decision_without_the_csrf_token_is_refused_and_changes_nothing(
    operator_page, caller, live_stripe, base_url
):
    name = unique("Forged Shop")
    org = caller.create_org(name=name)
    asked = _pending_refund(caller, live_stripe, org)

    request = operator_page.context.request
    for decision, form in (("approve", {"note": "x"}), ("reject", {"reason": "x"})):
        answer = request.post(f"{base_url}/console/refunds/{asked['id']}/{decision}", form=form)
        assert answer.status == 403
    assert refund_request(caller, org, asked["id"])["status"] == "pending"


def test_a_reject_without_a_reason_is_refused_like_the_api_refuses_it(
    operator_page, caller, live_stripe, base_url
):
    name = unique("Reasonless Shop")
    org = caller.create_org(name=name)
    asked = _pending_refund(caller, live_stripe, org)
    operator_page.goto(f"{base_url}/console/refunds/{asked['id']}/reject")
    token = operator_page.locator('input[name="csrf_token"]').first.input_value()

    answer = operator_page.context.request.post(
        f"{base_url}/console/refunds/{asked['id']}/reject",
        form={"csrf_token": token, "reason": "  "},
    )
    assert answer.status == 422
    assert "reason" in answer.text()
    assert refund_request(caller, org, asked["id"])["status"] == "pending"


def test_search_finds_an_organisation_by_name_or_id(operator_page, caller, base_url):
    tag = uuid.uuid4().hex[:8]
    wanted, other = f"Jeju Tangerines {tag}", f"Incheon Kites {tag}"
    caller.create_org(name=wanted)
    other_org = caller.create_org(name=other)

    operator_page.goto(f"{base_url}/console/orgs")
    operator_page.get_by_role("searchbox").fill(f"tangerines {tag}")
    operator_page.get_by_role("button", name="Search").click()
    names = operator_page.locator("#organizations tbody tr td:first-child").all_inner_texts()
    assert names == [wanted]

    operator_page.goto(f"{base_url}/console/orgs?q={other_org.id}")
    names = operator_page.locator("#organizations tbody tr td:first-child").all_inner_texts()
    assert names == [other]

    operator_page.get_by_role("link", name=other).click()
    assert operator_page.locator("h1").inner_text() == other

    operator_page.goto(f"{base_url}/console/orgs?q=100%25_{tag}")  # LIKE's wildcards are text
    assert operator_page.locator("#organizations").count() == 0


def test_a_grant_from_the_organisation_page_raises_the_balance_once(
    operator_page, caller, base_url, verify_ledger
):
    org = caller.create_org(currency="USD", name=unique("Grant Shop"))
    operator_page.goto(f"{base_url}/console/orgs/{org.id}")
    assert operator_page.locator("#available").inner_text() == "$0.00"

    operator_page.get_by_label("Amount (USD)").fill("1,234.50")
    operator_page.get_by_label("Reason").fill("launch promotion")
    form = {
        name: operator_page.locator(f'#grant input[name="{name}"]').input_value()
        for name in ("csrf_token", "order_id")
    }
    operator_page.get_by_role("button", name="Grant").click()
    operator_page.wait_for_url(f"{base_url}/console/orgs/{org.id}")
    assert operator_page.locator("#available").inner_text() == "$1,234.50"
    assert caller.balance(org)["available"] == 123450
    assert "launch promotion" in operator_page.locator("#transactions").inner_text()

    # The same form sent again (a double click, a reload) grants nothing more.
    again = operator_page.context.request.post(
        f"{base_url}/console/orgs/{org.id}/grants",
        form={**form, "amount": "1,234.50", "reason": "launch promotion"},
    )
    assert again.ok
    assert caller.balance(org)["available"] == 123450

    bad = operator_page.context.request.post(
        f"{base_url}/console/orgs/{org.id}/grants",
        form={**form, "order_id": "another-1", "amount": "12.345", "reason": "too precise"},
    )
    assert bad.status == 422
    assert caller.balance(org)["available"] == 123450
    verify_ledger()


def test_an_unknown_organisation_is_a_404_page(operator_page, base_url):
    answer = operator_page.goto(f"{base_url}/console/orgs/{uuid.uuid4()}")
    assert answer.status == 404
    assert "organisation not found" in operator_page.content()


def test_ledger_health_shows_the_trial_balance_and_runs_verify(
    operator_page, live_app, caller, base_url
):
    caller.grant(caller.create_org(), 5000)
    operator_page.goto(f"{base_url}/console/health")
    totals = operator_page.locator("#trial-balance-totals").inner_text()
    assert "₩0" in totals

    operator_page.get_by_role("button", name="Run verify now").click()
    operator_page.wait_for_url(f"{base_url}/console/health")
    last = operator_page.locator("#last-verify").inner_text()
    assert "sound" in last
    assert "console, dev-operator" in last

    # The command's runs show there too.
    result = live_app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    operator_page.reload()
    assert "command" in operator_page.locator("#last-verify").inner_text()


def test_refunds_the_gateway_left_processing_need_attention(
    operator_page, caller, live_stripe, base_url
):
    name = unique("Stuck Shop")
    org = caller.create_org(name=name)
    asked = _pending_refund(caller, live_stripe, org)
    live_stripe.fail_next(5, status=500, method="POST", path="/v1/refunds")
    operator_page.goto(f"{base_url}/console/refunds/{asked['id']}/approve")
    operator_page.get_by_role("button", name="Confirm approval").click()
    assert refund_request(caller, org, asked["id"])["status"] == "processing"

    operator_page.goto(f"{base_url}/console/attention")
    stuck = operator_page.locator(f'#refunds-processing tr[data-id="{asked["id"]}"]')
    assert name in stuck.inner_text()


def test_events_not_yet_delivered_show_on_ledger_health_and_can_be_sent_now(
    operator_page, app, caller, live_stripe, base_url
):
    name = unique("Evented Shop")
    org = caller.create_org(name=name)
    r = caller.client.post(
        "/v1/webhook-endpoints",
        json={"url": "http://127.0.0.1:9/never-answers", "events": ["*"], "org_id": org.id},
        headers=caller.operator,
    )
    assert r.status_code == 201, r.json
    endpoint = r.json
    try:
        paid_stripe_topup(caller, live_stripe, org, 10000)  # topup.succeeded
        with app.app_context():
            deliver_due()  # refused: retried later

        operator_page.goto(f"{base_url}/console/health")
        row = operator_page.locator("#undelivered tbody tr", has_text=name)
        cells = row.locator("td").all_inner_texts()
        assert cells[0].startswith("topup.succeeded")
        assert cells[2] == "http://127.0.0.1:9/never-answers"
        assert cells[3:5] == ["retrying", "1"]
        assert cells[6]  # the endpoint's last error

        row.get_by_role("button", name="Send now").click()
        operator_page.wait_for_url(f"{base_url}/console/health")
        with app.app_context():
            assert deliver_due().attempted >= 1  # due again at once, not after the backoff
        attempts = caller.client.get(
            f"/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=caller.operator
        ).json["data"]
        assert [a["attempt"] for a in attempts] == [2, 1]
    finally:
        caller.client.delete(f"/v1/webhook-endpoints/{endpoint['id']}", headers=caller.operator)


def test_disputes_need_attention_with_what_they_froze(
    operator_page, caller, live_stripe, stripe_webhook, base_url
):
    name = unique("Disputed Shop")
    org = caller.create_org(name=name)
    topup = paid_stripe_topup(caller, live_stripe, org, 10000)
    caller.deduct(org, 4000)
    opened = live_stripe.open_dispute(topup["stripe"]["payment_intent_id"])
    event = live_stripe.event("charge.dispute.created", live_stripe.dispute(opened["id"]))
    assert stripe_webhook.send(event).status_code == 200

    operator_page.goto(f"{base_url}/console/attention")
    row = operator_page.locator("#disputes-list tbody tr", has_text=name)
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "open"
    assert cells[4:7] == ["₩10,000", "₩6,000", "₩0"]  # disputed, frozen, shortfall


def test_a_refund_the_gateway_failed_needs_attention_with_its_reason(
    operator_page, caller, live_stripe, stripe_webhook, base_url
):
    name = unique("Failed Refund Shop")
    org = caller.create_org(name=name)
    asked = _pending_refund(caller, live_stripe, org)
    live_stripe.next_refund_status = "pending"
    approved = approve(caller, asked["id"])
    assert approved.json["status"] == "processing"
    refund_id = approved.json["gateway_refund_id"]
    live_stripe.settle_refund(refund_id, "failed", failure_reason="expired_or_canceled_card")
    failed = live_stripe.event("refund.failed", live_stripe.refund(refund_id))
    assert stripe_webhook.send(failed).status_code == 200
    assert refund_request(caller, org, asked["id"])["status"] == "failed"

    operator_page.goto(f"{base_url}/console/attention")
    row = operator_page.locator(f'#refunds-failed tr[data-id="{asked["id"]}"]')
    assert name in row.inner_text()
    assert "expired_or_canceled_card" in row.inner_text()
    assert operator_page.locator(f'#refunds-processing tr[data-id="{asked["id"]}"]').count() == 0


def test_the_organisation_page_shows_its_holds_and_what_they_reserve(
    operator_page, caller, base_url
):
    org = caller.create_org(name=unique("Campaign Shop"))
    caller.grant(org, 30000)
    budget = held(caller, org, 12000, reference="spring-campaign")
    assert capture(caller, org, budget["id"], 2000).status_code == 201

    operator_page.goto(f"{base_url}/console/orgs/{org.id}")
    cards = operator_page.locator("#balance").inner_text()
    assert "₩18,000" in cards  # available
    assert "₩10,000" in cards  # reserved
    cells = operator_page.locator("#holds tbody tr").first.locator("td").all_inner_texts()
    assert cells[1] == "active"
    assert cells[3:6] == ["₩12,000", "₩2,000", "₩10,000"]
    assert cells[7] == "spring-campaign"
