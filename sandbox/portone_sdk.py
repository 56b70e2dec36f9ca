"""The PortOne stand-in's browser SDK: `PortOne.requestPayment` against the sandbox.

`PortOneSdk` serves `/v2/browser-sdk.js` (point PORTONE_BROWSER_SDK_URL at
`sdk_url`). Its `requestPayment` opens a payment window drawn in the page; Pay sends
the request to this server, which pays the payment on the PortOne API stand-in (as the
card network would), sends the signed `Transaction.Paid` webhook to the service, and
answers as PortOne's SDK resolves: `{transactionType, txId, paymentId}`, or
`{code, message}` when the customer closes the window.
"""

import contextlib
import json

import requests

from sandbox.portone_api import FakePortOne
from sandbox.web import Reply, Request, Site

_CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Content-Type"}

# Styles are set through the CSSOM (element.style), which the pages' CSP allows.
_SDK = """// Sandbox stand-in for PortOne's browser SDK (V2): no real money moves.
(() => {
  const ORIGIN = %(origin)s;
  const box = (tag, css, text) => {
    const el = document.createElement(tag);
    el.style.cssText = css;
    if (text) el.textContent = text;
    return el;
  };
  const money = (amount, currency) =>
    new Intl.NumberFormat("ko-KR", { style: "currency", currency }).format(amount);
  function requestPayment(request) {
    return new Promise((resolve) => {
      const shade = box("div", "position:fixed;inset:0;background:rgba(0,0,0,.45);" +
        "display:flex;align-items:center;justify-content:center;z-index:1000");
      const dialog = box("div", "background:#fff;border-radius:10px;padding:24px 28px;" +
        "min-width:320px;font:15px/1.5 system-ui,sans-serif;color:#1d2433");
      dialog.setAttribute("role", "dialog");
      dialog.setAttribute("aria-label", "PortOne payment window");
      dialog.append(
        box("div", "background:#f0b429;margin:-24px -28px 16px;padding:6px;" +
          "text-align:center;font-weight:600;border-radius:10px 10px 0 0",
          "Sandbox PortOne: no real money moves"),
        box("div", "color:#667085", request.orderName),
        box("div", "font-size:26px;font-weight:600;margin:8px 0 20px",
          money(request.totalAmount, request.currency)));
      const pay = box("button", "padding:10px 18px;margin-right:8px;border:0;border-radius:6px;" +
        "background:#2f5bea;color:#fff;font:inherit;cursor:pointer", "Pay");
      const close = box("button", "padding:10px 18px;border:1px solid #ccc;border-radius:6px;" +
        "background:#fff;color:#1d2433;font:inherit;cursor:pointer", "Close");
      dialog.append(pay, close);
      shade.append(dialog);
      document.body.append(shade);
      close.addEventListener("click", () => {
        shade.remove();
        resolve({ code: "FAILURE_TYPE_PG", message: "The customer closed the payment window.",
                  paymentId: request.paymentId });
      });
      pay.addEventListener("click", async () => {
        pay.disabled = true;
        // text/plain: a simple request, no CORS preflight.
        const answer = await fetch(ORIGIN + "/sandbox/payments", {
          method: "POST", headers: { "Content-Type": "text/plain" },
          body: JSON.stringify(request) }).then((r) => r.json());
        shade.remove();
        resolve(answer);
      });
    });
  }
  window.PortOne = { requestPayment };
})();
"""


class PortOneSdk(Site):
    """The browser SDK and the payment window's back end, beside the PortOne API stand-in."""

    def __init__(self, portone: FakePortOne, *, webhook_url: str, port: int = 0):
        super().__init__(port)
        self.portone = portone
        self.webhook_url = webhook_url

    @property
    def sdk_url(self) -> str:
        return f"{self.url}/v2/browser-sdk.js"

    def answer(self, request: Request) -> Reply:
        if request.method == "GET" and request.path == "/v2/browser-sdk.js":
            script = _SDK % {"origin": json.dumps(self.url)}
            return Reply(200, script.encode(), "text/javascript; charset=utf-8", dict(_CORS))
        if request.path == "/sandbox/payments" and request.method == "OPTIONS":
            return Reply(204, headers=dict(_CORS))
        if request.path == "/sandbox/payments" and request.method == "POST":
            return self._pay(json.loads(request.body or b"{}"))
        return Reply(404, b"not found", "text/plain")

    def _pay(self, payment: dict) -> Reply:
        if payment.get("storeId") != self.portone.store_id:
            return _json({"code": "INVALID_REQUEST", "message": "unknown storeId"})
        paid = self.portone.pay(
            payment["paymentId"], int(payment["totalAmount"]), payment["currency"]
        )
        body, headers = self.portone.webhook("Transaction.Paid", payment["paymentId"])
        # Delivered or not: as with PortOne, the page asks the service to confirm.
        with contextlib.suppress(requests.RequestException):
            requests.post(self.webhook_url, data=body, headers=headers, timeout=10)
        return _json(
            {
                "transactionType": "PAYMENT",
                "txId": paid["transactionId"],
                "paymentId": payment["paymentId"],
            }
        )


def _json(document: dict) -> Reply:
    return Reply(200, json.dumps(document).encode(), "application/json", dict(_CORS))
