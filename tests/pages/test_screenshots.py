"""Screenshots of the console's refund queue and the portal's balance for the README.

`make screenshots` runs these (deselected from `make test`: they rewrite docs/*.png).
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.gateways.refund_steps import paid_stripe_topup, request_refund

DOCS = Path(__file__).resolve().parents[2] / "docs"

pytestmark = pytest.mark.screenshots


def test_screenshots_of_the_console_and_the_portal(
    browser, caller, fake_stripe, console_link, live_caller, base_url
):
    shop = caller.create_org(currency="KRW", name="Seoul Flowers")
    studio = caller.create_org(currency="KRW", name="Busan Studio")
    for org, amount, refund in ((shop, 50000, 20000), (studio, 120000, None)):
        topup = paid_stripe_topup(caller, fake_stripe, org, amount)
        caller.deduct(org, 8000)
        request_refund(caller, org, topup["id"], refund)
    caller.grant(shop, 10000, expires_at=datetime.now(UTC) + timedelta(days=30))

    context = browser.new_context(viewport={"width": 1280, "height": 640})
    try:
        page = context.new_page()
        page.goto(console_link())
        assert page.locator("#refund-queue tbody tr").count() >= 2
        page.screenshot(path=DOCS / "console.png", full_page=True)

    finally:
        context.close()
