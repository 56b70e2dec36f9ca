"""The portal's balance page for the README (docs/portal.png), on the sandbox's demo
organisation: a month of history, its spending chart, in Korean.

`make screenshots` runs it (deselected from `make test`: it rewrites docs/portal.png).
"""

from pathlib import Path

import pytest

from sandbox.seed import seed
from tests.helpers import Org
from tests.pages.conftest import portal_link

DOCS = Path(__file__).resolve().parents[2] / "docs"

pytestmark = pytest.mark.screenshots


def test_screenshot_of_the_portal(
    browser, live_app, live_caller, database_url, sandbox_stripe, sandbox_portone
):
    with live_app.app_context():
        demo = seed(database_url, sandbox_stripe, sandbox_portone)
    context = browser.new_context(viewport={"width": 1280, "height": 640})
    try:
        page = context.new_page()
        page.goto(portal_link(live_caller, Org(str(demo.org_id), "KRW")) + "?lang=ko")
        page.goto(f"{live_app.config['PUBLIC_BASE_URL']}/portal/")
        assert page.locator("h1").inner_text() == "잔액"
        assert page.locator("#spending-chart rect.bar").count() == 30
        page.screenshot(path=DOCS / "portal.png", full_page=True)
    finally:
        context.close()
