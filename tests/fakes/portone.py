"""The PortOne stand-in (`sandbox/portone_api.py`) as fixtures, and webhooks signed with
the test configuration's secret.

`tests/conftest.py` loads this module as a plugin, so any test can take the `portone`
fixture: an emptied fake with the app's adapter pointed at it.
"""

import pytest

from config import TestConfig
from sandbox import portone_api
from sandbox.portone_api import FakePortOne


def sign_webhook(body: bytes, *, secrets: list[str] | None = None, **signing) -> dict[str, str]:
    """`portone_api.sign_webhook`, with the test configuration's secret by default."""
    return portone_api.sign_webhook(
        body, secrets=secrets or [TestConfig.PORTONE_WEBHOOK_SECRET], **signing
    )


@pytest.fixture(scope="session")
def portone_server():
    """One fake PortOne for the test session."""
    fake = FakePortOne(
        api_secret=TestConfig.PORTONE_API_SECRET,
        store_id=TestConfig.PORTONE_STORE_ID,
        webhook_secret=TestConfig.PORTONE_WEBHOOK_SECRET,
        channel_key=TestConfig.PORTONE_CHANNEL_KEY,
    ).start()
    yield fake
    fake.stop()


@pytest.fixture
def portone(app, portone_server):
    """The fake PortOne, emptied, with the app's PortOne adapter pointed at it."""
    portone_server.reset()
    app.config["PORTONE_API_BASE"] = portone_server.url
    # The adapter is built once per app from its config: rebuild it against the fake.
    app.extensions.get("gateways", {}).pop("portone", None)
    return portone_server
