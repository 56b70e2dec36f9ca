"""A local stand-in for the PortOne V2 REST API, and webhooks signed as PortOne signs them.

The tests run it (`tests/fakes/portone.py` has the fixtures) and so does `make demo`
(`sandbox/__main__.py`, with `portone_sdk` for the browser).

The real adapter (`ledger/gateways/portone.py`) talks to this server over HTTP through
`PORTONE_API_BASE`; nothing of ours is patched. Response shapes follow PortOne's OpenAPI
description (`shared/gateway-specs/portone-v2.openapi.json`; `tests/gateways/
test_portone_fake.py` validates them against it).

What it speaks:

- `GET /payments/{paymentId}[?storeId=]`: the payment (`READY`, `VIRTUAL_ACCOUNT_ISSUED`,
  `PAID`, `FAILED`, `PARTIAL_CANCELLED`, `CANCELLED`), with `amount{...}` and `cancellations[]`.
- `POST /payments/{paymentId}/cancel` with `reason`, `amount` (default: all that is left)
  and `currentCancellableAmount`: partial cancels accumulate in `amount.cancelled`;
  errors `PAYMENT_NOT_FOUND`, `PAYMENT_NOT_PAID`, `PAYMENT_ALREADY_CANCELLED`,
  `CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN`, `CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT`.
- `Authorization: PortOne <secret>` on every call (`401 UNAUTHORIZED` otherwise).

Beyond the happy path (PortOne's V2 OpenAPI description and its guides):

- `refuse_next_cancel(pg_code, pg_message)`: the PG itself refuses the next cancel, answered
  502 `{"type": "PG_PROVIDER", "message", "pgCode", "pgMessage"}` (`PgProviderError`,
  `x-portone-status-code: 502`): an answer, not an outage.
- Virtual accounts (가상계좌): `issue_virtual_account`, then `deposit` makes it `PAID`.
  Cancelling one needs `refundAccount{bank, number, holderName}` (`CancelPaymentBody.
  refundAccount`: "계좌 환불일 경우 입력합니다 ... 가상계좌 환불"), `bank` one of the `Bank`
  enum; without it the cancel is a 400 `INVALID_REQUEST`.
- A cancel's `reason` is kept to its first `REASON_KEPT` characters, as a PG keeps a short
  cancel message: whatever a caller puts at its end may be lost.
- `pay_pending` (`PAY_PENDING`: approved by the customer, awaiting the PG's confirmation).
- Disputes: `open_dispute` adds an `UNRESOLVED` entry to `disputes[]` (`Dispute` has a
  status, `pgDisputeId`, `reason` and times, but no amount); `resolve_dispute(lost=True)`
  also cancels what is left with `trigger` `CHARGEBACK`, which is how a lost chargeback
  shows in the payment. Webhooks `Transaction.DisputeCreated` / `.DisputeResolved`.
- `legacy_webhook`: the 2024-01-01 body `{payment_id, tx_id, status}`, as JSON or
  form-encoded, signed the same way.

Cancellations end `SUCCEEDED` unless `cancellation_outcomes(...)` says otherwise. A
`REQUESTED` one holds its amount (it is not cancellable twice) but counts in
`amount.cancelled` only once `settle_cancellation` makes it `SUCCEEDED`; a `FAILED` one
changes nothing. Test controls: `pay`, `fail`, `issue_virtual_account`, `ready`, `cancel`
(a cancel made in PortOne's console), `fail_next`/`hang_next` (faults for the next calls),
and `requests` (what the adapter sent).

"""

import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import standardwebhooks

from ledger import clock
from ledger.domain.refunds import REFUND_BANKS

# What the fake keeps of a cancel reason (a PG keeps a short cancel message).
REASON_KEPT = 100
# 2024-01-01 webhook statuses: the 2024-04-25 types without their `Transaction.` prefix.
LEGACY_STATUSES = frozenset(
    {
        "Ready",
        "Paid",
        "VirtualAccountIssued",
        "PartialCancelled",
        "Cancelled",
        "Failed",
        "PayPending",
        "CancelPending",
    }
)


