"""A local fake of the Stripe API, for the real `stripe` SDK to talk to over HTTP.

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

Tests move state the way a browser or the dashboard would (`succeed_payment`,
`fail_payment`, `complete_checkout`, `settle_refund`, `delete_customer`, ...), inject
faults on the next calls (`fail_next` answers 5xx, `hang_next` answers after the
client has given up), read what the SDK sent (`requests_to`), and build signed events
(`event`, `sign`). One server serves the whole session; every test uses fresh ids.

Fixtures (registered for the whole suite by `tests/conftest.py`):

- `stripe_server`: the session's server.
- `fake_stripe`: the server, with the test app pointed at it and faults cleared after
  each test.
- `stripe_webhook`: posts signed events to `/v1/webhooks/stripe`.
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

import pytest
import stripe

API_VERSION = "2025-03-31.basil"
ZERO_DECIMAL = {"krw", "jpy", "vnd"}


class StripeAPIError(Exception):
    """An error answer, rendered as Stripe's `{"error": {...}}`."""

    def __init__(self, status: int, message: str, *, type_="invalid_request_error", **extra):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **extra}}


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
    remaining: int
    method: str | None
    path_prefix: str | None
    status: int | None = None  # answer this status...
    hang: bool = False  # ...or keep the client waiting past its timeout
    after_processing: bool = False  # hang after the change was made (answer lost)

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
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

    def fail_next(self, n=1, *, status=500, method=None, path=None) -> None:
        """Answer `status` (Stripe's api_error) to the next n matching calls."""
        with self._lock:
            self._faults.append(_Fault(n, method, path, status=status))

    def hang_next(self, n=1, *, method=None, path=None, after_processing=False) -> None:
        """Keep the next n matching calls waiting until the client times out.

        With `after_processing`, the change is made first and only the answer is lost
        (Stripe did it, the caller cannot know)."""
        with self._lock:
            self._faults.append(
                _Fault(n, method, path, hang=True, after_processing=after_processing)
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
                    fault.remaining -= 1
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
        """A pending refund ends `succeeded` or `failed` (a failed one gives the amount back)."""
        with self._lock:
            refund = self._state.refunds[refund_id]
            if status == "failed" and refund["status"] != "failed":
                self._state.charges[refund["charge"]]["amount_refunded"] -= refund["amount"]
                refund["failure_reason"] = failure_reason
            refund["status"] = status
            return dict(refund)

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
        with self._lock:
            self.requests.append(RecordedRequest(method, path, params, headers))
        fault = self._take_fault(method, path)
        if fault and fault.status:
            return fault.status, {"error": {"type": "api_error", "message": "fake outage"}}, {}
        if fault and fault.hang and not fault.after_processing:
            self._hang()
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, StripeAPIError(401, "Invalid API Key provided").body, {}
        answer = self._answer(method, path, params, headers.get("idempotency-key"))
        if fault and fault.hang:
            self._hang()
        return answer

    def _hang(self) -> None:
        self._release.wait(timeout=30)

    def _answer(self, method, path, params, idempotency_key):
        with self._lock:
            if idempotency_key and method == "POST":
                earlier = self._state.idempotency.get(idempotency_key)
                if earlier is not None:
                    if earlier[:3] != (method, path, params):
                        return (
                            400,
                            StripeAPIError(
                                400,
                                "Keys for idempotent requests can only be used with the same "
                                "parameters they were first used with. Try using a key other "
                                f"than '{idempotency_key}' if you meant to execute a different "
                                "request.",
                                type_="idempotency_error",
                            ).body,
                            {},
                        )
                    return earlier[3], earlier[4], {"Idempotent-Replayed": "true"}
            try:
                status, body = 200, self._route(method, path, params)
            except StripeAPIError as e:
                status, body = e.status, e.body
            if idempotency_key and method == "POST":
                self._state.idempotency[idempotency_key] = (method, path, params, status, body)
            return status, body, {}

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
        }
        for pattern, route in routes.items():
            if (
                pattern[0] == method
                and parts[0] == "v1"
                and len(pattern) == len(parts)
                and all(p in ("*", part) for p, part in zip(pattern[1:], parts[1:], strict=True))
            ):
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
            raise StripeAPIError(
                400, f"Missing required param: {name}.", code="parameter_missing", param=name
            )
        if not raw.isdigit() or int(raw) < 1:
            raise StripeAPIError(
                400, f"Invalid integer: {raw}", code="parameter_invalid_integer", param=name
            )
        return int(raw)

    def _currency(self, params: dict) -> str:
        currency = params.get("currency")
        if currency is None:
            raise StripeAPIError(
                400, "Missing required param: currency.", code="parameter_missing", param="currency"
            )
        return currency.lower()

    def _create_payment_intent(self, params: dict) -> dict:
        amount, currency = self._amount(params), self._currency(params)
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
        if params.get("reason") not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            raise StripeAPIError(400, f"Invalid reason: {params['reason']}", param="reason")
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


# Fixtures


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
