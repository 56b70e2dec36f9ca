from datetime import UTC, datetime, timedelta

import pytest

from ledger.domain.lots import LotBalance, allocate, give_back, spendable

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def lot(name, kind, remaining, expires_in_days=None, age_days=0):
    expires = NOW + timedelta(days=expires_in_days) if expires_in_days is not None else None
    return LotBalance(name, kind, remaining, expires, NOW - timedelta(days=age_days))


def test_soonest_expiring_first_then_bonus_before_paid_then_oldest():
    lots = [
        lot("paid-old", "paid", 100, age_days=10),
        lot("bonus-new", "bonus", 100, age_days=1),
        lot("paid-expiring", "paid", 100, expires_in_days=5),
        lot("bonus-expiring-later", "bonus", 100, expires_in_days=30),
        lot("bonus-old", "bonus", 100, age_days=5),
    ]
    taken = allocate(lots, 450, NOW)
    assert taken == [
        ("paid-expiring", 100),
        ("bonus-expiring-later", 100),
        ("bonus-old", 100),
        ("bonus-new", 100),
        ("paid-old", 50),
    ]


def test_expired_lots_are_never_consumed():
    lots = [lot("expired", "bonus", 100, expires_in_days=-1), lot("paid", "paid", 100)]
    assert spendable(lots, NOW) == 100
    assert allocate(lots, 100, NOW) == [("paid", 100)]
    with pytest.raises(ValueError, match="more than the lots hold"):
        allocate(lots, 101, NOW)


def test_give_back_returns_last_taken_first():
    taken = [("a", 100), ("b", 50)]
    assert give_back(taken, 70) == [("b", 50), ("a", 20)]
    assert give_back(taken, 150) == [("b", 50), ("a", 100)]
    with pytest.raises(ValueError, match="outstanding"):
        give_back(taken, 151)
