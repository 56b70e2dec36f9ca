"""The ledger's health, for operators: the trial balance, the last run of the ledger's
checks, webhook events from the gateways that failed, and our own events not yet
delivered to the platform's endpoints.

`run_verify` runs the checks (`ledger.book.verify`) and keeps the result in
`verify_runs`, whether the `verify` command or the console's button started it, so the
console shows the last result whoever ran it.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text

from ledger import clock
from ledger.book import reports, unit_of_work
from ledger.book.verify import run_checks
from ledger.extensions import db
from ledger.models import VerifyRun

# Events the inbox could not process (a gateway outage, a bug): the gateway retries
# them, `sync-topups` does too, and an operator should know they are there.
_INBOX_FAILURES = text(
    """
    SELECT id, provider, event_id, type, received_at, attempts, last_error
    FROM webhook_events
    WHERE processed_at IS NULL AND last_error IS NOT NULL
    ORDER BY received_at DESC
    LIMIT :limit
    """
)

# Deliveries still queued (being retried) or given up, oldest event first, each with the
# endpoint's last answer.
_UNDELIVERED = text(
    """
    SELECT d.event_id, e.type, e.org_id, o.name AS org_name, e.created_at,
           d.endpoint_id, w.url, d.state, d.attempts, d.next_attempt_at,
           last.status_code AS last_status_code, last.error AS last_error
    FROM event_deliveries d
    JOIN events e ON e.id = d.event_id
    JOIN organizations o ON o.id = e.org_id
    JOIN webhook_endpoints w ON w.id = d.endpoint_id
    LEFT JOIN LATERAL (
        SELECT a.status_code, a.error FROM delivery_attempts a
        WHERE a.event_id = d.event_id AND a.endpoint_id = d.endpoint_id
        ORDER BY a.attempt DESC LIMIT 1
    ) last ON true
    WHERE d.state <> 'delivered'
    ORDER BY e.created_at, e.id
    LIMIT :limit
    """
)
_UNDELIVERED_COUNT = text("SELECT count(*) FROM event_deliveries WHERE state <> 'delivered'")


@dataclass(frozen=True)
class UndeliveredEvent:
    event_id: uuid.UUID
    type: str
    org_id: uuid.UUID
    org_name: str
    created_at: datetime
    endpoint_id: uuid.UUID
    url: str
    state: str  # pending (retried at next_attempt_at) or failed (given up)
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None


@dataclass(frozen=True)
class InboxFailure:
    id: int
    provider: str
    event_id: str
    type: str
    received_at: datetime
    attempts: int
    last_error: str


@dataclass(frozen=True)
class LedgerHealth:
    trial_balance: reports.TrialBalance
    last_verify: VerifyRun | None
    inbox_failures: list[InboxFailure]
    undelivered: list[UndeliveredEvent]
    undelivered_count: int


def run_verify(*, source: str, started_by: str | None = None) -> VerifyRun:
    """Run every check of the ledger and keep the result; `findings` empty means sound."""
    started_at = clock.now()
    findings = run_checks()
    with unit_of_work():
        run = VerifyRun(
            source=source,
            started_by=started_by,
            started_at=started_at,
            finished_at=clock.now(),
            findings=findings,
        )
        db.session.add(run)
    return run


def ledger_health(*, limit: int = 50) -> LedgerHealth:
    """What an operator checks first when money looks wrong."""
    trial_balance = reports.trial_balance()
    with unit_of_work():
        last_verify = db.session.scalar(
            select(VerifyRun).order_by(VerifyRun.finished_at.desc(), VerifyRun.id.desc()).limit(1)
        )
        failures = db.session.execute(_INBOX_FAILURES, {"limit": limit}).all()
        undelivered = db.session.execute(_UNDELIVERED, {"limit": limit}).all()
        undelivered_count = db.session.execute(_UNDELIVERED_COUNT).scalar_one()
    return LedgerHealth(
        trial_balance=trial_balance,
        last_verify=last_verify,
        inbox_failures=[InboxFailure(**row._asdict()) for row in failures],
        undelivered=[UndeliveredEvent(**row._asdict()) for row in undelivered],
        undelivered_count=undelivered_count,
    )
