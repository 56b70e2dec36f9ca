"""Event rules without a database: subscriptions, retry delays, and once-per-crossing alerts."""

from datetime import UTC, datetime, timedelta

import pytest

from ledger.domain.events import (
    RETRY_FOR,
    check_low_balance,
    is_success,
    next_attempt,
    retry_delay,
    subscribes,
)


def test_an_endpoint_subscribes_by_type_or_star_and_by_organisation():
    assert subscribes(["*"], None, "balance.low", "org-a")
    assert subscribes(["balance.low"], "org-a", "balance.low", "org-a")
    assert not subscribes(["balance.low"], "org-b", "balance.low", "org-a")
    assert not subscribes(["topup.succeeded"], None, "balance.low", "org-a")


def test_retry_delays_grow_from_the_base_and_stay_bounded():
    delays = [retry_delay(n, 30) for n in range(1, 10)]
    assert delays[:3] == [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=8)]
    assert delays == sorted(delays)
    assert max(delays) == timedelta(hours=12)
    assert retry_delay(1, 0) == timedelta(seconds=1)  # never due in the run that failed it


def test_retries_stop_after_the_retry_period():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    give_up_at = start + RETRY_FOR
    moment, attempts = start, 0
    while (
        at := next_attempt(
            attempts=attempts + 1, failed_at=moment, give_up_at=give_up_at, base_seconds=30
        ).at
    ) is not None:
        assert at <= give_up_at
        moment, attempts = at, attempts + 1
    assert 8 <= attempts <= 15


@pytest.mark.parametrize(
    ("status", "delivered"), [(200, True), (204, True), (301, False), (500, False), (None, False)]
)
def test_only_2xx_is_a_delivery(status, delivered):
    assert is_success(status) is delivered


def test_low_balance_fires_once_per_crossing_and_rearms_at_or_above():
    states = []
    alerted = False
    for available in (700, 400, 300, 500, 499, 499):
        check = check_low_balance(available=available, threshold=500, alerted=alerted)
        states.append(check.fire)
        alerted = check.alerted
    assert states == [False, True, False, False, True, False]


def test_no_threshold_never_fires_and_clears_the_alert():
    check = check_low_balance(available=0, threshold=None, alerted=True)
    assert (check.fire, check.alerted) == (False, False)
