"""Events out: which types exist, who subscribes to what, when a failed delivery is
tried again, and when the balance has crossed an organisation's low-balance threshold.

Pure rules over plain values; `ledger/services/events.py` stores and delivers.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

EVENT_TYPES = (
    "topup.succeeded",
    "topup.failed",
    "topup.canceled",
    "topup.refunded",
    "refund_request.created",
    "refund_request.succeeded",
    "refund_request.failed",
    "refund_request.rejected",
    "refund_request.canceled",
    "balance.low",
    "hold.expired",
    "lot.expiring",
    "lot.expired",
    "dispute.created",
    "dispute.closed",
)
ALL_EVENTS = "*"

# Deliveries stop being retried this long after they were first queued (or redelivered).
RETRY_FOR = timedelta(days=3)
# Each retry waits this many times longer than the one before, up to MAX_RETRY_DELAY.
RETRY_GROWTH = 4
MAX_RETRY_DELAY = timedelta(hours=12)
# Never zero: a retry is never due in the same run that failed it.
MIN_RETRY_DELAY = timedelta(seconds=1)


def subscribes(
    endpoint_events: list[str], endpoint_org_id: object, event_type: str, org_id: object
) -> bool:
    """Whether an endpoint with this type filter and organisation filter wants the event."""
    wants_type = ALL_EVENTS in endpoint_events or event_type in endpoint_events
    return wants_type and (endpoint_org_id is None or endpoint_org_id == org_id)


def retry_delay(attempts: int, base_seconds: float) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: base, 4×base, 16×base, …"""
    growth = RETRY_GROWTH ** max(attempts - 1, 0)
    delay = timedelta(seconds=base_seconds * growth)
    return max(min(delay, MAX_RETRY_DELAY), MIN_RETRY_DELAY)


@dataclass(frozen=True)
class NextAttempt:
    at: datetime | None  # None: give up


def next_attempt(
    *, attempts: int, failed_at: datetime, give_up_at: datetime, base_seconds: float
) -> NextAttempt:
    """When to try again after a failed attempt, or None once the retry period is over."""
    at = failed_at + retry_delay(attempts, base_seconds)
    return NextAttempt(at if at <= give_up_at else None)


def is_success(status_code: int | None) -> bool:
    """A 2xx answer is a delivery; anything else (or no answer) is retried."""
    return status_code is not None and 200 <= status_code < 300


@dataclass(frozen=True)
class LowBalanceCheck:
    fire: bool  # send `balance.low` now
    alerted: bool  # the wallet's alert state after this change


def check_low_balance(*, available: int, threshold: int | None, alerted: bool) -> LowBalanceCheck:
    """Once per crossing: fire when `available` is below the threshold and no alert is out;
    re-arm only once it is back at or above the threshold (or the threshold is off)."""
    if threshold is None or available >= threshold:
        return LowBalanceCheck(fire=False, alerted=False)
    return LowBalanceCheck(fire=not alerted, alerted=True)
