"""The portal's pages: history and its CSV, a refund request, API keys, the viewer's
read-only view, and the sandbox's banner and spend action."""

import csv
import io

import pytest

from tests.gateways.refund_steps import paid_stripe_topup
from tests.pages.conftest import portal_link


def test_the_transactions_csv_holds_the_whole_history(page, live_caller, base_url):
    org = live_caller.create_org(currency="USD", name="Export Ads")
    live_caller.grant(org, 5000)
    for n, description in enumerate(("Search ads", '=HYPERLINK("http://x")', "Video ads")):
        r = live_caller.deduct(org, 250 + n, order_id=f"spend-{n}", description=description)
        assert r.status_code == 201, r.json
    page.goto(portal_link(live_caller, org))
    page.get_by_role("link", name="Transactions", exact=True).click()
    assert page.locator("table.entries tbody tr").count() == 4

    with page.expect_download() as download:
        page.locator("#export-csv").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text("utf-8"))))
    assert [(r["kind"], r["amount"], r["balance_after"]) for r in rows] == [
        ("deduction", "-252", "4247"),
        ("deduction", "-251", "4499"),
        ("deduction", "-250", "4750"),
        ("grant", "5000", "5000"),
    ]
    assert [r["order_id"] for r in rows[:3]] == ["spend-2", "spend-1", "spend-0"]
    assert {r["currency"] for r in rows} == {"USD"}
    # A caller's text cannot become a spreadsheet formula.
    assert rows[1]["description"] == '\'=HYPERLINK("http://x")'

    page.locator("select[name=kind]").select_option("grant")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("table.entries tbody tr").count() == 1
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text("utf-8"))))
    assert [r["kind"] for r in rows] == ["grant"]


def test_a_refund_requested_in_the_portal_is_pending_through_the_api(
    page, caller, fake_stripe, live_caller, base_url, verify_ledger
):
    org = caller.create_org(currency="KRW", name="Refund Ads")
    topup = paid_stripe_topup(caller, fake_stripe, org, 50000)
    assert caller.deduct(org, 8000).status_code == 201

    page.goto(portal_link(live_caller, org))
    page.goto(f"{base_url}/portal/{org.id}/topups/{topup['id']}")
    assert page.locator("#refundable").inner_text() == "₩42,000"
    assert page.locator("#consumed").inner_text() == "₩8,000"
    assert "7 days left" in page.locator("#refund-why").inner_text()

    page.locator("#refund-form input[name=amount]").fill("30,000")
    page.locator("#refund-form input[name=reason]").fill("Campaign ended early")
    page.get_by_role("button", name="Request a refund").click()
    assert page.locator("#refund-requests tbody tr .badge").inner_text() == "pending"
    assert "already waiting" in page.locator("#refund-why").inner_text()
    assert page.locator("#refund-held").inner_text() == "₩30,000"
    assert page.locator("#unused").inner_text() == "₩12,000"
    assert page.locator("#refund-form").count() == 0

    r = caller.client.get(f"/v1/orgs/{org.id}/refund-requests", headers=caller.user(org))
    [request] = r.json["data"]
    assert (request["status"], request["amount"], request["topup_id"]) == (
        "pending",
        30000,
        topup["id"],
    )
    assert request["reason"] == "Campaign ended early"
    assert caller.balance(org)["held"] == 30000
    verify_ledger()


def test_a_viewer_sees_no_form_and_cannot_post(page, caller, fake_stripe, live_caller, base_url):
    org = caller.create_org(currency="KRW", name="Viewer Ads")
    topup = paid_stripe_topup(caller, fake_stripe, org, 20000)
    page.goto(portal_link(live_caller, org, role="viewer"))
    assert page.locator("#available").inner_text() == "₩20,000"
    assert page.get_by_role("link", name="Top up").count() == 0
    assert page.get_by_role("link", name="API keys").count() == 0
    page.goto(f"{base_url}/portal/{org.id}/topups")
    assert page.locator("#topups tbody tr").count() == 1
    assert page.locator("#topup-form").count() == 0
    page.goto(f"{base_url}/portal/{org.id}/topups/{topup['id']}")
    assert page.locator("#refundable").inner_text() == "₩20,000"
    assert page.locator("#refund-form").count() == 0
    assert page.goto(f"{base_url}/portal/{org.id}/api-keys").status == 403

    # Even with the session's own CSRF token, every change is refused.
    posts = {
        "topups": "order_id=o-1&provider=stripe&amount=10000",
        f"topups/{topup['id']}/refund-requests": "reason=mine",
        f"topups/{topup['id']}/confirm": "",
        "api-keys": "name=k&scope=credits:read",
    }
    statuses = page.evaluate(
        """async ([base, posts]) => {
            const token = document.querySelector('meta[name="csrf-token"]').content;
            const out = {};
            for (const [path, body] of Object.entries(posts)) {
                const r = await fetch(base + path, {method: "POST", body,
                    headers: {"X-CSRF-Token": token,
                              "Content-Type": "application/x-www-form-urlencoded"}});
                out[path] = r.status;
            }
            return out;
        }""",
        [f"{base_url}/portal/{org.id}/", posts],
    )
    assert statuses == dict.fromkeys(posts, 403)
    assert caller.balance(org)["held"] == 0
    r = caller.client.get(f"/v1/orgs/{org.id}/topups", headers=caller.user(org))
    assert len(r.json["data"]) == 1


