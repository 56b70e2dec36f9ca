"""Gateway webhooks: verify, store, then process.

1. The adapter verifies the signature over the raw body (`InvalidSignature`: 400,
   nothing stored).
2. The event is stored in the inbox, unique by (provider, event id); a duplicate
   delivery of a processed event has no second effect.
3. The event is dispatched by what it is about (`HANDLERS`). Handlers never trust the
   event's body for money: they fetch the gateway's own record.
4. A failure is recorded on the inbox row and raised, so the endpoint answers 5xx and
   the gateway retries; the event stays unprocessed until a delivery succeeds.
"""

import json
from collections.abc import Callable, Mapping

from sqlalchemy import text

from ledger import clock, metrics
from ledger.book import unit_of_work
from ledger.errors import InvalidSignature, NotFound, ProviderUnavailable
from ledger.extensions import db
from ledger.gateways import GATEWAYS, get_gateway
from ledger.gateways import base as gw
from ledger.services import customers, refunds, topups


def receive(provider: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Verify, store and process one delivery; returns what happened (for the answer)."""
    if provider not in GATEWAYS:
        raise NotFound("no such gateway")
    try:
        event = _gateway_for_webhooks(provider).parse_webhook(body, headers)
    except InvalidSignature:
        metrics.count_webhook(provider, "invalid_signature")
        raise
    # Several units of work on purpose: the event is stored (and its delivery counted)
    # before it is processed, so a failure leaves it in the inbox with its error while
    # the gateway retries; each handler's use cases are units of work of their own.
    with unit_of_work():
        already_processed = _store(provider, event)
    if already_processed:
        metrics.count_webhook(provider, "duplicate")
        return "duplicate"
    try:
        HANDLERS[event.action](provider, event)
    except Exception as e:
        with unit_of_work():
            _record_failure(provider, event.id, e)
        metrics.count_webhook(provider, "failed")
        raise
    with unit_of_work():
        _mark_processed(provider, event.id)
    metrics.count_webhook(provider, "processed")
    return "processed"


def _gateway_for_webhooks(provider: str) -> gw.PaymentGateway:
    """A gateway that is off has no secret to check a signature with: nothing verifies."""
    try:
        return get_gateway(provider)
    except ProviderUnavailable as e:
        raise InvalidSignature(f"{provider} webhooks are not configured") from e


def _store(provider: str, event: gw.GatewayEvent) -> bool:
    """Keep the event; True when it was already processed."""
    params = {
        "provider": provider,
        "event_id": event.id,
        "type": event.type,
        "payload": json.dumps(event.payload),
    }
    db.session.execute(
        text(
            "INSERT INTO webhook_events (provider, event_id, type, payload, attempts) "
            "VALUES (:provider, :event_id, :type, CAST(:payload AS jsonb), 0) "
            "ON CONFLICT (provider, event_id) DO NOTHING"
        ),
        params,
    )
    processed = db.session.execute(
        text(
            "UPDATE webhook_events SET attempts = attempts + 1 "
            "WHERE provider = :provider AND event_id = :event_id RETURNING processed_at"
        ),
        params,
    ).scalar()
    return processed is not None


def _mark_processed(provider: str, event_id: str) -> None:
    db.session.execute(
        text(
            "UPDATE webhook_events SET processed_at = :now, last_error = NULL "
            "WHERE provider = :provider AND event_id = :event_id"
        ),
        {"provider": provider, "event_id": event_id, "now": clock.now()},
    )


def _record_failure(provider: str, event_id: str, error: Exception) -> None:
    db.session.execute(
        text(
            "UPDATE webhook_events SET last_error = :error "
            "WHERE provider = :provider AND event_id = :event_id"
        ),
        {"provider": provider, "event_id": event_id, "error": f"{type(error).__name__}: {error}"},
    )


def _payment_changed(provider: str, event: gw.GatewayEvent) -> None:
    """Fetch the payment from the gateway and apply it to its top-up."""
    topup_id = topups.find_topup_id(provider, event.payment or gw.PaymentRef(None), event.topup_id)
    if topup_id is None:
        return  # not one of ours (or not yet): stored for operators
    topups.sync_topup(topup_id)


def _refund_changed(provider: str, event: gw.GatewayEvent) -> None:
    """Bring the top-up's refunds in line with the gateway's record: confirm ours, record
    those made outside the service."""
    topup_id = topups.find_topup_id(provider, event.payment or gw.PaymentRef(None), event.topup_id)
    if topup_id is None:
        return  # not one of ours: stored for operators
    refunds.sync_refunds(topup_id)


def _customer_changed(provider: str, event: gw.GatewayEvent) -> None:
    """Keep the organisation's customer mapping true (fetched from the gateway)."""
    if event.customer_id:
        customers.customer_changed(provider=provider, customer_id=event.customer_id)


def _stored_only(provider: str, event: gw.GatewayEvent) -> None:
    """Kept in the inbox; nothing else to do (yet)."""


HANDLERS: dict[str, Callable[[str, gw.GatewayEvent], None]] = {
    gw.EVENT_PAYMENT: _payment_changed,
    gw.EVENT_REFUND: _refund_changed,
    gw.EVENT_CUSTOMER: _customer_changed,
    gw.EVENT_IGNORED: _stored_only,
}
