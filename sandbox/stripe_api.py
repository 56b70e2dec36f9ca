"""A local stand-in for the Stripe API, for the real `stripe` SDK to talk to over HTTP.

The tests run it (`tests/fakes/stripe.py` has the fixtures) and so does `make demo`
(`sandbox/__main__.py`, with `stripe_checkout` for the browser).

Design overview
---------------
`FakeStripe` is a stateful HTTP server (stdlib `ThreadingHTTPServer` on 127.0.0.1, a
free port) that answers the calls our adapter makes, the way Stripe answers them:

- Requests are form-encoded with bracketed keys (`metadata[organization_id]=...`,
  `line_items[0][price_data][currency]=krw`) and carry `Authorization: Bearer sk_...`.
- An `Idempotency-Key` replays the first answer (header `Idempotent-Replayed: true`);
  reusing it with other parameters is a 400 `idempotency_error`.
- Customers, PaymentIntents (with their charge), Checkout Sessions (mode `payment`) and
  refunds keep state. Refunds are capped by what is left on the charge, accumulate
  `amount_refunded`, and refuse a fully refunded charge (`charge_already_refunded`).
- Objects have the shapes of Stripe's own examples (`gateway-specs/stripe-fixtures3.json`).
- Parameters are checked against an allow-list taken from Stripe's published OpenAPI
  description (`stripe/openapi`, `openapi/spec3.sdk.json`: the form properties of each
  operation; the SDK's generated `stripe.params.*CreateParams` carry the same names):
  an unknown one is a 400 `parameter_unknown`, as Stripe answers.
- The SDK's `Stripe-Version` header must name the version this fake speaks (the SDK's
  pinned `stripe.api_version`); another is a 400, as Stripe refuses a version it does not know.
- Amounts: Stripe's per-currency minimum charge ("$0.50 US or equivalent", about ₩700 when
  settling in USD) and at most eight digits, else 400 `amount_too_small`/`amount_too_large`.
- Idempotency, as documented ("Idempotent requests"): a result is saved only once the
  endpoint started executing, so a parameter error or a 409 is not replayed, while a 500
  raised inside it is (`fail_next(cached=True)`; replayed with `Stripe-Should-Retry: false`).
  A second request while one with the same key is in flight gets 409
  `idempotency_key_in_use` with `Stripe-Should-Retry: true`; `fail_next(status=409|429)`
  answers the same shapes (429 `rate_limit`).
- Disputes (`open_dispute`, `withdraw_dispute_funds`, `close_dispute`, `GET /v1/disputes/{id}`):
  a fully refunded charge cannot be disputed, and refunding a charge with an open or lost
  dispute is a 400 `charge_disputed`.
- A refund may fail after it succeeded (`settle_refund(id, "failed")`): its amount comes back
  to the charge and it gets a `failure_balance_transaction` (Stripe's `refund.failed`).

Tests move state the way a browser or the dashboard would (`succeed_payment`,
`fail_payment`, `complete_checkout`, `settle_refund`, `delete_customer`, ...), inject
faults on the next calls (`fail_next` answers 5xx, `hang_next` answers after the
client has given up), read what the SDK sent (`requests_to`), and build signed events
(`event`, `sign`). One server serves the whole session; every test uses fresh ids.

"""

import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

# The SDK pins the API version it was generated for and sends it on every call.
API_VERSION = stripe.api_version
ZERO_DECIMAL = {"krw", "jpy", "vnd"}
# Stripe's minimum charge per currency ("Minimum and maximum charge amounts": $0.50 or its
# equivalent; for KRW the settlement currency's minimum converted, about ₩700 in USD).
MINIMUM_CHARGE = {"usd": 50, "krw": 700, "jpy": 50}
# "The amount value supports up to eight digits" (PaymentIntent.amount).
MAXIMUM_CHARGE = 99_999_999

