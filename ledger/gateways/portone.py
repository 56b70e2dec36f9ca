"""PortOne V2 (KG Inicis behind it): the second gateway behind the adapter interface.

Design overview
---------------
- **Creating** a payment calls nothing at PortOne: the browser's `PortOne.requestPayment`
  opens it with a `paymentId` we choose. We use the top-up's id (a UUID: letters, digits
  and `-`, so it needs no escaping and is unique), which also lets a fetched payment say
  which top-up it belongs to.
- **Fetching** (`GET /payments/{paymentId}?storeId=`) is the only thing crediting trusts:
  `amount.total` and `currency` are compared with the top-up by `domain.topups`. PortOne's
  `PAID` and `PARTIAL_CANCELLED` are paid (a partial cancel is a refund, never a reason
  to take the credit back here); `CANCELLED` is canceled, which leaves an already credited
  top-up as it is and keeps an uncredited one from ever being credited (all its money went
  back); `FAILED` is failed; `READY`, `PAY_PENDING`, `VIRTUAL_ACCOUNT_ISSUED` and any status
  PortOne adds later are pending. `refunded_amount` is `amount.cancelled`.
- **Refunding** is `POST /payments/{paymentId}/cancel` with `currentCancellableAmount`:
  PortOne has no idempotency key, and cancels only if what is left equals that number, so
  two cancels made from the same belief cannot both pass. The `reason` starts with our
  idempotency key as a tag, so a retry after a timeout that PortOne refuses as inconsistent
  (the first attempt went through) finds and answers the first cancellation instead. The
  tag comes first and the reason is capped (`CANCEL_REASON_MAX`): a PG keeps a short cancel
  message, and a tag cut off its end could not be found. A virtual-account payment's
  cancel names the bank account the money goes back to (`refundAccount`: bank, number,
  holderName, all required by PortOne). A `PG_PROVIDER` error (HTTP 502, with `pgCode`
  and `pgMessage`) is the PG refusing, an answer: a `GatewayError` with the PG's code and
  message, never "no answer".
- **Disputes** live in the payment (`disputes[]`: `UNRESOLVED` or `RESOLVED`, no amount).
  The disputed amount is what the payment still holds; a resolved dispute was lost when a
  `CHARGEBACK` cancellation took the money back after it opened, and won otherwise. That
  cancellation is the dispute's, not a refund: `refunded_amount` leaves it out.
- **Webhooks** are verified per Standard Webhooks over the raw body (see `_verify`), then
  mapped by type; their body carries no amounts, so they only say which payment to fetch.
  Both body versions PortOne sends are read: 2024-04-25 (`{type, data{paymentId}}`) and
  the older 2024-01-01 (`{payment_id, tx_id, status}`, JSON or form-encoded), which a
  console left on that setting still sends.
- **Currencies**: KRW only. The KG Inicis channel behind `PORTONE_CHANNEL_KEY` settles in
  won; USD would need a separate global channel (and a contract with it), so a USD top-up
  is refused with `unsupported_currency` before anything is called.

Why `requests` and not `portone-server-sdk`: we use two endpoints, the SDK brings httpx
and a generated model per payment state, and it hides the difference between "PortOne
refused" and "no answer", which decides here between failing and retrying. Errors become
`GatewayError(gateway_code=<PortOne's type>)`; timeouts, connection errors and 5xx become
`GatewayUnavailable`.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote

import requests

from ledger import clock
from ledger.errors import InvalidSignature
from ledger.gateways import base as gw

WEBHOOK_TOLERANCE_SECONDS = 5 * 60
# Longest cancel reason sent, tag included (PGs keep a short cancel message).
CANCEL_REASON_MAX = 100

_PAYMENT_STATUSES = {
    "PAID": gw.PAYMENT_PAID,
    "PARTIAL_CANCELLED": gw.PAYMENT_PAID,
    "CANCELLED": gw.PAYMENT_CANCELED,
    "FAILED": gw.PAYMENT_FAILED,
}
_CANCELLATION_STATUSES = {
    "SUCCEEDED": gw.REFUND_SUCCEEDED,
    "REQUESTED": gw.REFUND_PENDING,
    "FAILED": gw.REFUND_FAILED,
}
_PAYMENT_EVENTS = frozenset(
    {
        "Transaction.Ready",
        "Transaction.PayPending",
        "Transaction.VirtualAccountIssued",
        "Transaction.Paid",
        "Transaction.Failed",
    }
)
_REFUND_EVENTS = frozenset(
    {"Transaction.Cancelled", "Transaction.PartialCancelled", "Transaction.CancelPending"}
)
_DISPUTE_EVENTS = frozenset({"Transaction.DisputeCreated", "Transaction.DisputeResolved"})
# 2024-01-01 bodies name a status instead of a type: the same words without the prefix.
_LEGACY_TYPES = {
    type_.removeprefix("Transaction."): type_ for type_ in _PAYMENT_EVENTS | _REFUND_EVENTS
}
_CHARGEBACK = "CHARGEBACK"
# PortOne's answers when a retried cancel finds the first attempt already applied.
_ALREADY_APPLIED = frozenset({"CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN", "PAYMENT_ALREADY_CANCELLED"})


class PortOneGateway(gw.PaymentGateway):
    """PortOne V2 REST API over `requests`."""

    name = "portone"
    currencies = frozenset({"KRW"})
    required_settings = (
        "PORTONE_API_SECRET",
        "PORTONE_WEBHOOK_SECRET",
        "PORTONE_STORE_ID",
        "PORTONE_CHANNEL_KEY",
    )

    def __init__(
        self,
        *,
        api_secret: str,
        webhook_secret: str,
        store_id: str,
        channel_key: str,
        api_base: str,
        timeout: float,
        amount_limits: Mapping[str, gw.AmountLimits] | None = None,
    ):
        self.api_secret = api_secret
        self.amount_limits = amount_limits or {}
        self.store_id = store_id
        self.channel_key = channel_key
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        # Standard Webhooks: the HMAC key is the base64 part after `whsec_` (padding may be
        # left off; extra padding is ignored when decoding).
        self._webhook_key = base64.b64decode(webhook_secret.removeprefix("whsec_") + "==")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "PortOneGateway":
        return cls(
            api_secret=config["PORTONE_API_SECRET"],
            webhook_secret=config["PORTONE_WEBHOOK_SECRET"],
            store_id=config["PORTONE_STORE_ID"],
            channel_key=config["PORTONE_CHANNEL_KEY"],
            api_base=config["PORTONE_API_BASE"],
            timeout=config["GATEWAY_TIMEOUT_SECONDS"],
            amount_limits={
                currency: gw.AmountLimits(*limits)
                for currency, limits in config["PORTONE_AMOUNT_LIMITS"].items()
            },
        )

    def create_payment(self, request: gw.PaymentRequest) -> gw.CreatedPayment:
        """What `PortOne.requestPayment` needs; PortOne hears of the payment from the browser."""
        payment_id = str(request.topup_id)
        return gw.CreatedPayment(
            payment_id=payment_id,
            client={
                "payment_id": payment_id,
                "store_id": self.store_id,
                "channel_key": self.channel_key,
                "order_name": request.order_name,
                "total_amount": request.amount,
                "currency": request.currency,
            },
        )

    def fetch_payment(self, ref: gw.PaymentRef) -> gw.GatewayPayment:
        if not ref.payment_id:
            raise gw.GatewayError("a PortOne payment is known by its paymentId only")
        return _payment(self._get_payment(ref.payment_id))

    def refund(
        self,
        *,
        payment_id: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        reason: str,
        refundable_before: int,
        refund_account: gw.RefundAccount | None = None,
    ) -> gw.GatewayRefund:
        """Cancel `amount` of the payment, only if PortOne still has `refundable_before` left."""
        tag = _reason_tag(idempotency_key)
        body: dict[str, Any] = {
            "storeId": self.store_id,
            "amount": amount,
            "reason": f"{tag} {reason}"[:CANCEL_REASON_MAX],
            "currentCancellableAmount": refundable_before,
        }
        if refund_account is not None:
            body["refundAccount"] = {
                "bank": refund_account.bank,
                "number": refund_account.number,
                "holderName": refund_account.holder_name,
            }
        try:
            answer = self._call("POST", f"{_payment_path(payment_id)}/cancel", json_body=body)
        except gw.GatewayError as e:
            if e.gateway_code not in _ALREADY_APPLIED:
                raise
            earlier = self._tagged_cancellation(payment_id, tag)
            if earlier is None:
                raise
            return _refund(payment_id, currency, earlier)
        return _refund(payment_id, currency, _field(answer, "cancellation"))

    def _tagged_cancellation(self, payment_id: str, tag: str) -> dict[str, Any] | None:
        """The cancellation an earlier attempt with this idempotency key made, if any."""
        cancellations = self._get_payment(payment_id).get("cancellations") or []
        made = [
            c
            for c in cancellations
            if tag in str(c.get("reason", "")) and c.get("status") != "FAILED"
        ]
        return made[-1] if made else None

    def fetch_refund(self, refund_id: str, *, payment_id: str | None = None) -> gw.GatewayRefund:
        """A cancellation, read from its payment (PortOne has no endpoint for one alone)."""
        if not payment_id:
            raise gw.GatewayError("a PortOne cancellation is read through its paymentId")
        payment = self._get_payment(payment_id)
        for cancellation in payment.get("cancellations") or []:
            if cancellation.get("id") == refund_id:
                return _refund(payment_id, _field(payment, "currency"), cancellation)
        raise gw.GatewayError(
            f"payment {payment_id} has no cancellation {refund_id}",
            gateway_code="CANCELLATION_NOT_FOUND",
        )

    def fetch_disputes(
        self, *, payment_id: str | None, dispute_id: str | None
    ) -> list[gw.GatewayDispute]:
        """Every dispute of the payment, read from the payment (see the module docstring)."""
        if not payment_id:
            return []
        return _disputes(self._get_payment(payment_id))

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> gw.GatewayEvent:
        event_id = self._verify(body, {k.lower(): v for k, v in headers.items()})
        return self.read_event(event_id, _webhook_body(body))

    def read_event(self, event_id: str, payload: dict[str, Any]) -> gw.GatewayEvent:
        if "type" not in payload and "payment_id" in payload:
            return _legacy_event(event_id, payload)
        type_ = payload["type"] if isinstance(payload.get("type"), str) else ""
        data = payload["data"] if isinstance(payload.get("data"), dict) else {}
        payment_id = data.get("paymentId") if isinstance(data.get("paymentId"), str) else None
        return _event(
            event_id,
            type_,
            payload,
            payment_id,
            refund_id=data.get("cancellationId"),
            details={"store_id": data.get("storeId"), "transaction_id": data.get("transactionId")},
        )

    def _verify(self, body: bytes, headers: Mapping[str, str]) -> str:
        """Standard Webhooks: HMAC-SHA256 over `{id}.{timestamp}.{raw body}`, any one of the
        space-separated `v1,<base64>` signatures (several while a secret rotates), and a
        timestamp within 5 minutes either way (a replayed old delivery fails). Checked on our
        clock and over the raw bytes; anything malformed is an invalid signature, not a 500."""
        event_id = headers.get("webhook-id")
        timestamp = headers.get("webhook-timestamp")
        signatures = headers.get("webhook-signature")
        if not (event_id and timestamp and signatures):
            raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
        # ASCII digits only: str.isdigit() also takes "²" and 5,000-digit runs int() refuses.
        if not re.fullmatch(r"[0-9]{1,12}", timestamp):
            raise InvalidSignature("webhook-timestamp is not a Unix time")
        if abs(clock.now().timestamp() - int(timestamp)) > WEBHOOK_TOLERANCE_SECONDS:
            raise InvalidSignature("webhook-timestamp is outside the 5-minute tolerance")
        signed = f"{event_id}.{timestamp}.".encode() + body
        expected = hmac.new(self._webhook_key, signed, hashlib.sha256).digest()
        for entry in signatures.split():
            version, _, encoded = entry.partition(",")
            if version != "v1":
                continue
            try:
                candidate = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                continue
            if hmac.compare_digest(candidate, expected):
                return event_id
        raise InvalidSignature("no webhook-signature matches")

    def _get_payment(self, payment_id: str) -> dict[str, Any]:
        return self._call("GET", _payment_path(payment_id), params={"storeId": self.store_id})

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One API call; PortOne's error `{"type", "message"}` becomes a `GatewayError`."""
        try:
            response = requests.request(
                method,
                self.api_base + path,
                params=params,
                json=json_body,
                headers={"Authorization": f"PortOne {self.api_secret}"},
                timeout=self.timeout,
            )
        except requests.RequestException as e:
            raise gw.GatewayUnavailable(f"PortOne did not answer: {e}") from e
        try:
            answer = response.json()
        except ValueError:
            answer = None
        error_type = answer.get("type") if isinstance(answer, dict) else None
        status = response.status_code
        if error_type == "PG_PROVIDER":
            # The PG behind PortOne refused (answered 502 by PortOne, but an answer).
            raise gw.GatewayError(
                str(answer.get("pgMessage") or answer.get("message") or "the PG refused"),
                gateway_code=str(answer.get("pgCode") or error_type),
                gateway_status=status,
            )
        if status >= 500 or status in (408, 429):
            # No usable answer: whatever happened at PortOne, asking again is safe.
            raise gw.GatewayUnavailable(
                f"PortOne answered {status}", gateway_code=error_type, gateway_status=status
            )
        if status >= 400:
            message = answer.get("message") if isinstance(answer, dict) else None
            raise gw.GatewayError(
                message or error_type or f"PortOne answered {status}",
                gateway_code=error_type,
                gateway_status=status,
            )
        if not isinstance(answer, dict):
            raise gw.GatewayUnavailable(f"PortOne answered {status} without a JSON object")
        return answer


