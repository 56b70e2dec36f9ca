"""The Stripe stand-in (`sandbox/stripe_api.py`) as fixtures, for any test.

Registered for the whole suite by `tests/conftest.py`:

- `stripe_server`: the session's server.
- `fake_stripe`: the server, with the test app pointed at it and faults cleared after
  each test.
- `stripe_webhook`: posts signed events to `/v1/webhooks/stripe`.
"""

import json

import pytest

from sandbox.stripe_api import FakeStripe


@pytest.fixture(scope="session")
def stripe_server(app):
    """The session's fake Stripe, with the app's Stripe adapter pointed at it."""
    server = FakeStripe(app.config["STRIPE_SECRET_KEY"], app.config["STRIPE_WEBHOOK_SECRET"])
    server.start()
    app.config["STRIPE_API_BASE"] = server.url
    app.extensions.get("gateways", {}).pop("stripe", None)  # rebuilt against the fake
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(stripe_server):
    """The fake Stripe for one test; faults and refund outcomes are reset afterwards."""
    yield stripe_server
    stripe_server.clear_faults()


class StripeWebhook:
    """Posts events to our webhook endpoint the way Stripe does."""

    def __init__(self, client, fake: FakeStripe):
        self.client = client
        self.fake = fake

    def send(self, event: dict, *, timestamp: int | None = None, secret: str | None = None):
        body = json.dumps(event).encode()
        return self.send_raw(body, self.fake.sign(body, timestamp=timestamp, secret=secret))

    def send_raw(self, body: bytes, signature: str | None):
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["Stripe-Signature"] = signature
        return self.client.post("/v1/webhooks/stripe", data=body, headers=headers)

    def payment_intent(self, type_: str, payment_intent_id: str, **kwargs):
        """Send `payment_intent.*` with the PaymentIntent as Stripe has it now."""
        pi = self.fake.payment_intent(payment_intent_id)
        return self.send(self.fake.event(type_, pi, **kwargs))


@pytest.fixture
def stripe_webhook(app, fake_stripe):
    return StripeWebhook(app.test_client(), fake_stripe)
