"""Delivering events to webhook endpoints: claim, send, record (at least once).

Design overview
---------------
1. **Claim** (one short transaction): take due queue rows with `FOR UPDATE SKIP LOCKED`,
   so concurrent workers never take the same row, and in the same statement number the
   attempt (`attempts + 1`) and move `next_attempt_at` a lease ahead (`lease_for`,
   longer than the send timeout). Committed before anything is sent.
2. **Send** (no transaction open): POST the event, signed with Standard Webhooks
   (`webhook-id` is the event id, on every attempt and redelivery), with the
   configured timeout, a few in parallel.
3. **Record** (one transaction): an attempt row per send, and the queue row becomes
   `delivered`, or waits for its next attempt (growing delays), or `failed` after the
   retry period. Only the claim that numbered the attempt may move the queue row.

A worker killed between claim and record leaves its rows pending: once the lease is
over another worker sends them again (at least once, same `webhook-id`). No attempt
number is sent twice, and the database refuses a second record of one.
"""

import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import standardwebhooks
from flask import current_app
from sqlalchemy import text

from ledger import clock, metrics
from ledger.book import unit_of_work
from ledger.domain.events import is_success, next_attempt
from ledger.extensions import db

CLAIM_BATCH = 16
# A claim lapses after this long, or three send timeouts if longer: never mid-send.
MIN_LEASE = timedelta(seconds=60)
PARALLEL_SENDS = 8
ERROR_LENGTH = 500


@dataclass(frozen=True)
class Claimed:
    event_id: uuid.UUID
    endpoint_id: uuid.UUID
    attempt: int
    give_up_at: datetime
    url: str
    secret: str
    body: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None


@dataclass(frozen=True)
class DeliveryRun:
    attempted: int = 0
    delivered: int = 0


_CLAIM = text(
    """
    WITH due AS (
        SELECT d.event_id, d.endpoint_id
        FROM event_deliveries d
        JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.status = 'enabled'
        WHERE d.state = 'pending' AND d.next_attempt_at <= :due_before
        ORDER BY d.next_attempt_at
        LIMIT :limit
        FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE event_deliveries d
    SET attempts = d.attempts + 1, next_attempt_at = :lease_until
    FROM due, events ev, webhook_endpoints e
    WHERE d.event_id = due.event_id AND d.endpoint_id = due.endpoint_id
      AND ev.id = d.event_id AND e.id = d.endpoint_id
    RETURNING d.event_id, d.endpoint_id, d.attempts, d.give_up_at, e.url, e.secret,
              ev.type, ev.org_id, ev.created_at, ev.data
    """
)


def lease_for(timeout: float) -> timedelta:
    """How long a claim holds its rows: well past the send timeout."""
    return max(MIN_LEASE, timedelta(seconds=3 * timeout))


def claim(*, due_before: datetime, lease: timedelta, limit: int = CLAIM_BATCH) -> list[Claimed]:
    """Take up to `limit` due deliveries for this worker, each with its attempt number."""
    with unit_of_work():
        rows = db.session.execute(
            _CLAIM,
            {
                "due_before": due_before,
                "limit": limit,
                "lease_until": clock.now() + lease,
            },
        ).all()
    return [
        Claimed(
            r.event_id,
            r.endpoint_id,
            r.attempts,
            r.give_up_at,
            r.url,
            r.secret,
            event_body(r.event_id, r.type, r.org_id, r.created_at, r.data),
        )
        for r in rows
    ]


def event_body(
    event_id: uuid.UUID,
    type: str,
    org_id: uuid.UUID,
    created_at: datetime,
    data: Any,
) -> str:
    """The JSON body sent for an event: the event as `GET /v1/events` shows it."""
    return json.dumps(
        {
            "id": str(event_id),
            "type": type,
            "created_at": created_at.isoformat(),
            "org_id": str(org_id),
            "data": data,
        }
    )