def _payment_path(payment_id: str) -> str:
    return f"/payments/{quote(payment_id, safe='')}"


def _reason_tag(idempotency_key: str) -> str:
    # Why first: see the module docstring (a PG may cut a long cancel message short).
    return f"[ref {idempotency_key}]"


def _field(document: dict[str, Any], name: str) -> Any:
    """A field PortOne always sends; its absence means the answer cannot be used."""
    if name not in document:
        raise gw.GatewayUnavailable(f"PortOne's answer has no {name}")
    return document[name]


def _integer(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise gw.GatewayUnavailable(f"PortOne's {name} is not an integer: {value!r}")
    return value


def _webhook_body(body: bytes) -> dict[str, Any]:
    """A webhook body as a dict: JSON, or (2024-01-01 only) form-encoded."""
    try:
        payload = json.loads(body)
    except ValueError:
        try:
            payload = dict(parse_qsl(body.decode(), strict_parsing=True))
        except (ValueError, UnicodeDecodeError) as e:
            raise InvalidSignature("the webhook body is neither JSON nor a form") from e
    if not isinstance(payload, dict):
        raise InvalidSignature("the webhook body is not a JSON object")
    return payload


def _event(
    event_id: str,
    type_: str,
    payload: dict[str, Any],
    payment_id: str | None,
    *,
    refund_id: Any = None,
    details: dict[str, Any],
) -> gw.GatewayEvent:
    action = gw.EVENT_IGNORED
    if payment_id and type_ in _PAYMENT_EVENTS:
        action = gw.EVENT_PAYMENT
    elif payment_id and type_ in _REFUND_EVENTS:
        action = gw.EVENT_REFUND
    elif payment_id and type_ in _DISPUTE_EVENTS:
        action = gw.EVENT_DISPUTE
    return gw.GatewayEvent(
        id=event_id,
        type=type_,
        action=action,
        payload=payload,
        payment=gw.PaymentRef(payment_id) if action != gw.EVENT_IGNORED else None,
        refund_id=refund_id if action == gw.EVENT_REFUND and isinstance(refund_id, str) else None,
        details=details,
    )


def _legacy_event(event_id: str, payload: dict[str, Any]) -> gw.GatewayEvent:
    """A 2024-01-01 body: `{payment_id, tx_id, status}` (unknown statuses are ignored)."""
    payment_id = payload.get("payment_id")
    status = payload.get("status")
    type_ = _LEGACY_TYPES.get(status, str(status)) if isinstance(status, str) else ""
    return _event(
        event_id,
        type_,
        payload,
        payment_id if isinstance(payment_id, str) else None,
        details={"transaction_id": payload.get("tx_id"), "format": "2024-01-01"},
    )


def _chargebacks(cancellations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        c
        for c in cancellations
        if c.get("trigger") == _CHARGEBACK and c.get("status") == "SUCCEEDED"
    ]


def _disputes(payment: dict[str, Any]) -> list[gw.GatewayDispute]:
    payment_id = _field(payment, "id")
    amount = _field(payment, "amount")
    cancellations = payment.get("cancellations") or []
    chargebacks = _chargebacks(cancellations)
    # What the payment held apart from refunds: the most a chargeback can take.
    disputed = _integer(_field(amount, "total"), "amount.total") - _refunded(amount, chargebacks)
    found = []
    for dispute in payment.get("disputes") or []:
        opened = str(_field(dispute, "createdAt"))
        if dispute.get("status") != "RESOLVED":
            status = gw.DISPUTE_OPEN
        elif any(str(c.get("requestedAt", "")) >= opened for c in chargebacks):
            status = gw.DISPUTE_LOST
        else:
            status = gw.DISPUTE_WON
        found.append(
            gw.GatewayDispute(
                id=str(dispute.get("pgDisputeId") or f"{payment_id}@{opened}"),
                payment_id=payment_id,
                status=status,
                amount=disputed,
                currency=_field(payment, "currency"),
                gateway_status=str(dispute.get("status")),
                reason=dispute.get("reason"),
            )
        )
    return found


def _refunded(amount: dict[str, Any], chargebacks: list[dict[str, Any]]) -> int:
    """What was cancelled as refunds: `amount.cancelled` without chargebacks."""
    cancelled = _integer(amount.get("cancelled", 0), "amount.cancelled")
    return cancelled - sum(_integer(c.get("totalAmount"), "totalAmount") for c in chargebacks)


def _payment(data: dict[str, Any]) -> gw.GatewayPayment:
    """Our record of a PortOne payment (statuses as the module docstring says)."""
    status = _field(data, "status")
    payment_id = _field(data, "id")
    amount = _field(data, "amount")
    failure = data.get("failure") or {}
    method = data.get("method") or {}
    return gw.GatewayPayment(
        id=payment_id,
        status=_PAYMENT_STATUSES.get(status, gw.PAYMENT_PENDING),
        amount=_integer(_field(amount, "total"), "amount.total"),
        currency=_field(data, "currency"),
        gateway_status=status,
        topup_id=_topup_id(payment_id),
        paid_at=_time(data.get("paidAt")),
        refunded_amount=_refunded(amount, _chargebacks(data.get("cancellations") or [])),
        bank_transfer=method.get("type") == "PaymentMethodVirtualAccount",
        failure_code=failure.get("pgCode"),
        failure_message=failure.get("reason") or failure.get("pgMessage"),
    )


def _topup_id(payment_id: str) -> str | None:
    """The top-up a paymentId names (we make paymentIds from top-up ids)."""
    try:
        return str(uuid.UUID(payment_id))
    except ValueError:
        return None


def _time(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError as e:
        raise gw.GatewayUnavailable(f"PortOne's time is not RFC 3339: {value!r}") from e


def _refund(payment_id: str, currency: str, cancellation: dict[str, Any]) -> gw.GatewayRefund:
    status = _CANCELLATION_STATUSES.get(_field(cancellation, "status"), gw.REFUND_PENDING)
    return gw.GatewayRefund(
        id=_field(cancellation, "id"),
        payment_id=payment_id,
        amount=_integer(_field(cancellation, "totalAmount"), "cancellation.totalAmount"),
        currency=currency,
        status=status,
        failure_message="PortOne could not cancel" if status == gw.REFUND_FAILED else None,
    )
