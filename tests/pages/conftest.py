"""Browser tests: the app on a real local HTTP server, driven by Debian's headless chromium.

One browser serves the whole session; each test gets a fresh context (no cookies) and page.
The live app is its own `create_app` on the session's test database, so its settings
(`PUBLIC_BASE_URL`, the OpenID provider) can point at this server and at local fakes.
"""

import threading
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from config import TestConfig
from ledger.app import create_app
from ledger.extensions import db
from sandbox.portone_api import FakePortOne
from sandbox.portone_sdk import PortOneSdk
from sandbox.stripe_checkout import CheckoutPages, SandboxStripe
from tests.fakes.oidc import FakeOidc
from tests.helpers import Caller

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def oidc_provider():
    provider = FakeOidc(client_id="ledger-console", client_secret="console-secret").start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def live_app(app, database_url, oidc_provider):
    """The service on a free loopback port; `live_app.config["PUBLIC_BASE_URL"]` is its address."""

    class LiveConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        OIDC_ISSUER = oidc_provider.issuer
        OIDC_CLIENT_ID = oidc_provider.client_id
        OIDC_CLIENT_SECRET = oidc_provider.client_secret

    live = create_app(LiveConfig)
    server = make_server("127.0.0.1", 0, live, threaded=True)
    # Links and Stripe Checkout's return addresses start with this server's address.
    for name in ("PUBLIC_BASE_URL", "STRIPE_CHECKOUT_SUCCESS_URL", "STRIPE_CHECKOUT_CANCEL_URL"):
        live.config[name] = live.config[name].replace(
            TestConfig.PUBLIC_BASE_URL, f"http://127.0.0.1:{server.server_port}", 1
        )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield live
    server.shutdown()
    thread.join(timeout=10)
    with live.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_app):
    return live_app.config["PUBLIC_BASE_URL"]


@pytest.fixture(scope="session")
def sandbox_stripe(live_app, base_url):
    """The Stripe stand-in with its hosted Checkout page, the live app's Stripe."""
    config = live_app.config
    stripe = SandboxStripe(config["STRIPE_SECRET_KEY"], config["STRIPE_WEBHOOK_SECRET"])
    stripe.start()
    pages = CheckoutPages(stripe, webhook_url=f"{base_url}/v1/webhooks/stripe").start()
    config["STRIPE_API_BASE"] = stripe.url
    live_app.extensions.get("gateways", {}).pop("stripe", None)  # rebuilt against it
    yield stripe
    pages.stop()
    stripe.stop()


@pytest.fixture(scope="session")
def sandbox_portone(live_app, base_url):
    """The PortOne stand-in and its browser SDK, the live app's PortOne."""
    config = live_app.config
    portone = FakePortOne(
        api_secret=config["PORTONE_API_SECRET"],
        store_id=config["PORTONE_STORE_ID"],
        webhook_secret=config["PORTONE_WEBHOOK_SECRET"],
    ).start()
    sdk = PortOneSdk(portone, webhook_url=f"{base_url}/v1/webhooks/portone").start()
    config["PORTONE_API_BASE"] = portone.url
    config["PORTONE_BROWSER_SDK_URL"] = sdk.sdk_url
    live_app.extensions.get("gateways", {}).pop("portone", None)
    yield portone
    sdk.stop()
    portone.stop()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("the browser tests need Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def live_caller(live_app):
    """Callers of the live app's API (its links start with the live server's address)."""
    return Caller(live_app)


@pytest.fixture
def console_link(live_app):
    """Makes console sign-in links the way an operator would: `flask ledger console-link`."""

    def make() -> str:
        result = live_app.test_cli_runner().invoke(args=["ledger", "console-link"])
        assert result.exit_code == 0, result.output
        return result.output.strip().splitlines()[-1]

    return make


@pytest.fixture
def operator_page(page, console_link):
    """A page signed in to the console."""
    page.goto(console_link())
    return page


def portal_link(caller, org, **body) -> str:
    r = caller.client.post(
        f"/v1/orgs/{org.id}/portal-sessions", json=body, headers=caller.user(org, "owner")
    )
    assert r.status_code == 201, r.json
    return r.json["url"]


@pytest.fixture
def live_stripe(live_app, fake_stripe):
    """The fake Stripe, with the live app's Stripe adapter pointed at it too."""
    live_app.config["STRIPE_API_BASE"] = fake_stripe.url
    live_app.extensions.get("gateways", {}).pop("stripe", None)  # rebuilt against the fake
    return fake_stripe