# Form parameters each operation accepts: `stripe/openapi` openapi/spec3.sdk.json,
# paths[...].post.requestBody.content["application/x-www-form-urlencoded"].schema.properties
# (the parts this service may send; `expand` is accepted everywhere).
_PARAMS = {
    ("POST", "customers"): {
        "address",
        "balance",
        "cash_balance",
        "description",
        "email",
        "invoice_prefix",
        "invoice_settings",
        "metadata",
        "name",
        "next_invoice_sequence",
        "payment_method",
        "phone",
        "preferred_locales",
        "shipping",
        "source",
        "tax",
        "tax_exempt",
        "tax_id_data",
        "test_clock",
        "validate",
    },
    ("POST", "customers", "*"): {
        "address",
        "balance",
        "cash_balance",
        "default_source",
        "description",
        "email",
        "invoice_prefix",
        "invoice_settings",
        "metadata",
        "name",
        "next_invoice_sequence",
        "phone",
        "preferred_locales",
        "shipping",
        "source",
        "tax",
        "tax_exempt",
        "validate",
    },
    ("POST", "payment_intents"): {
        "amount",
        "application_fee_amount",
        "automatic_payment_methods",
        "capture_method",
        "confirm",
        "confirmation_method",
        "confirmation_token",
        "currency",
        "customer",
        "description",
        "error_on_requires_action",
        "mandate",
        "mandate_data",
        "metadata",
        "off_session",
        "on_behalf_of",
        "payment_method",
        "payment_method_configuration",
        "payment_method_data",
        "payment_method_options",
        "payment_method_types",
        "radar_options",
        "receipt_email",
        "return_url",
        "setup_future_usage",
        "shipping",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "transfer_data",
        "transfer_group",
        "use_stripe_sdk",
    },
    ("POST", "payment_intents", "*", "cancel"): {"cancellation_reason"},
    ("POST", "checkout", "sessions"): {
        "after_expiration",
        "allow_promotion_codes",
        "automatic_tax",
        "billing_address_collection",
        "cancel_url",
        "client_reference_id",
        "consent_collection",
        "currency",
        "custom_fields",
        "custom_text",
        "customer",
        "customer_creation",
        "customer_email",
        "customer_update",
        "discounts",
        "expires_at",
        "invoice_creation",
        "line_items",
        "locale",
        "metadata",
        "mode",
        "payment_intent_data",
        "payment_method_collection",
        "payment_method_configuration",
        "payment_method_options",
        "payment_method_types",
        "phone_number_collection",
        "redirect_on_completion",
        "return_url",
        "saved_payment_method_options",
        "setup_intent_data",
        "shipping_address_collection",
        "shipping_options",
        "submit_type",
        "subscription_data",
        "success_url",
        "tax_id_collection",
        "ui_mode",
    },
    ("POST", "refunds"): {
        "amount",
        "charge",
        "currency",
        "customer",
        "instructions_email",
        "metadata",
        "origin",
        "payment_intent",
        "reason",
        "refund_application_fee",
        "reverse_transfer",
    },
}
# Nested objects checked the same way (CheckoutSessionCreateParams' line items).
_LINE_ITEM_PARAMS = {
    "adjustable_quantity",
    "dynamic_tax_rates",
    "price",
    "price_data",
    "quantity",
    "tax_rates",
}
_PRICE_DATA_PARAMS = {
    "currency",
    "product",
    "product_data",
    "recurring",
    "tax_behavior",
    "unit_amount",
    "unit_amount_decimal",
}
_REFUND_REASONS = (None, "duplicate", "fraudulent", "requested_by_customer")
# Dispute statuses that still hold the charge (`won`, `lost`, `warning_closed` are final).
_OPEN_DISPUTE = {"warning_needs_response", "warning_under_review", "needs_response", "under_review"}


