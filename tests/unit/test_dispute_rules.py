"""The dispute rules and shortfall settling, without a database."""

import pytest

from ledger.domain import disputes as rules


@pytest.mark.parametrize(
    ("recorded", "gateway", "freeze", "close"),
    [
        (None, "open", True, None),
        (None, "won", True, "won"),
        (None, "lost", True, "lost"),
        ("open", "open", False, None),
        ("open", "won", False, "won"),
        ("open", "lost", False, "lost"),
        ("won", "lost", False, None),
        ("lost", "won", False, None),
    ],
)
def test_decide(recorded, gateway, freeze, close):
    assert rules.decide(recorded, gateway) == rules.DisputeMove(freeze, close)


@pytest.mark.parametrize(
    ("disputed", "remaining", "frozen"), [(10000, 4000, 4000), (3000, 4000, 3000), (500, 0, 0)]
)
def test_a_dispute_freezes_what_is_left_up_to_the_disputed_amount(disputed, remaining, frozen):
    assert rules.frozen_amount(disputed, remaining) == frozen


def test_a_lost_dispute_splits_into_frozen_credit_and_shortfall():
    assert rules.loss(10000, 4000) == rules.Loss(to_gateway=10000, from_frozen=4000, shortfall=6000)


@pytest.mark.parametrize(
    ("returned", "shortfall", "settled", "spendable"),
    [(1000, 3000, 1000, 0), (5000, 3000, 3000, 2000), (700, 0, 0, 700)],
)
def test_returned_credit_settles_a_shortfall_first(returned, shortfall, settled, spendable):
    assert rules.settle_shortfall_first(returned, shortfall) == (settled, spendable)
