"""The refund policy and the refund-request state machine, without a database."""

from datetime import UTC, datetime, timedelta

import pytest

from ledger.domain import refunds as rules
from ledger.errors import (
    AmountExceedsRefundable,
    CreditConsumed,
    InvalidState,
    NotRefundable,
    RefundAlreadyPending,
    RefundWindowExpired,
)

PAID_AT = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
WINDOW = 7


def topup(remaining=1000, status="paid", kind="paid", open_request=False, paid_at=PAID_AT):
    return rules.RefundableTopup(status, paid_at, kind, remaining, open_request)


def after(days=0, hours=0, minutes=0):
    return PAID_AT + timedelta(days=days, hours=hours, minutes=minutes)


@pytest.mark.parametrize(
    ("facts", "requested", "now", "expected"),
    [
        # Inside the window, at the boundary.
        (topup(), None, after(days=6, hours=23, minutes=59), 1000),
        (topup(), 400, after(minutes=1), 400),
        # Untouched, partly consumed: what is left of the lot, all or part of it.
        (topup(remaining=1000), 1000, after(days=1), 1000),
        (topup(remaining=350), None, after(days=1), 350),
        (topup(remaining=350), 350, after(days=1), 350),
        # Partly refunded already: the rest is still refundable.
        (topup(remaining=600, status="partially_refunded"), None, after(days=2), 600),
    ],
)
def test_allowed(facts, requested, now, expected):
    assert rules.amount_to_refund(facts, requested, now, WINDOW) == expected


@pytest.mark.parametrize(
    ("facts", "requested", "now", "error"),
    [
        # Outside the window, at the boundary (and exactly at it).
        (topup(), None, after(days=7, minutes=1), RefundWindowExpired),
        (topup(), None, after(days=7), RefundWindowExpired),
        (topup(), None, after(days=30), RefundWindowExpired),
        # Fully consumed.
        (topup(remaining=0), None, after(days=1), CreditConsumed),
        (topup(remaining=0), 1, after(days=1), CreditConsumed),
        # More than what is left.
        (topup(remaining=350), 351, after(days=1), AmountExceedsRefundable),
        (topup(remaining=1000), 1001, after(days=1), AmountExceedsRefundable),
        # Bonus credit is never refundable.
        (topup(kind="bonus"), None, after(days=1), NotRefundable),
        # A second open request.
        (topup(open_request=True), 100, after(days=1), RefundAlreadyPending),
        # Not paid, or refunded in full.
        (
            topup(status="pending", paid_at=None, kind=None, remaining=0),
            None,
            after(),
            NotRefundable,
        ),
        (topup(status="refunded", remaining=0), None, after(days=1), NotRefundable),
    ],
)
def test_refused(facts, requested, now, error):
    with pytest.raises(error):
        rules.amount_to_refund(facts, requested, now, WINDOW)


def test_the_window_comes_from_the_caller():
    assert rules.amount_to_refund(topup(), None, after(days=13), 14) == 1000
    with pytest.raises(RefundWindowExpired):
        rules.amount_to_refund(topup(), None, after(days=1, minutes=1), 1)


def test_partial_refunds_add_up_to_the_lot_and_no_more():
    # 300 refunded (taken from the lot for good), then the rest, then nothing.
    first = rules.amount_to_refund(topup(remaining=1000), 300, after(days=1), WINDOW)
    rest = rules.amount_to_refund(
        topup(remaining=1000 - first, status="partially_refunded"), None, after(days=2), WINDOW
    )
    assert (first, rest) == (300, 700)
    with pytest.raises(CreditConsumed):
        rules.amount_to_refund(
            topup(remaining=0, status="partially_refunded"), None, after(days=3), WINDOW
        )


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("pending", "processing"),
        ("pending", "rejected"),
        ("pending", "canceled"),
        ("processing", "succeeded"),
        ("processing", "failed"),
        ("succeeded", "failed"),  # the gateway's refund failed after it had succeeded
    ],
)
def test_allowed_transitions(current, new):
    assert rules.move(current, new) == new


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("pending", "succeeded"),
        ("pending", "failed"),
        ("processing", "canceled"),
        ("processing", "rejected"),
        ("processing", "pending"),
        ("succeeded", "pending"),
        ("failed", "processing"),
        ("rejected", "processing"),
        ("canceled", "processing"),
    ],
)
def test_refused_transitions(current, new):
    with pytest.raises(InvalidState):
        rules.move(current, new)


def state(**kwargs):
    defaults = {"gateway_refunded": 0, "recorded": 0, "lot_remaining": 1000}
    return rules.RefundState(**{**defaults, **kwargs})


def test_nothing_beyond_our_records_changes_nothing():
    decision = rules.reconcile(state(gateway_refunded=300, recorded=300, lot_remaining=200))
    assert not decision.changes_anything
    # An older read of the gateway than our records is not a negative refund.
    assert not rules.reconcile(state(gateway_refunded=0, recorded=300)).changes_anything


def test_the_processing_request_is_settled_once_the_gateway_shows_it():
    decision = rules.reconcile(state(gateway_refunded=400, processing_amount=400))
    assert (decision.settle_processing, decision.outside) == (True, 0)


def test_the_processing_request_is_not_mistaken_for_an_outside_refund_before_it_shows():
    decision = rules.reconcile(state(gateway_refunded=0, processing_amount=400))
    assert not decision.changes_anything
    # A smaller amount cannot be the request's refund: it was made elsewhere.
    decision = rules.reconcile(
        state(gateway_refunded=100, processing_amount=400, lot_remaining=600)
    )
    assert (decision.settle_processing, decision.outside, decision.taken_back) == (False, 100, 100)


def test_a_known_gateway_refund_is_decided_by_its_own_record():
    decision = rules.reconcile(
        state(gateway_refunded=400, processing_amount=400, processing_refund_known=True)
    )
    assert not decision.changes_anything
    decision = rules.reconcile(
        state(gateway_refunded=100, processing_amount=400, processing_refund_known=True)
    )
    assert not decision.changes_anything


def test_an_outside_refund_is_taken_back_from_the_lot_and_the_rest_is_a_shortfall():
    decision = rules.reconcile(state(gateway_refunded=1000, lot_remaining=400))
    assert (decision.outside, decision.taken_back, decision.shortfall) == (1000, 400, 600)
    decision = rules.reconcile(state(gateway_refunded=300, lot_remaining=400))
    assert (decision.outside, decision.taken_back, decision.shortfall) == (300, 300, 0)


def test_an_outside_refund_releases_a_pending_hold_only_when_the_lot_alone_is_not_enough():
    small = rules.reconcile(state(gateway_refunded=300, lot_remaining=400, pending_amount=600))
    assert (small.cancel_pending, small.taken_back, small.shortfall) == (False, 300, 0)
    full = rules.reconcile(state(gateway_refunded=1000, lot_remaining=100, pending_amount=600))
    assert (full.cancel_pending, full.taken_back, full.shortfall) == (True, 700, 300)