def send(claimed: Claimed, timeout: float) -> Outcome:
    """POST the event to the endpoint, signed; never raises."""
    # The signature's timestamp is the wall clock: receivers check it against theirs.
    sent_at = datetime.now(UTC)
    msg_id = str(claimed.event_id)
    headers = {
        "content-type": "application/json",
        "user-agent": "ledger-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": standardwebhooks.Webhook(claimed.secret).sign(
            msg_id, sent_at, claimed.body
        ),
    }
    try:
        response = requests.post(
            claimed.url,
            data=claimed.body.encode(),
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.Timeout:
        return Outcome(None, f"no answer within {timeout:g} s")
    except requests.RequestException as e:
        return Outcome(None, f"{type(e).__name__}: {e}"[:ERROR_LENGTH])
    error = None if is_success(response.status_code) else f"HTTP {response.status_code}"
    return Outcome(response.status_code, error)


_RECORD = text(
    """
    WITH attempt AS (
        INSERT INTO delivery_attempts (event_id, endpoint_id, attempt, status_code, error)
        SELECT :event_id, :endpoint_id, :attempt, :status_code, :error
        WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = :endpoint_id)
    )
    UPDATE event_deliveries
    SET state = :state, next_attempt_at = :next_attempt_at
    WHERE event_id = :event_id AND endpoint_id = :endpoint_id
      AND attempts = :attempt AND state = 'pending'
    """
)


def record(results: list[tuple[Claimed, Outcome]], *, base_seconds: float) -> int:
    """Record each attempt and move its queue row on; returns how many were delivered."""
    now = clock.now()
    rows = []
    for claimed, outcome in results:
        if is_success(outcome.status_code):
            state, at, label = "delivered", None, "delivered"
        else:
            retry = next_attempt(
                attempts=claimed.attempt,
                failed_at=now,
                give_up_at=claimed.give_up_at,
                base_seconds=base_seconds,
            ).at
            state, at = ("pending", retry) if retry else ("failed", None)
            label = "http_error" if outcome.status_code is not None else "no_answer"
        metrics.count_event_delivery(label)
        rows.append(
            {
                "event_id": claimed.event_id,
                "endpoint_id": claimed.endpoint_id,
                "attempt": claimed.attempt,
                "status_code": outcome.status_code,
                "error": outcome.error,
                "state": state,
                "next_attempt_at": at,
            }
        )
    if rows:
        with unit_of_work():
            db.session.execute(_RECORD, rows)
    return sum(1 for _, outcome in results if is_success(outcome.status_code))


_pool: ThreadPoolExecutor | None = None


def _senders() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(PARALLEL_SENDS, thread_name_prefix="deliver-events")
    return _pool


def deliver_due() -> DeliveryRun:
    """Send every delivery due now (not the retries this run schedules), then return."""
    config = current_app.config
    timeout = config["EVENT_DELIVERY_TIMEOUT_SECONDS"]
    started = clock.now()
    attempted = delivered = 0
    while claimed := claim(due_before=started, lease=lease_for(timeout)):
        outcomes = list(_senders().map(lambda c: send(c, timeout), claimed))
        delivered += record(
            list(zip(claimed, outcomes, strict=True)),
            base_seconds=config["EVENT_RETRY_BASE_SECONDS"],
        )
        attempted += len(claimed)
    return DeliveryRun(attempted, delivered)


def run_worker(stop: threading.Event, on_run: Callable[[DeliveryRun], None]) -> None:
    """Deliver until `stop` is set, looking for due deliveries every EVENT_POLL_SECONDS.

    A stop lets the batch in flight finish and be recorded.
    """
    poll = current_app.config["EVENT_POLL_SECONDS"]
    while not stop.is_set():
        run = deliver_due()
        if run.attempted:
            on_run(run)
        else:
            stop.wait(poll)


@dataclass(frozen=True)
class Backlog:
    events_pending: int
    oldest_pending_seconds: float


def backlog() -> Backlog:
    """Events not yet delivered to every endpoint, and the age of the oldest of them."""
    with unit_of_work():  # a read: no transaction stays open after the scrape
        row = db.session.execute(
            text(
                "SELECT count(DISTINCT d.event_id) AS pending, min(ev.created_at) AS oldest "
                "FROM event_deliveries d JOIN events ev ON ev.id = d.event_id "
                "WHERE d.state = 'pending'"
            )
        ).one()
    age = (clock.now() - row.oldest).total_seconds() if row.oldest else 0.0
    return Backlog(row.pending, max(age, 0.0))
