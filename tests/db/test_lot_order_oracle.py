"""The lot order is written once, in SQL (`ledger_take_from_lots`); the Python rule in
`ledger.domain.lots` is its oracle, checked here on random lots: ties in expiry and age,
lots that never expire, expired and empty lots."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from ledger.book import take_from_lots
from ledger.domain.lots import LotBalance, allocate, spendable
from ledger.extensions import db

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
EVERYTHING = 2**63 - 1

_TAKE = text(
    "SELECT lot_id, taken FROM ledger_take_from_lots("
    "CAST(:ids AS uuid[]), CAST(:kinds AS text[]), CAST(:remainings AS bigint[]), "
    "CAST(:expires AS timestamptz[]), CAST(:created AS timestamptz[]), :amount, :at) "
    "ORDER BY position"
)

# Few distinct instants, so that expiries and ages often tie.
_moments = st.integers(min_value=-3, max_value=3).map(lambda days: NOW + timedelta(days=days))
_lots = st.lists(
    st.builds(
        LotBalance,
        id=st.uuids(),
        kind=st.sampled_from(["paid", "bonus"]),
        remaining=st.integers(min_value=0, max_value=50),
        expires_at=st.none() | _moments,
        created_at=_moments,
    ),
    max_size=12,
    unique_by=lambda lot: lot.id,
)


def _take(lots: list[LotBalance], amount: int) -> list[tuple[object, int]]:
    rows = db.session.execute(
        _TAKE,
        {
            "ids": [lot.id for lot in lots],
            "kinds": [lot.kind for lot in lots],
            "remainings": [lot.remaining for lot in lots],
            "expires": [lot.expires_at for lot in lots],
            "created": [lot.created_at for lot in lots],
            "amount": amount,
            "at": NOW,
        },
    )
    return [(row.lot_id, row.taken) for row in rows]


@settings(max_examples=300, deadline=None)
@given(lots=_lots, share=st.floats(min_value=0, max_value=1))
def test_sql_takes_from_lots_as_the_python_rule_does(app, lots, share):
    with app.app_context():
        total = spendable(lots, NOW)
        assert sum(taken for _, taken in _take(lots, EVERYTHING)) == total
        amount = max(1, round(total * share))
        if total >= amount:
            assert _take(lots, amount) == allocate(lots, amount, NOW)
        db.session.rollback()


def test_take_from_lots_reads_an_organisations_lots(app, caller, org):
    soon = datetime.now(UTC) + timedelta(days=3)
    caller.grant(org, 100)
    caller.grant(org, 50, expires_at=soon)
    caller.grant(org, 70)
    with app.app_context():
        now = datetime.now(UTC)
        rows = db.session.execute(
            text(
                "SELECT id, kind, remaining, expires_at, created_at FROM lots "
                "WHERE org_id = :org_id"
            ),
            {"org_id": org.id},
        )
        lots = [LotBalance(*row) for row in rows]
        assert take_from_lots(org.id, "KRW", 180, now) == allocate(lots, 180, now)
        assert sum(taken for _, taken in take_from_lots(org.id, "KRW", 999, now)) == 220
        db.session.rollback()