def _rfc3339(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class _Fault:
    calls_left: int
    method: str | None
    status: int | None  # answer this status instead
    body: bytes
    hang_seconds: float  # or sleep this long first
    apply_first: bool = False  # hang after the call took effect (a timeout hiding a success)


class _PortOneError(Exception):
    def __init__(self, status: int, type_: str, message: str, **extra: str):
        super().__init__(message)
        self.status = status
        self.body = {"type": type_, "message": message, **extra}


class FakePortOne:
    """A stateful, thread-safe PortOne V2 API on 127.0.0.1 (an ephemeral port)."""

    def __init__(
        self,
        *,
        api_secret: str,
        store_id: str,
        webhook_secret: str,
        channel_key: str = "channel-key-test",
    ):
        self.channel_key = channel_key
        self.api_secret = api_secret
        self.store_id = store_id
        self.webhook_secret = webhook_secret
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.reset()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "FakePortOne":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers that hang
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        """Forget payments, faults, outcomes and the request log."""
        with self._lock:
            self._payments: dict[str, dict[str, Any]] = {}
            self._faults: list[_Fault] = []
            self._outcomes: deque[str] = deque()
            self._pg_refusals: deque[tuple[str, str]] = deque()
            self.requests: list[Recorded] = []

    # Payments as the browser and the card network leave them

    def ready(self, payment_id: str, amount: int, currency: str = "KRW") -> dict[str, Any]:
        """The payment window was opened and nothing else happened."""
        return self._put(payment_id, "READY", amount, currency)

    def pay(
        self, payment_id: str, amount: int, currency: str = "KRW", paid_at: datetime | None = None
    ) -> dict[str, Any]:
        """The customer paid `amount` in `currency` (which may differ from what we asked)."""
        payment = self._put(payment_id, "PAID", amount, currency)
        with self._lock:
            payment["paidAt"] = _rfc3339(paid_at)
            payment["amount"]["paid"] = amount
            payment["method"] = {"type": "PaymentMethodCard", "approvalNumber": "30012345"}
            payment["receiptUrl"] = f"https://receipt.example/{payment_id}"
            return json.loads(json.dumps(payment))

    def fail(
        self,
        payment_id: str,
        amount: int,
        currency: str = "KRW",
        reason: str = "card declined",
        pg_code: str = "V801",
    ) -> dict[str, Any]:
        payment = self._put(payment_id, "FAILED", amount, currency)
        with self._lock:
            payment["failedAt"] = _rfc3339()
            payment["failure"] = {"reason": reason, "pgCode": pg_code, "pgMessage": reason}
            return json.loads(json.dumps(payment))

    def issue_virtual_account(
        self, payment_id: str, amount: int, currency: str = "KRW"
    ) -> dict[str, Any]:
        """A bank-transfer account was issued; `pay` later is the deposit."""
        payment = self._put(payment_id, "VIRTUAL_ACCOUNT_ISSUED", amount, currency)
        with self._lock:
            payment["method"] = {
                "type": "PaymentMethodVirtualAccount",
                "bank": "SHINHAN",
                "accountNumber": "56211234567890",
                "remitteeName": "Acme Ads",
            }
            return json.loads(json.dumps(payment))

    def deposit(self, payment_id: str, paid_at: datetime | None = None) -> dict[str, Any]:
        """The payer transferred the money into the issued virtual account."""
        with self._lock:
            payment = self._payments[payment_id]
            assert payment["status"] == "VIRTUAL_ACCOUNT_ISSUED", payment["status"]
            now = _rfc3339()
            payment.update(
                status="PAID", paidAt=_rfc3339(paid_at), updatedAt=now, statusChangedAt=now
            )
            payment["amount"]["paid"] = payment["amount"]["total"]
            return json.loads(json.dumps(payment))

    def pay_pending(self, payment_id: str, amount: int, currency: str = "KRW") -> dict[str, Any]:
        """Approved by the customer, waiting for the PG's confirmation (`PAY_PENDING`)."""
        return self._put(payment_id, "PAY_PENDING", amount, currency)

    def open_dispute(self, payment_id: str, reason: str = "chargeback") -> dict[str, Any]:
        with self._lock:
            dispute = {
                "status": "UNRESOLVED",
                "pgDisputeId": f"pgd-{uuid.uuid4().hex[:10]}",
                "reason": reason,
                "createdAt": _rfc3339(),
            }
            self._payments[payment_id]["disputes"].append(dispute)
            return dict(dispute)

    def resolve_dispute(self, payment_id: str, *, lost: bool) -> dict[str, Any]:
        """The open dispute ends; a lost one takes back what is left as a CHARGEBACK cancel."""
        with self._lock:
            payment = self._payments[payment_id]
            dispute = next(d for d in payment["disputes"] if d["status"] == "UNRESOLVED")
            dispute.update(status="RESOLVED", resolvedAt=_rfc3339())
            if lost:
                self._cancel(
                    payment_id, {"reason": "chargeback"}, trigger="CHARGEBACK", status="SUCCEEDED"
                )
            return dict(dispute)

    def refuse_next_cancel(self, pg_code: str = "F113", pg_message: str = "취소기간 경과") -> None:
        """The PG refuses the next cancel made through the API (PortOne's `PG_PROVIDER`)."""
        with self._lock:
            self._pg_refusals.append((pg_code, pg_message))

    def _put(self, payment_id: str, status: str, amount: int, currency: str) -> dict[str, Any]:
        now = _rfc3339()
        with self._lock:
            payment = self._payments.get(payment_id)
            if payment is None:
                payment = {
                    "id": payment_id,
                    "merchantId": "merchant-fake",
                    "storeId": self.store_id,
                    "channel": {
                        "type": "TEST",
                        "id": "channel-fake",
                        "key": self.channel_key,
                        "name": "KG Inicis",
                        "pgProvider": "INICIS_V2",
                        "pgMerchantId": "INIpayTest",
                    },
                    "version": "V2",
                    "requestedAt": now,
                    "orderName": f"Prepaid credit for {payment_id}",
                    "customer": {},
                    "origin": {"platformType": "PC", "ipAddress": "203.0.113.7"},
                    "disputes": [],
                    "cancellations": [],
                    "webhooks": [],
                }
                self._payments[payment_id] = payment
            payment.update(
                status=status,
                # A new attempt on the same paymentId is a new transaction.
                transactionId=str(uuid.uuid4()),
                updatedAt=now,
                statusChangedAt=now,
                currency=currency,
                amount=_amount(amount),
            )
            return payment

    def payment(self, payment_id: str) -> dict[str, Any]:
        """A copy of the payment as PortOne would answer it."""
        with self._lock:
            return json.loads(json.dumps(self._payments[payment_id]))

    # Cancellations

    def cancellation_outcomes(self, *statuses: str) -> None:
        """The next cancels end with these statuses (`SUCCEEDED`, `REQUESTED`, `FAILED`)."""
        with self._lock:
            self._outcomes.extend(statuses)

    def cancel(
        self,
        payment_id: str,
        amount: int | None = None,
        reason: str = "console",
        status: str = "SUCCEEDED",
    ) -> dict[str, Any]:
        """A cancel made outside the service (in PortOne's console); returns the cancellation."""
        with self._lock:
            body = {"amount": amount, "reason": reason}
            return self._cancel(payment_id, body, trigger="CONSOLE", status=status)

    def settle_cancellation(self, payment_id: str, cancellation_id: str, status: str) -> dict:
        """A `REQUESTED` cancellation ends `SUCCEEDED` or `FAILED`."""
        with self._lock:
            payment = self._payments[payment_id]
            cancellation = next(c for c in payment["cancellations"] if c["id"] == cancellation_id)
            assert cancellation["status"] == "REQUESTED", cancellation
            cancellation["status"] = status
            if status == "SUCCEEDED":
                self._apply_cancellation(payment, cancellation)
            return json.loads(json.dumps(cancellation))

    def _cancel(
        self, payment_id: str, body: dict[str, Any], *, trigger: str, status: str | None = None
    ) -> dict[str, Any]:
        payment = self._payments.get(payment_id)
        if payment is None:
            raise _PortOneError(404, "PAYMENT_NOT_FOUND", "payment not found")
        reason = body.get("reason")
        if not isinstance(reason, str) or not reason:
            raise _PortOneError(400, "INVALID_REQUEST", "reason is required")
        if payment["status"] == "CANCELLED":
            raise _PortOneError(409, "PAYMENT_ALREADY_CANCELLED", "payment already cancelled")
        if payment["status"] not in ("PAID", "PARTIAL_CANCELLED"):
            raise _PortOneError(409, "PAYMENT_NOT_PAID", "payment is not paid")
        cancellable = _cancellable(payment)
        current = body.get("currentCancellableAmount")
        if current is not None and current != cancellable:
            raise _PortOneError(
                409,
                "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN",
                f"cancellable amount is {cancellable}, not {current}",
            )
        amount = body.get("amount")
        amount = cancellable if amount is None else amount
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise _PortOneError(400, "INVALID_REQUEST", "amount must be a positive integer")
        if amount > cancellable:
            raise _PortOneError(
                409,
                "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT",
                f"{amount} exceeds the cancellable {cancellable}",
            )
        if trigger == "API":
            _check_refund_account(payment, body.get("refundAccount"))
            if self._pg_refusals:
                pg_code, pg_message = self._pg_refusals.popleft()
                raise _PortOneError(
                    502,
                    "PG_PROVIDER",
                    f"PG사에서 오류를 전달했습니다: {pg_message}",
                    pgCode=pg_code,
                    pgMessage=pg_message,
                )
        if status is None:
            status = self._outcomes.popleft() if self._outcomes else "SUCCEEDED"
        now = _rfc3339()
        cancellation = {
            "status": status,
            "id": str(uuid.uuid4()),
            "pgCancellationId": f"pg-{uuid.uuid4().hex[:12]}",
            "totalAmount": amount,
            "taxFreeAmount": 0,
            "vatAmount": amount // 11,
            "reason": reason[:REASON_KEPT],
            "requestedAt": now,
            "trigger": trigger,
        }
        payment["cancellations"].append(cancellation)
        payment["updatedAt"] = now
        if status == "SUCCEEDED":
            self._apply_cancellation(payment, cancellation)
        return json.loads(json.dumps(cancellation))

    @staticmethod
    def _apply_cancellation(payment: dict[str, Any], cancellation: dict[str, Any]) -> None:
        now = _rfc3339()
        cancellation["cancelledAt"] = now
        payment["amount"]["cancelled"] += cancellation["totalAmount"]
        full = payment["amount"]["cancelled"] >= payment["amount"]["total"]
        payment["status"] = "CANCELLED" if full else "PARTIAL_CANCELLED"
        payment["cancelledAt"] = payment["statusChangedAt"] = payment["updatedAt"] = now

    # Faults

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 503,
        body: bytes = b"upstream unavailable",
        method: str | None = None,
    ) -> None:
        """The next `n` calls (of `method`, if given) answer `status` with `body`."""
        with self._lock:
            self._faults.append(_Fault(n, method, status, body, 0.0))

    def hang_next(
        self,
        n: int = 1,
        *,
        seconds: float = 5.0,
        method: str | None = None,
        apply_first: bool = False,
    ) -> None:
        """The next `n` calls sleep `seconds` (past the client's timeout) before they take
        effect, or, with `apply_first`, after: the client times out on a call that worked."""
        with self._lock:
            self._faults.append(_Fault(n, method, None, b"", seconds, apply_first))

    def _take_fault(self, method: str) -> _Fault | None:
        for fault in self._faults:
            if fault.calls_left > 0 and fault.method in (None, method):
                fault.calls_left -= 1
                return fault
        return None

    # Requests

    def calls(self, method: str, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes):
        """Answer one request: (status, body bytes)."""
        split = urlsplit(target)
        path, query = unquote(split.path), parse_qs(split.query)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        with self._lock:
            self.requests.append(Recorded(method, path, query, headers, body))
            fault = self._take_fault(method)
        if fault is not None and fault.status is not None:
            return fault.status, fault.body
        if fault is not None and not fault.apply_first:
            self._stopping.wait(fault.hang_seconds)
        try:
            with self._lock:
                status, answer = 200, self._route(method, path, query, headers, body)
        except _PortOneError as e:
            status, answer = e.status, e.body
        if fault is not None and fault.apply_first:
            self._stopping.wait(fault.hang_seconds)
        return status, json.dumps(answer).encode()

    def _route(self, method, path, query, headers, body) -> dict[str, Any]:
        if headers.get("authorization") != f"PortOne {self.api_secret}":
            raise _PortOneError(401, "UNAUTHORIZED", "invalid API secret")
        store_id = (query.get("storeId") or [None])[0] or (body or {}).get("storeId")
        if store_id not in (None, self.store_id):
            raise _PortOneError(403, "FORBIDDEN", f"no access to store {store_id}")
        parts = path.strip("/").split("/")
        if method == "GET" and len(parts) == 2 and parts[0] == "payments":
            payment = self._payments.get(parts[1])
            if payment is None:
                raise _PortOneError(404, "PAYMENT_NOT_FOUND", "payment not found")
            return json.loads(json.dumps(payment))
        if method == "POST" and len(parts) == 3 and parts[::2] == ["payments", "cancel"]:
            if not isinstance(body, dict):
                raise _PortOneError(400, "INVALID_REQUEST", "a JSON body is required")
            return {"cancellation": self._cancel(parts[1], body, trigger="API")}
        raise _PortOneError(404, "INVALID_REQUEST", f"no route {method} {path}")

    # Webhooks

    def webhook(
        self, type_: str, payment_id: str, *, cancellation_id: str | None = None, **signing
    ) -> tuple[bytes, dict[str, str]]:
        """A signed webhook about one of the fake's payments: (raw body, headers)."""
        with self._lock:
            transaction_id = self._payments[payment_id]["transactionId"]
        data = {"storeId": self.store_id, "paymentId": payment_id, "transactionId": transaction_id}
        if cancellation_id:
            data["cancellationId"] = cancellation_id
        body = json.dumps({"type": type_, "timestamp": _rfc3339(), "data": data}).encode()
        return body, sign_webhook(body, secrets=[self.webhook_secret], **signing)

    def legacy_webhook(
        self, payment_id: str, status: str, *, form: bool = False, **signing
    ) -> tuple[bytes, dict[str, str]]:
        """A signed 2024-01-01 webhook (`{payment_id, tx_id, status}`), JSON or form-encoded."""
        assert status in LEGACY_STATUSES, status
        with self._lock:
            fields = {
                "payment_id": payment_id,
                "tx_id": self._payments[payment_id]["transactionId"],
                "status": status,
            }
        body = urlencode(fields).encode() if form else json.dumps(fields).encode()
        headers = sign_webhook(body, secrets=[self.webhook_secret], **signing)
        if form:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return body, headers


