"""The Stripe stand-in's hosted Checkout page, for a browser to pay a Checkout Session on.

`SandboxStripe` is the Stripe API stand-in whose Checkout Sessions point their `url`
at `CheckoutPages`. There the customer sees what they are paying and presses Pay; the
page pays the session (as Stripe would: a PaymentIntent that succeeds), sends the
signed `checkout.session.completed` webhook to the service, and sends the browser to
the session's `success_url` (with `{CHECKOUT_SESSION_ID}` filled in), as Stripe does.
Cancel goes to `cancel_url`.
"""

import contextlib
import json
from html import escape
from urllib.parse import quote

import requests

from ledger.pages.formatting import format_money
from sandbox.stripe_api import FakeStripe, StripeAPIError
from sandbox.web import Reply, Request, Site, redirect


class SandboxStripe(FakeStripe):
    """The fake Stripe API, with Checkout Sessions paid on `checkout_base`'s pages."""

    checkout_base = "https://checkout.stripe.com"

    def _create_session(self, params: dict) -> dict:
        view = super()._create_session(params)
        url = f"{self.checkout_base}/c/pay/{view['id']}"
        self._state.sessions[view["id"]]["url"] = url
        return {**view, "url": url}


class CheckoutPages(Site):
    """Stripe's hosted Checkout, in the sandbox: GET shows the session, POST pays it."""

    def __init__(self, stripe: SandboxStripe, *, webhook_url: str, port: int = 0):
        super().__init__(port)
        self.stripe = stripe
        self.webhook_url = webhook_url
        stripe.checkout_base = self.url

    def answer(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        if len(parts) != 3 or parts[:2] != ["c", "pay"]:
            return Reply(404, b"not found", "text/plain")
        try:
            session = self.stripe.checkout_session(parts[2])
        except StripeAPIError:
            return Reply(404, b"no such Checkout Session", "text/plain")
        if request.method == "POST" and session["status"] == "open":
            return self._pay(session)
        return Reply(200, _page(session).encode())

    def _pay(self, session: dict) -> Reply:
        paid = self.stripe.complete_checkout(session["id"])
        body = json.dumps(self.stripe.event("checkout.session.completed", paid)).encode()
        # Delivered or not: as with Stripe, the success page asks Stripe itself.
        with contextlib.suppress(requests.RequestException):
            requests.post(
                self.webhook_url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "Stripe-Signature": self.stripe.sign(body),
                },
                timeout=10,
            )
        return redirect(
            session["success_url"].replace("{CHECKOUT_SESSION_ID}", quote(session["id"]))
        )


def _page(session: dict) -> str:
    amount = format_money(session["amount_total"], session["currency"].upper())
    if session["status"] != "open":
        action = f"<p>This Checkout Session is {escape(session['status'])}.</p>"
    else:
        action = f"""
      <form method="post">
        <label>Card number <input value="4242 4242 4242 4242" readonly></label>
        <button type="submit" id="pay">Pay {escape(amount)}</button>
      </form>
      <p><a href="{escape(session["cancel_url"] or "")}" id="cancel">Cancel and go back</a></p>"""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox Stripe Checkout</title>
<style>
  * {{ box-sizing: border-box; }}
  body {{ font: 15px/1.5 system-ui, sans-serif; background: #f6f9fc; margin: 0; }}
  .banner {{ background: #f0b429; text-align: center; font-weight: 600; padding: 6px; }}
  main {{ max-width: 420px; margin: 48px auto; background: #fff; padding: 24px 28px;
          border-radius: 8px; box-shadow: 0 2px 8px rgba(0,0,0,.08); }}
  .amount {{ font-size: 28px; font-weight: 600; }}
  label {{ display: block; margin: 16px 0; color: #666; font-size: 13px; }}
  input {{ display: block; width: 100%; font: inherit; padding: 8px; margin-top: 4px; }}
  button {{ width: 100%; padding: 10px; font: inherit; font-weight: 600; color: #fff;
            background: #635bff; border: 0; border-radius: 6px; cursor: pointer; }}
</style></head>
<body><div class="banner">Sandbox: a local stand-in for Stripe Checkout. No real money moves.</div>
<main>
  <p>Prepaid credit</p>
  <p class="amount">{escape(amount)}</p>
  {action}
</main></body></html>"""
