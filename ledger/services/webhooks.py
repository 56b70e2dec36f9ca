"""Gateway webhooks: verify, store, then process; and retry what did not go through.

1. The adapter verifies the signature over the raw body (`InvalidSignature`: 400,
   nothing stored).
2. The event is stored in the inbox, unique by (provider, event id); a duplicate
   delivery of a processed event has no second effect.
3. The event is dispatched by what it is about (`HANDLERS`). Handlers never trust the
   event's body for money: they fetch the gateway's own record.
4. A failure is recorded on the inbox row and raised, so the endpoint answers 5xx and
   the gateway retries; the event stays unprocessed until a delivery succeeds. A gateway
   that could not be asked gives the same answer on every path (the adapters raise
   `ledger.errors.GatewayUnavailable`: 502 `gateway_unavailable`).
5. An event about a payment that matches no top-up (yet: a webhook can outrun the
   request that records its top-up) is acknowledged but stays unprocessed, with
   `last_error` saying so.

Gateways stop retrying (PortOne after about 5.7 hours, Stripe after three days), so
`retry_events` (run by `flask ledger sync-topups`) processes again what failed or
matched nothing, from the stored payload. Handlers are idempotent (they re-fetch and
apply under row locks), so a retry racing a delivery, or two retries, have one effect.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text

from ledger import clock, metrics
from ledger.book import unit_of_work
from ledger.errors import (
    GatewayUnavailable,
    InvalidSignature,
    LedgerError,
    NotFound,
    ProviderUnavailable,
)
from ledger.extensions import db
from ledger.gateways import GATEWAYS, get_gateway
from ledger.gateways import base as gw
from ledger.services import customers, disputes, refunds, topups

UNMATCHED = "matched no top-up yet"
# Older unprocessed events are left to operators: every gateway has stopped retrying them.
RETRY_WINDOW = timedelta(days=7)


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
    outcome = process(provider, event)
    metrics.count_webhook(provider, outcome)
    return outcome


def process(provider: str, event: gw.GatewayEvent) -> str:
    """Run the event's handler and record the outcome on its inbox row.

    Returns `processed`, or `unmatched` when it is about no top-up of ours yet.

    Raises:
        GatewayUnavailable, GatewayError: the gateway could not be asked (recorded).
    """
    try:
        matched = HANDLERS[event.action](provider, event)
    except Exception as e:
        with unit_of_work():
            _record(provider, event.id, error=f"{type(e).__name__}: {e}")
        metrics.count_webhook(provider, "failed")
        raise
    with unit_of_work():
        _record(provider, event.id, error=None if matched else UNMATCHED)
    return "processed" if matched else "unmatched"


@dataclass(frozen=True)
class RetryResult:
    processed: int = 0
    unmatched: int = 0  # still about no top-up of ours
    failed: int = 0  # failed again (kept, with the error, for the next run)
    unavailable: tuple[str, ...] = ()  # the gateway did not answer


def retry_events(*, older_than: timedelta) -> RetryResult:
    """Process again the inbox events that failed or matched nothing, oldest first."""
    now = clock.now()
    with unit_of_work():  # a read of its own: no transaction stays open across the retries
        due = db.session.execute(
            text(
                "SELECT provider, event_id, payload FROM webhook_events "
                "WHERE processed_at IS NULL AND received_at <= :before AND received_at > :since "
                "ORDER BY received_at"
            ),
            {"before": now - older_than, "since": now - RETRY_WINDOW},
        ).all()
    counts = {"processed": 0, "unmatched": 0, "failed": 0}
    unavailable = []
    for row in due:
        try:
            event = get_gateway(row.provider).read_event(row.event_id, row.payload)
            counts[process(row.provider, event)] += 1
        except GatewayUnavailable as e:
            unavailable.append(f"{row.provider} event {row.event_id}: {e.message}")
        except LedgerError:
            counts["failed"] += 1
    return RetryResult(
        counts["processed"], counts["unmatched"], counts["failed"], tuple(unavailable)
    )


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


def _record(provider: str, event_id: str, *, error: str | None) -> None:
    """Processed (no error), or still to be retried with why."""
    db.session.execute(
        text(
            "UPDATE webhook_events SET last_error = :error, "
            "processed_at = CASE WHEN CAST(:error AS text) IS NULL THEN :now END "
            "WHERE provider = :provider AND event_id = :event_id AND processed_at IS NULL"
        ),
        {"provider": provider, "event_id": event_id, "error": error, "now": clock.now()},
    )


def _topup_of(provider: str, event: gw.GatewayEvent):
    return topups.find_topup_id(provider, event.payment or gw.PaymentRef(None), event.topup_id)


def _payment_changed(provider: str, event: gw.GatewayEvent) -> bool:
    """Fetch the payment from the gateway and apply it to its top-up."""
    topup_id = _topup_of(provider, event)
    if topup_id is not None:
        topups.sync_topup(topup_id)
    return topup_id is not None


def _refund_changed(provider: str, event: gw.GatewayEvent) -> bool:
    """Bring the top-up's refunds in line with the gateway's record: confirm ours, record
    those made outside the service. A refund of a payment not credited yet (its payment
    webhook lost or late) credits the payment, less that refund."""
    topup_id = _topup_of(provider, event)
    if topup_id is None:
        return False
    if topups.is_pending(topup_id):
        topups.sync_topup(topup_id)
    else:
        refunds.sync_refunds(topup_id, refund_id=event.refund_id)
    return True


def _dispute_changed(provider: str, event: gw.GatewayEvent) -> bool:
    """Fetch the dispute(s) from the gateway and apply them to the disputed top-up."""
    topup_id = _topup_of(provider, event)
    if topup_id is not None:
        disputes.sync_disputes(topup_id, dispute_id=event.dispute_id)
    return topup_id is not None


def _customer_changed(provider: str, event: gw.GatewayEvent) -> bool:
    """Keep the organisation's customer mapping true (fetched from the gateway)."""
    if event.customer_id:
        customers.customer_changed(provider=provider, customer_id=event.customer_id)
    return True


def _stored_only(provider: str, event: gw.GatewayEvent) -> bool:
    """Kept in the inbox; nothing else to do."""
    return True


HANDLERS: dict[str, Callable[[str, gw.GatewayEvent], bool]] = {
    gw.EVENT_PAYMENT: _payment_changed,
    gw.EVENT_REFUND: _refund_changed,
    gw.EVENT_DISPUTE: _dispute_changed,
    gw.EVENT_CUSTOMER: _customer_changed,
    gw.EVENT_IGNORED: _stored_only,
}
