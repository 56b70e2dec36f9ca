"""Hold rules without a database: states, capture limits, which lots a capture or
release takes from, and expiry."""

from datetime import UTC, datetime, timedelta

import pytest

from ledger.domain import holds as rules
from ledger.domain.holds import HoldState, Part
from ledger.errors import CaptureExceedsHold, HoldNotActive, InvalidState, ValidationFailed

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def hold(status="active", amount=100, captured=0, released=0, expires_at=LATER) -> HoldState:
    return HoldState(status, amount, captured, released, expires_at)


PARTS = [Part("a", 30), Part("b", 50), Part("c", 20)]


def test_only_active_holds_move_and_closed_ones_stay_closed():
    for closed in (rules.CAPTURED, rules.VOIDED, rules.EXPIRED):
        assert rules.STATUS.move(rules.ACTIVE, closed) == closed
        for new in rules.TRANSITIONS:
            assert not rules.STATUS.can_move(closed, new)
    with pytest.raises(InvalidState):
        rules.STATUS.move(rules.VOIDED, rules.VOIDED)


def test_a_hold_past_its_expiry_is_not_active_before_expiry_runs():
    due = hold(expires_at=NOW)
    assert not rules.is_active(due, NOW)
    assert rules.status_seen(due, NOW) == rules.EXPIRED
    assert rules.is_due_for_expiry(due, NOW)
    assert rules.is_active(due, NOW - timedelta(microseconds=1))
    with pytest.raises(HoldNotActive) as e:
        rules.check_active(due, NOW)
    assert e.value.details == {"status": "expired"}


def test_closed_holds_cannot_be_captured_or_voided():
    for status in (rules.CAPTURED, rules.VOIDED, rules.EXPIRED):
        closed = hold(status=status, captured=100 if status == rules.CAPTURED else 0)
        assert rules.status_seen(closed, NOW) == status
        assert not rules.is_due_for_expiry(closed, LATER)
        with pytest.raises(HoldNotActive):
            rules.check_capture(closed, 1, NOW)


def test_capture_limit_is_what_remains():
    partly = hold(captured=60)
    assert partly.remaining == 40
    rules.check_capture(partly, 40, NOW)
    with pytest.raises(CaptureExceedsHold) as e:
        rules.check_capture(partly, 41, NOW)
    assert e.value.details == {"remaining": 40}


def test_a_capture_closes_the_hold_when_nothing_remains_or_it_is_final():
    partly = hold(captured=60)
    assert rules.status_after_capture(partly, 39, final=False) == rules.ACTIVE
    assert rules.status_after_capture(partly, 40, final=False) == rules.CAPTURED
    assert rules.status_after_capture(partly, 1, final=True) == rules.CAPTURED


def test_captures_take_from_lots_in_the_order_the_hold_took_them():
    assert rules.slice_of(PARTS, 0, 10) == [Part("a", 10)]
    assert rules.slice_of(PARTS, 10, 40) == [Part("a", 20), Part("b", 20)]
    assert rules.slice_of(PARTS, 50, 50) == [Part("b", 30), Part("c", 20)]
    assert rules.slice_of(PARTS, 0, 100) == PARTS
    assert rules.slice_of(PARTS, 100, 0) == []
    with pytest.raises(ValueError, match="outside"):
        rules.slice_of(PARTS, 90, 11)


def test_a_release_gives_the_rest_back_and_expired_lots_go_to_breakage():
    partly = hold(captured=40)
    to_lots = rules.release(PARTS, partly, expired_lots=set())
    assert to_lots.to_lots == (Part("b", 40), Part("c", 20))
    assert (to_lots.to_available, to_lots.to_breakage) == (60, 0)

    some_expired = rules.release(PARTS, partly, expired_lots={"b"})
    assert some_expired.to_lots == (Part("c", 20),)
    assert (some_expired.to_available, some_expired.to_breakage) == (20, 40)

    assert rules.release(PARTS, hold(captured=100), expired_lots=set()).to_available == 0


def test_expiry_defaults_to_the_ttl_and_must_lie_in_the_future_before_9999():
    assert rules.expiry(None, NOW, 168) == NOW + timedelta(hours=168)
    assert rules.expiry(LATER, NOW, 168) == LATER
    for bad in (NOW, NOW - timedelta(days=1), datetime(9999, 6, 1, tzinfo=UTC)):
        with pytest.raises(ValidationFailed):
            rules.expiry(bad, NOW, 168)