def test_an_api_key_is_shown_once_listed_and_revoked(page, live_caller, base_url):
    org = live_caller.create_org(currency="KRW", name="Key Ads")
    live_caller.grant(org, 7000)
    page.goto(portal_link(live_caller, org))
    page.get_by_role("link", name="API keys", exact=True).click()
    page.locator("#api-key-form input[name=name]").fill("reporting")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key").inner_text()
    assert key.startswith("lk_")
    balance = live_caller.client.get(f"/v1/orgs/{org.id}/balance", headers=live_caller.auth(key))
    assert balance.json["available"] == 7000

    page.get_by_role("link", name="Back to API keys").click()
    assert key not in page.content()
    row = page.locator("#api-keys tbody tr", has_text="reporting")
    assert "credits:read" in row.inner_text()
    row.get_by_role("button", name="Revoke").click()
    assert "revoked" in page.locator("#api-keys tbody tr", has_text="reporting").inner_text()
    revoked = live_caller.client.get(f"/v1/orgs/{org.id}/balance", headers=live_caller.auth(key))
    assert revoked.status_code == 401


@pytest.fixture
def sandbox_on(live_app):
    live_app.config["SANDBOX"] = True
    yield
    live_app.config["SANDBOX"] = False


def test_the_sandbox_shows_its_banner_and_lets_a_user_spend(
    page, live_caller, base_url, sandbox_on
):
    org = live_caller.create_org(currency="KRW", name="Sandbox Ads")
    live_caller.grant(org, 20000)
    page.goto(portal_link(live_caller, org))
    assert "Sandbox" in page.locator(".sandbox-banner").inner_text()
    page.locator(".sandbox-action input[name=amount]").fill("6,500")
    page.get_by_role("button", name="Simulate campaign spend").click()
    assert page.locator("#available").inner_text() == "₩13,500"
    assert "₩6,500" in page.locator("#spending-total").inner_text()
    assert live_caller.balance(org)["available"] == 13500


def test_without_the_sandbox_there_is_no_banner_and_no_spending(page, live_caller, base_url):
    org = live_caller.create_org(currency="KRW", name="Real Ads")
    live_caller.grant(org, 20000)
    page.goto(portal_link(live_caller, org))
    assert page.locator(".sandbox-banner").count() == 0
    assert page.locator(".sandbox-action").count() == 0
    status = page.evaluate(
        """async (url) => (await fetch(url, {method: "POST", body: "amount=100",
            headers: {"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content,
                      "Content-Type": "application/x-www-form-urlencoded"}})).status""",
        f"{base_url}/portal/{org.id}/sandbox/spend",
    )
    assert status == 404
    assert live_caller.balance(org)["available"] == 20000


def test_a_bank_transfer_top_up_is_refunded_to_the_account_the_form_names(
    page, caller, portone, live_caller, base_url, verify_ledger
):
    org = caller.create_org(currency="KRW", name="Transfer Ads")
    r = caller.client.post(
        f"/v1/orgs/{org.id}/topups",
        json={"order_id": "va-1", "amount": 40000, "provider": "portone"},
        headers=caller.user(org),
    )
    topup_id = r.json["id"]
    portone.issue_virtual_account(r.json["portone"]["payment_id"], 40000)
    portone.deposit(r.json["portone"]["payment_id"])
    confirmed = caller.client.post(
        f"/v1/orgs/{org.id}/topups/{topup_id}/confirm", headers=caller.user(org)
    )
    assert confirmed.json["status"] == "paid"

    page.goto(portal_link(live_caller, org))
    page.goto(f"{base_url}/portal/{org.id}/topups/{topup_id}")
    form = page.locator("#refund-form")
    form.locator("input[name=reason]").fill("Moving to another platform")
    form.locator("select[name=account_bank]").select_option("SHINHAN")
    form.locator("input[name=account_number]").fill("110-123-456789")
    form.locator("input[name=account_holder_name]").fill("Transfer Ads Co")
    form.get_by_role("button", name="Request a refund").click()
    assert page.locator("#refund-requests tbody tr .badge").inner_text() == "pending"

    [request] = caller.client.get(
        f"/v1/orgs/{org.id}/refund-requests", headers=caller.user(org)
    ).json["data"]
    assert (request["status"], request["amount"]) == ("pending", 40000)
    approved = caller.client.post(
        f"/v1/admin/refund-requests/{request['id']}/approve", json={}, headers=caller.operator
    )
    assert approved.json["status"] == "succeeded"
    [cancel] = portone.calls("POST", f"/payments/{topup_id}/cancel")
    assert cancel.body["refundAccount"] == {
        "bank": "SHINHAN",
        "number": "110-123-456789",
        "holderName": "Transfer Ads Co",
    }
    verify_ledger()


def test_holds_show_as_reserved_and_captures_as_spending(page, caller, live_caller, base_url):
    org = live_caller.create_org(currency="KRW", name="Hold Ads")
    live_caller.grant(org, 30000)
    hold = live_caller.client.post(
        f"/v1/orgs/{org.id}/holds",
        json={"order_id": "h-1", "amount": 12000},
        headers=live_caller.service,
    )
    assert hold.status_code == 201, hold.json
    capture = live_caller.client.post(
        f"/v1/orgs/{org.id}/holds/{hold.json['id']}/captures",
        json={"order_id": "c-1", "amount": 5000},
        headers=live_caller.service,
    )
    assert capture.status_code == 201, capture.json
    page.goto(portal_link(live_caller, org))
    assert page.locator("#available").inner_text() == "₩18,000"
    assert page.locator("#reserved").inner_text() == "₩7,000"
    assert "₩5,000" in page.locator("#spending-total").inner_text()
