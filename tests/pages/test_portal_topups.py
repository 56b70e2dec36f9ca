"""Topping up from the portal, through the sandbox stand-ins a newcomer pays in."""

import re

from tests.pages.conftest import portal_link


def test_a_stripe_checkout_top_up_raises_the_balance(
    page, live_caller, base_url, sandbox_stripe, verify_ledger
):
    org = live_caller.create_org(currency="KRW", name="Checkout Ads")
    page.goto(portal_link(live_caller, org))
    assert page.locator("#available").inner_text() == "₩0"

    page.get_by_role("link", name="Top up").first.click()
    page.locator("#topup-form input[name=amount]").fill("50,000")
    page.get_by_label("Card (Stripe Checkout)").check()
    page.locator("#topup-form button[type=submit]").click()

    # Stripe's hosted page (the stand-in), then back to the portal's success page.
    page.wait_for_url(f"{sandbox_stripe.checkout_base}/c/pay/*")
    assert "₩50,000" in page.locator(".amount").inner_text()
    page.locator("#pay").click()
    page.wait_for_url(f"{base_url}/portal/{org.id}/topups/*")
    assert page.locator("#topup-status").inner_text() == "paid"

    page.get_by_role("link", name="Balance").click()
    assert page.locator("#available").inner_text() == "₩50,000"
    assert live_caller.balance(org)["available"] == 50000
    verify_ledger()


def test_leaving_stripe_checkout_charges_nothing(page, live_caller, base_url, sandbox_stripe):
    org = live_caller.create_org(currency="USD")
    page.goto(portal_link(live_caller, org))
    page.goto(f"{base_url}/portal/{org.id}/topups")
    page.locator("#topup-form input[name=amount]").fill("19.99")
    page.locator("#topup-form button[type=submit]").click()
    page.wait_for_url(f"{sandbox_stripe.checkout_base}/c/pay/*")
    assert "$19.99" in page.locator(".amount").inner_text()

    page.locator("#cancel").click()
    page.wait_for_url(f"{base_url}/portal/{org.id}/topups?canceled=1")
    assert "nothing was charged" in page.locator("#notice").inner_text()
    assert page.locator("#topups tbody tr .badge").inner_text() == "pending"
    assert live_caller.balance(org)["available"] == 0


def test_a_portone_sdk_top_up_raises_the_balance(
    page, live_caller, base_url, sandbox_portone, verify_ledger
):
    org = live_caller.create_org(currency="KRW", name="PortOne Ads")
    page.goto(portal_link(live_caller, org))
    page.goto(f"{base_url}/portal/{org.id}/topups")
    page.locator("#topup-form input[name=amount]").fill("30000")
    page.get_by_label("Korean payment methods (PortOne)").check()
    page.locator("#topup-form button[type=submit]").click()

    page.wait_for_url(f"{base_url}/portal/{org.id}/topups/*/pay")
    page.locator("#portone-pay").click()
    window = page.get_by_role("dialog", name="PortOne payment window")
    assert "₩30,000" in window.inner_text()
    window.get_by_role("button", name="Pay").click()

    page.wait_for_url(re.compile(rf"{base_url}/portal/{org.id}/topups/[0-9a-f-]+$"))
    assert page.locator("#topup-status").inner_text() == "paid"
    topup_id = page.url.rstrip("/").split("/")[-1]
    assert sandbox_portone.payment(topup_id)["status"] == "PAID"
    page.get_by_role("link", name="Balance").click()
    assert page.locator("#available").inner_text() == "₩30,000"
    assert live_caller.balance(org)["available"] == 30000
    verify_ledger()