def _check_refund_account(payment: dict[str, Any], account: Any) -> None:
    """A virtual-account payment goes back to a bank account, which the cancel must name."""
    if (payment.get("method") or {}).get("type") != "PaymentMethodVirtualAccount":
        return
    if not isinstance(account, dict):
        raise _PortOneError(400, "INVALID_REQUEST", "refundAccount is required to cancel it")
    if account.get("bank") not in REFUND_BANKS:  # PortOne's `Bank` codes (the banks)
        raise _PortOneError(400, "INVALID_REQUEST", "refundAccount.bank is not a Bank code")
    for name in ("number", "holderName"):
        if not isinstance(account.get(name), str) or not account[name]:
            raise _PortOneError(400, "INVALID_REQUEST", f"refundAccount.{name} is required")


def _amount(total: int) -> dict[str, int]:
    vat = total // 11
    return {
        "total": total,
        "taxFree": 0,
        "vat": vat,
        "supply": total - vat,
        "discount": 0,
        "paid": 0,
        "cancelled": 0,
        "cancelledTaxFree": 0,
    }


def _cancellable(payment: dict[str, Any]) -> int:
    """What is left to cancel: a REQUESTED cancellation already holds its amount."""
    held = sum(c["totalAmount"] for c in payment["cancellations"] if c["status"] == "REQUESTED")
    return payment["amount"]["total"] - payment["amount"]["cancelled"] - held


def sign_webhook(
    body: bytes,
    *,
    secrets: list[str],
    msg_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Standard Webhooks headers for `body`, one `v1,` signature per secret (a rotation
    sends several). Signed with the `standardwebhooks` package, so the adapter's own
    verification is checked against an independent implementation."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(clock.now().timestamp()) if timestamp is None else timestamp
    moment = datetime.fromtimestamp(timestamp, UTC)
    signatures = [
        standardwebhooks.Webhook(secret).sign(msg_id, moment, body.decode()) for secret in secrets
    ]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
        "Content-Type": "application/json",
    }


def _handler_class(fake: FakePortOne) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = fake.handle(self.command, self.path, headers, raw)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nobody to answer

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: `fake.requests` is the log."""

    return Handler