class StripeAPIError(Exception):
    """An error answer, rendered as Stripe's `{"error": {...}}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_="invalid_request_error",
        saved=True,
        headers=None,
        **extra,
    ):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **extra}}
        # Stripe saves an idempotent result only once the endpoint began executing.
        self.saved = saved
        self.headers = headers or {}


def _parameter_error(message: str, *, code: str, param: str) -> StripeAPIError:
    """A request Stripe refuses before executing it (never saved under its key)."""
    return StripeAPIError(400, message, code=code, param=param, saved=False)


def _missing(kind: str, object_id: str) -> StripeAPIError:
    return StripeAPIError(
        404, f"No such {kind}: '{object_id}'", code="resource_missing", param="id"
    )


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_lists(node[k]) for k in sorted(node, key=int)]
    return {k: _lists(v) for k, v in node.items()}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class _Fault:
    calls_left: int
    method: str | None
    path_prefix: str | None
    status: int | None = None  # answer this status...
    hang: bool = False  # ...or keep the client waiting past its timeout
    after_processing: bool = False  # hang after the change was made (answer lost)
    in_flight: bool = False  # the hang is Stripe still executing (its key is in use)
    cached: bool = False  # a 5xx raised inside the endpoint: saved under the idempotency key
    should_retry: str | None = None  # the Stripe-Should-Retry header to send

    def matches(self, method: str, path: str) -> bool:
        return (
            self.calls_left > 0
            and (self.method is None or self.method == method)
            and (self.path_prefix is None or path.startswith(self.path_prefix))
        )


@dataclass
class _State:
    customers: dict[str, dict] = field(default_factory=dict)
    payment_intents: dict[str, dict] = field(default_factory=dict)
    charges: dict[str, dict] = field(default_factory=dict)
    sessions: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    disputes: dict[str, dict] = field(default_factory=dict)
    # Idempotency-Keys of requests still executing (a second one gets 409).
    in_flight: set[str] = field(default_factory=set)
    # Idempotency-Key -> (method, path, params, status, body)
    idempotency: dict[str, tuple[str, str, dict, int, dict]] = field(default_factory=dict)


class FakeStripe:
    """The fake Stripe API server. Thread-safe: one lock serialises state changes."""

    def __init__(self, api_key: str, webhook_secret: str):
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.requests: list[RecordedRequest] = []
        self.next_refund_status = "succeeded"
        self._state = _State()
        self._faults: list[_Fault] = []
        self._lock = threading.RLock()
        self._release = threading.Event()  # ends every hang (at teardown)
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> "FakeStripe":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    # Faults

    def fail_next(
        self, n=1, *, status=500, method=None, path=None, cached=False, should_retry=None
    ) -> None:
        """Answer `status` to the next n matching calls: a 5xx is Stripe's `api_error`
        (with `cached`, raised inside the endpoint and so replayed for its idempotency key),
        409 `idempotency_key_in_use` and 429 `rate_limit` as Stripe sends them.
        `should_retry` sets `Stripe-Should-Retry` ("true"/"false")."""
        with self._lock:
            self._faults.append(
                _Fault(n, method, path, status=status, cached=cached, should_retry=should_retry)
            )

    def hang_next(
        self, n=1, *, method=None, path=None, after_processing=False, in_flight=False
    ) -> None:
        """Keep the next n matching calls waiting until the client times out.

        With `after_processing`, the change is made first and only the answer is lost
        (Stripe did it, the caller cannot know). With `in_flight`, Stripe is still
        executing it meanwhile: a request with the same idempotency key gets 409."""
        with self._lock:
            self._faults.append(
                _Fault(
                    n,
                    method,
                    path,
                    hang=True,
                    after_processing=after_processing,
                    in_flight=in_flight,
                )
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self.next_refund_status = "succeeded"
        self._release.set()
        self._release = threading.Event()

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.calls_left -= 1
                    return fault
        return None

    # What the SDK sent

    def requests_to(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        with self._lock:
            return [
                r for r in self.requests if r.method == method and r.path.startswith(path_prefix)
            ]

    # Reading state (copies, so tests cannot change it behind the API's back)

    def customer(self, customer_id: str) -> dict:
        with self._lock:
            return json.loads(json.dumps(self._state.customers[customer_id]))

    def customers_of(self, organization_id: str) -> list[dict]:
        with self._lock:
            return [
                dict(c)
                for c in self._state.customers.values()
                if c.get("metadata", {}).get("organization_id") == organization_id
            ]

    def payment_intents_with(self, **metadata: str) -> list[dict]:
        """The PaymentIntents whose metadata has these values (one the caller never saw)."""
        with self._lock:
            return [
                self._payment_intent_view(pi)
                for pi in self._state.payment_intents.values()
                if all(pi["metadata"].get(k) == v for k, v in metadata.items())
            ]

    def payment_intent(self, payment_intent_id: str) -> dict:
        with self._lock:
            return self._payment_intent_view(self._get_pi(payment_intent_id))

    def checkout_session(self, session_id: str) -> dict:
        with self._lock:
            return dict(self._get_session(session_id))

    def charge(self, charge_id: str) -> dict:
        with self._lock:
            return self._charge_view(self._state.charges[charge_id])

    def refund(self, refund_id: str) -> dict:
        with self._lock:
            return dict(self._state.refunds[refund_id])

    # Moving state, as the browser, the bank or the dashboard would

    def succeed_payment(self, payment_intent_id: str) -> dict:
        """The customer paid: the PaymentIntent succeeds with a charge for its amount."""
        with self._lock:
            pi = self._get_pi(payment_intent_id)
            charge = self._new_charge(pi)
            pi.update(
                status="succeeded",
                amount_received=pi["amount"],
                latest_charge=charge["id"],
                last_payment_error=None,
                payment_method=f"pm_{self._token()}",
            )
            return self._payment_intent_view(pi)

    def fail_payment(
        self, payment_intent_id: str, decline_code="card_declined", message=None
    ) -> dict:
        """A declined attempt: back to `requires_payment_method` with `last_payment_error`."""
        code = "card_declined" if decline_code != "authentication_required" else decline_code
        with self._lock:
            pi = self._get_pi(payment_intent_id)
            pi.update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": code,
                    "decline_code": decline_code,
                    "message": message or "Your card was declined.",
                    "doc_url": f"https://stripe.com/docs/error-codes/{code}",
                    "param": None,
                },
            )
            return self._payment_intent_view(pi)

    def cancel_payment(self, payment_intent_id: str, reason="abandoned") -> dict:
        with self._lock:
            pi = self._get_pi(payment_intent_id)
            pi.update(status="canceled", canceled_at=self._now(), cancellation_reason=reason)
            return self._payment_intent_view(pi)

    def set_amount(self, payment_intent_id: str, amount: int) -> None:
        """Make Stripe's record disagree with ours (for mismatch tests)."""
        with self._lock:
            pi = self._get_pi(payment_intent_id)
            pi["amount"] = amount
            if pi["status"] == "succeeded":
                pi["amount_received"] = amount

    def complete_checkout(self, session_id: str, *, paid: bool = True) -> dict:
        """The customer finished the Checkout page; `paid=False` is a delayed method still
        processing (`payment_status` `unpaid`; later `succeed_payment` or `fail_payment`)."""
        with self._lock:
            session = self._get_session(session_id)
            pi = self._checkout_payment_intent(session)
            if paid:
                self.succeed_payment(pi["id"])
            else:
                pi["status"] = "processing"
            session.update(
                status="complete",
                payment_status="paid" if paid else "unpaid",
                payment_intent=pi["id"],
            )
            return dict(session)

    def settle_checkout(self, session_id: str) -> dict:
        """A delayed payment method finished paying after the session completed."""
        with self._lock:
            session = self._get_session(session_id)
            self.succeed_payment(session["payment_intent"])
            session["payment_status"] = "paid"
            return dict(session)

    def expire_checkout(self, session_id: str) -> dict:
        with self._lock:
            session = self._get_session(session_id)
            session["status"] = "expired"
            return dict(session)

    def settle_refund(self, refund_id: str, status: str, failure_reason="declined") -> dict:
        """A pending refund ends `succeeded` or `failed`; a succeeded one may still fail
        later (Stripe: "refunds can fail after succeeding", e.g. `expired_or_canceled_card`).
        A failed refund gives its amount back to the charge, and a
        `failure_balance_transaction` reverses its balance transaction."""
        with self._lock:
            refund = self._state.refunds[refund_id]
            if status == "failed" and refund["status"] != "failed":
                self._state.charges[refund["charge"]]["amount_refunded"] -= refund["amount"]
                refund["failure_reason"] = failure_reason
                refund["failure_balance_transaction"] = f"txn_{self._token()}"
            refund["status"] = status
            return dict(refund)

    # Disputes, as the cardholder's bank and Stripe move them

    def open_dispute(
        self, payment_intent_id: str, amount: int | None = None, reason="fraudulent"
    ) -> dict:
        """The cardholder disputes the charge (default: what is not refunded of it)."""
        with self._lock:
            charge = self._state.charges[self._get_pi(payment_intent_id)["latest_charge"]]
            left = charge["amount"] - charge["amount_refunded"]
            # "A charge that has been fully refunded cannot be disputed."
            assert left > 0, "a fully refunded charge cannot be disputed"
            dispute = {
                "id": f"du_{self._token()}",
                "object": "dispute",
                "amount": left if amount is None else amount,
                "balance_transactions": [],
                "charge": charge["id"],
                "created": self._now(),
                "currency": charge["currency"],
                "evidence_details": {"due_by": self._now() + 7 * 86400, "has_evidence": False},
                "is_charge_refundable": False,
                "livemode": False,
                "metadata": {},
                "payment_intent": payment_intent_id,
                "reason": reason,
                "status": "needs_response",
            }
            charge["disputed"] = True
            self._state.disputes[dispute["id"]] = dispute
            return json.loads(json.dumps(dispute))

    def withdraw_dispute_funds(self, dispute_id: str) -> dict:
        """Stripe takes the disputed amount from the balance (`charge.dispute.funds_withdrawn`)."""
        with self._lock:
            dispute = self._state.disputes[dispute_id]
            dispute["balance_transactions"].append(
                {"id": f"txn_{self._token()}", "amount": -dispute["amount"], "type": "adjustment"}
            )
            dispute["status"] = "under_review"
            return json.loads(json.dumps(dispute))

    def close_dispute(self, dispute_id: str, status: str) -> dict:
        """The bank decides: `won` reinstates the funds, `lost` keeps them withdrawn."""
        assert status in ("won", "lost", "warning_closed"), status
        with self._lock:
            dispute = self._state.disputes[dispute_id]
            if status == "won" and dispute["balance_transactions"]:
                dispute["balance_transactions"].append(
                    {
                        "id": f"txn_{self._token()}",
                        "amount": dispute["amount"],
                        "type": "adjustment",
                    }
                )
            dispute["status"] = status
            return json.loads(json.dumps(dispute))

    def dispute(self, dispute_id: str) -> dict:
        with self._lock:
            return json.loads(json.dumps(self._state.disputes[dispute_id]))

    def refund_in_dashboard(self, payment_intent_id: str, amount: int | None = None) -> dict:
        """A refund made outside the service, as an operator would in the dashboard."""
        with self._lock:
            return self._create_refund(
                {
                    "payment_intent": payment_intent_id,
                    **({"amount": str(amount)} if amount is not None else {}),
                }
            )

    def edit_customer(self, customer_id: str, **fields) -> dict:
        """An edit in the dashboard (`metadata={...}` replaces the metadata)."""
        with self._lock:
            customer = self._live_customer(customer_id)
            customer.update(fields)
            return dict(customer)

    def delete_customer(self, customer_id: str) -> dict:
        with self._lock:
            return self._delete_customer(customer_id)

    # Events

    def event(self, type_: str, obj: dict, *, event_id: str | None = None) -> dict:
        """A Stripe event (snapshot payload) about `obj`."""
        return {
            "id": event_id or f"evt_{self._token()}",
            "object": "event",
            "api_version": API_VERSION,
            "created": self._now(),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }

    def sign(self, body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> str:
        """A `Stripe-Signature` header for `body`, by Stripe's documented scheme."""
        return stripe.WebhookSignature.generate_signature_header(
            body.decode(), secret or self.webhook_secret, timestamp
        )

    # HTTP dispatch

    def handle(self, method: str, path: str, headers: dict[str, str], body: str):
        """Answer one request: (status, body dict, extra headers)."""
        params = parse_form(body)
        key = headers.get("idempotency-key") if method == "POST" else None
        with self._lock:
            self.requests.append(RecordedRequest(method, path, params, headers))
        fault = self._take_fault(method, path)
        if fault and fault.status:
            return self._fault_answer(fault, method, path, params, key)
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, StripeAPIError(401, "Invalid API Key provided").body, {}
        version = headers.get("stripe-version")
        if version is not None and version != API_VERSION:
            error = StripeAPIError(400, f"Invalid Stripe API version: {version}")
            return 400, error.body, {}
        with self._lock:
            earlier = self._replay(key, method, path, params)
            if earlier is not None:
                return earlier
            if key in self._state.in_flight:
                return self._in_use()
            # A hang before processing is a request lost on the way: Stripe never saw it.
            executing = bool(key) and not (fault and fault.hang and not fault.in_flight)
            if key is not None and executing:
                self._state.in_flight.add(key)
        try:
            if fault and fault.hang and not fault.after_processing:
                self._hang()
            answer = self._answer(method, path, params, key)
        finally:
            if executing:
                with self._lock:
                    self._state.in_flight.discard(key)
        if fault and fault.hang:
            self._hang()
        return answer

    def _hang(self) -> None:
        self._release.wait(timeout=30)

    @staticmethod
    def _in_use():
        error = StripeAPIError(
            409,
            "There is currently another in-progress request using this Stripe-Idempotency-Key "
            "(that is, a request with the same key). Please try again later.",
            code="idempotency_key_in_use",
        )
        return 409, error.body, {"Stripe-Should-Retry": "true"}

    def _fault_answer(self, fault: _Fault, method, path, params, key):
        if fault.status == 409:
            status, body, headers = self._in_use()
        elif fault.status == 429:
            status, headers = 429, {}
            body = StripeAPIError(
                429,
                "Request rate limit exceeded. Learn more about rate limits here "
                "https://stripe.com/docs/rate-limits.",
                code="rate_limit",
            ).body
        else:
            status, headers = fault.status, {}
            body = {"error": {"type": "api_error", "message": "fake outage"}}
        if fault.should_retry is not None:
            headers = {**headers, "Stripe-Should-Retry": fault.should_retry}
        if fault.cached and key:
            with self._lock:
                self._state.idempotency[key] = (method, path, params, status, body)
        return status, body, headers

    def _replay(self, key, method, path, params):
        """The saved answer for this key, or a 400 when it comes with other parameters."""
        earlier = self._state.idempotency.get(key) if key else None
        if earlier is None:
            return None
        if earlier[:3] != (method, path, params):
            error = StripeAPIError(
                400,
                "Keys for idempotent requests can only be used with the same "
                "parameters they were first used with. Try using a key other "
                f"than '{key}' if you meant to execute a different request.",
                type_="idempotency_error",
            )
            return 400, error.body, {}
        headers = {"Idempotent-Replayed": "true"}
        if earlier[3] >= 500:
            # A replayed 500 would be replayed again: Stripe tells the SDK not to retry it.
            headers["Stripe-Should-Retry"] = "false"
        return earlier[3], earlier[4], headers

    def _answer(self, method, path, params, key):
        with self._lock:
            try:
                self._check_params(method, path, params)
                status, body, headers = 200, self._route(method, path, params), {}
            except StripeAPIError as e:
                status, body, headers = e.status, e.body, e.headers
                if not e.saved:
                    return status, body, headers
            if key:
                self._state.idempotency[key] = (method, path, params, status, body)
            return status, body, headers

    def _check_params(self, method: str, path: str, params: dict) -> None:
        """Refuse a parameter the operation does not have (see `_PARAMS`)."""
        parts = path.strip("/").split("/")
        allowed = next(
            (names for pattern, names in _PARAMS.items() if _matches(pattern, method, parts)),
            None,
        )
        if allowed is None:
            return
        _known(params, allowed | {"expand"}, "")
        for i, item in enumerate(params.get("line_items") or []):
            _known(item, _LINE_ITEM_PARAMS, f"line_items[{i}]")
            _known(item.get("price_data") or {}, _PRICE_DATA_PARAMS, f"line_items[{i}][price_data]")

    def _route(self, method: str, path: str, params: dict) -> dict:
        parts = path.strip("/").split("/")
        routes: dict[tuple, Callable[..., dict]] = {
            ("POST", "customers"): lambda: self._create_customer(params),
            ("GET", "customers", "*"): lambda: self._customer_view(parts[2]),
            ("POST", "customers", "*"): lambda: self._update_customer(parts[2], params),
            ("DELETE", "customers", "*"): lambda: self._delete_customer(parts[2]),
            ("POST", "payment_intents"): lambda: self._create_payment_intent(params),
            ("GET", "payment_intents", "*"): lambda: self._retrieve_pi(parts[2], params),
            ("POST", "payment_intents", "*", "cancel"): lambda: self.cancel_payment(
                parts[2], params.get("cancellation_reason", "requested_by_customer")
            ),
            ("POST", "checkout", "sessions"): lambda: self._create_session(params),
            ("GET", "checkout", "sessions", "*"): lambda: dict(self._get_session(parts[3])),
            ("GET", "charges", "*"): lambda: self._charge_view(self._get_charge(parts[2])),
            ("POST", "refunds"): lambda: self._create_refund(params),
            ("GET", "refunds", "*"): lambda: dict(self._get_refund(parts[2])),
            ("GET", "disputes", "*"): lambda: dict(
                self._find(self._state.disputes, "dispute", parts[2])
            ),
        }
        for pattern, route in routes.items():
            if _matches(pattern, method, parts):
                return route()
        raise StripeAPIError(404, f"Unrecognized request URL ({method}: {path}).")

    # Objects

    def _token(self) -> str:
        return f"{next(self._ids):06d}{secrets.token_hex(7)}"

    @staticmethod
    def _now() -> int:
        return int(time.time())

    def _create_customer(self, params: dict) -> dict:
        customer = {
            "id": f"cus_{self._token()}",
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": self._now(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": params.get("description"),
            "email": params.get("email"),
            "invoice_prefix": secrets.token_hex(4).upper(),
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "name": params.get("name"),
            "phone": None,
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        self._state.customers[customer["id"]] = customer
        return dict(customer)

    def _customer_view(self, customer_id: str) -> dict:
        customer = self._state.customers.get(customer_id)
        if customer is None:
            raise _missing("customer", customer_id)
        return dict(customer)

    def _update_customer(self, customer_id: str, params: dict) -> dict:
        customer = self._live_customer(customer_id)
        metadata = {**customer["metadata"], **params.pop("metadata", {})}
        customer.update(params, metadata={k: v for k, v in metadata.items() if v != ""})
        return dict(customer)

    def _delete_customer(self, customer_id: str) -> dict:
        self._live_customer(customer_id)
        # Stripe keeps answering a deleted customer's id with this stub.
        self._state.customers[customer_id] = {
            "id": customer_id,
            "object": "customer",
            "deleted": True,
        }
        return dict(self._state.customers[customer_id])

    def _live_customer(self, customer_id: str) -> dict:
        customer = self._state.customers.get(customer_id)
        if customer is None or customer.get("deleted"):
            raise _missing("customer", customer_id)
        return customer

    def _amount(self, params: dict, name: str = "amount") -> int:
        raw = params.get(name)
        if raw is None:
            raise _parameter_error(
                f"Missing required param: {name}.", code="parameter_missing", param=name
            )
        if not raw.isdigit() or int(raw) < 1:
            raise _parameter_error(
                f"Invalid integer: {raw}", code="parameter_invalid_integer", param=name
            )
        return int(raw)

    @staticmethod
    def _check_charge_amount(amount: int, currency: str, param: str = "amount") -> None:
        """Stripe's minimum and maximum charge amounts (see MINIMUM_CHARGE)."""
        minimum = MINIMUM_CHARGE.get(currency, 50)
        if amount < minimum:
            raise _parameter_error(
                f"Amount must be at least {minimum} {currency}",
                code="amount_too_small",
                param=param,
            )
        if amount > MAXIMUM_CHARGE:
            raise _parameter_error(
                f"Amount must be no more than {MAXIMUM_CHARGE} {currency}",
                code="amount_too_large",
                param=param,
            )

    def _currency(self, params: dict) -> str:
        currency = params.get("currency")
        if currency is None:
            raise _parameter_error(
                "Missing required param: currency.", code="parameter_missing", param="currency"
            )
        return currency.lower()

    def _create_payment_intent(self, params: dict) -> dict:
        amount, currency = self._amount(params), self._currency(params)
        self._check_charge_amount(amount, currency)
        if params.get("customer"):
            self._live_customer(params["customer"])
        pi_id = f"pi_{self._token()}"
        pi = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "always"},
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic",
            "client_secret": f"{pi_id}_secret_{secrets.token_urlsafe(18)}",
            "confirmation_method": "automatic",
            "created": self._now(),
            "currency": currency,
            "customer": params.get("customer"),
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "processing": None,
            "receipt_email": params.get("receipt_email"),
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }
        self._state.payment_intents[pi_id] = pi
        return self._payment_intent_view(pi)

    def _get_pi(self, payment_intent_id: str) -> dict:
        return self._find(self._state.payment_intents, "payment_intent", payment_intent_id)

    @staticmethod
    def _find(table: dict[str, dict], kind: str, object_id: str) -> dict:
        found = table.get(object_id)
        if found is None:
            raise _missing(kind, object_id)
        return found

    def _retrieve_pi(self, payment_intent_id: str, params: dict) -> dict:
        view = self._payment_intent_view(self._get_pi(payment_intent_id))
        if "latest_charge" in params.get("expand", []) and view["latest_charge"]:
            view["latest_charge"] = self._charge_view(self._state.charges[view["latest_charge"]])
        return view

    def _payment_intent_view(self, pi: dict) -> dict:
        return json.loads(json.dumps(pi))

    def _new_charge(self, pi: dict) -> dict:
        charge = {
            "id": f"ch_{self._token()}",
            "object": "charge",
            "amount": pi["amount"],
            "amount_captured": pi["amount"],
            "amount_refunded": 0,
            "balance_transaction": f"txn_{self._token()}",
            "captured": True,
            "created": self._now(),
            "currency": pi["currency"],
            "customer": pi["customer"],
            "description": pi["description"],
            "disputed": False,
            "failure_code": None,
            "failure_message": None,
            "livemode": False,
            "metadata": dict(pi["metadata"]),
            "outcome": {
                "network_status": "approved_by_network",
                "reason": None,
                "risk_level": "normal",
                "seller_message": "Payment complete.",
                "type": "authorized",
            },
            "paid": True,
            "payment_intent": pi["id"],
            "payment_method": f"pm_{self._token()}",
            "receipt_email": None,
            "refunded": False,
            "status": "succeeded",
        }
        self._state.charges[charge["id"]] = charge
        return charge

    def _get_charge(self, charge_id: str) -> dict:
        return self._find(self._state.charges, "charge", charge_id)

    def _charge_view(self, charge: dict) -> dict:
        # `refunded` is true only once the whole amount has come back.
        refunds = [r for r in self._state.refunds.values() if r["charge"] == charge["id"]]
        return {
            **charge,
            "refunded": charge["amount_refunded"] >= charge["amount"],
            "refunds": {
                "object": "list",
                "data": [dict(r) for r in refunds],
                "has_more": False,
                "url": f"/v1/charges/{charge['id']}/refunds",
            },
        }

    def _create_session(self, params: dict) -> dict:
        if params.get("mode") != "payment":
            raise StripeAPIError(400, "This fake serves mode=payment only.", param="mode")
        items = params.get("line_items") or []
        if not items:
            raise StripeAPIError(
                400,
                "Missing required param: line_items.",
                code="parameter_missing",
                param="line_items",
            )
        price = items[0].get("price_data", {})
        quantity = int(items[0].get("quantity", "1"))
        amount = self._amount(price, "unit_amount") * quantity
        currency = self._currency(price)
        self._check_charge_amount(amount, currency, "line_items[0][price_data][unit_amount]")
        if params.get("customer"):
            self._live_customer(params["customer"])
        session_id = f"cs_test_{self._token()}"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": self._now(),
            "currency": currency,
            "customer": params.get("customer"),
            "customer_email": params.get("customer_email"),
            "expires_at": self._now() + 24 * 3600,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "mode": "payment",
            # Stripe makes the PaymentIntent when the customer pays, not before.
            "payment_intent": None,
            "payment_intent_data": params.get("payment_intent_data", {}),
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params.get("success_url"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }
        self._state.sessions[session_id] = session
        return self._session_view(session)

    def _get_session(self, session_id: str) -> dict:
        return self._find(self._state.sessions, "checkout.session", session_id)

    @staticmethod
    def _session_view(session: dict) -> dict:
        return {k: v for k, v in session.items() if k != "payment_intent_data"}

    def _checkout_payment_intent(self, session: dict) -> dict:
        if session["payment_intent"]:
            return self._get_pi(session["payment_intent"])
        pi = self._create_payment_intent(
            {
                "amount": str(session["amount_total"]),
                "currency": session["currency"],
                "customer": session["customer"],
                "metadata": session["payment_intent_data"].get("metadata", {}),
            }
        )
        return self._state.payment_intents[pi["id"]]

    def _create_refund(self, params: dict) -> dict:
        if params.get("payment_intent"):
            pi = self._get_pi(params["payment_intent"])
            if pi["status"] != "succeeded" or not pi["latest_charge"]:
                raise StripeAPIError(
                    400,
                    f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                    code="payment_intent_unexpected_state",
                    param="payment_intent",
                )
            charge = self._state.charges[pi["latest_charge"]]
        elif params.get("charge"):
            charge = self._get_charge(params["charge"])
        else:
            raise StripeAPIError(
                400,
                "One of the following params should be provided for this "
                "request: payment_intent or charge.",
                code="parameter_missing",
            )
        if any(
            d["charge"] == charge["id"] and (d["status"] in _OPEN_DISPUTE or d["status"] == "lost")
            for d in self._state.disputes.values()
        ):
            raise StripeAPIError(
                400,
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                code="charge_disputed",
            )
        left = charge["amount"] - charge["amount_refunded"]
        if left <= 0:
            raise StripeAPIError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = self._amount(params) if "amount" in params else left
        if amount > left:
            raise StripeAPIError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        if params.get("reason") not in _REFUND_REASONS:
            raise _parameter_error(
                f"Invalid reason: {params['reason']}", code="parameter_invalid", param="reason"
            )
        status = self.next_refund_status
        refund = {
            "id": f"re_{self._token()}",
            "object": "refund",
            "amount": amount,
            "balance_transaction": f"txn_{self._token()}" if status == "succeeded" else None,
            "charge": charge["id"],
            "created": self._now(),
            "currency": charge["currency"],
            "destination_details": {"card": {"type": "refund"}, "type": "card"},
            "failure_balance_transaction": None,
            "failure_reason": "declined" if status == "failed" else None,
            "metadata": params.get("metadata", {}),
            "payment_intent": charge["payment_intent"],
            "reason": params.get("reason"),
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": status,
            "transfer_reversal": None,
        }
        # Pending refunds count against what is left; a failed one never did.
        if status != "failed":
            charge["amount_refunded"] += amount
        self._state.refunds[refund["id"]] = refund
        return dict(refund)

    def _get_refund(self, refund_id: str) -> dict:
        return self._find(self._state.refunds, "refund", refund_id)


def _matches(pattern: tuple, method: str, parts: list[str]) -> bool:
    """Whether `/v1/<parts>` is the operation `(method, *segments)` (`*`: any id)."""
    return (
        pattern[0] == method
        and parts[0] == "v1"
        and len(pattern) == len(parts)
        and all(p in ("*", part) for p, part in zip(pattern[1:], parts[1:], strict=True))
    )


def _known(params: dict, allowed: set[str], prefix: str) -> None:
    for name in params:
        if name not in allowed:
            full = f"{prefix}[{name}]" if prefix else name
            raise _parameter_error(
                f"Received unknown parameter: {full}", code="parameter_unknown", param=full
            )


def _handler_for(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            url = urlsplit(self.path)
            if url.query:
                body = "&".join(filter(None, [body, url.query]))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer, extra = fake.handle(self.command, url.path, headers, body)
            payload = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
                self.send_header("Stripe-Version", API_VERSION)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a hang fault)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
            pass  # quiet: tests read `fake.requests` instead

    return Handler
