"""The console's refund queue for the README (the portal's balance: test_portal_screenshot.py).

`make screenshots` runs these (deselected from `make test`: they rewrite docs/*.png).
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.gateways.refund_steps import approve, paid_stripe_topup, request_refund

DOCS = Path(__file__).resolve().parents[2] / "docs"

pytestmark = pytest.mark.screenshots


def test_screenshots_of_the_console_and_the_portal(
    browser, caller, fake_stripe, console_link, live_caller, base_url
):
    shop = caller.create_org(currency="KRW", name="Seoul Flowers")
    studio = caller.create_org(currency="KRW", name="Busan Studio")
    cafe = caller.create_org(currency="KRW", name="Daegu Coffee")
    books = caller.create_org(currency="KRW", name="Gwangju Books")
    decided = []
    for org, amount, refund in (
        (cafe, 30000, 10000),
        (books, 80000, 15000),
        (shop, 50000, 20000),
        (studio, 120000, None),
    ):
        topup = paid_stripe_topup(caller, fake_stripe, org, amount)
        caller.deduct(org, 8000)
        decided.append(request_refund(caller, org, topup["id"], refund))
    assert approve(caller, decided[0]["id"], note="campaign ended").status_code == 200
    rejected = caller.client.post(
        f"/v1/admin/refund-requests/{decided[1]['id']}/reject",
        json={"reason": "credit used for the spring campaign"},
        headers=caller.operator,
    )
    assert rejected.status_code == 200
    caller.grant(shop, 10000, expires_at=datetime.now(UTC) + timedelta(days=30))

    context = browser.new_context(viewport={"width": 1280, "height": 640})
    try:
        page = context.new_page()
        page.goto(console_link())
        assert page.locator("#refund-queue tbody tr").count() >= 4
        page.screenshot(path=DOCS / "console.png", full_page=True)
    finally:
        context.close()
