"""The demo organisation: a month of history, made through the service's own use cases.

Everything goes through the services (top-ups paid on the stand-ins and confirmed,
grants, deductions, a refund request), so the books are exactly what a month of use
would leave. Only the calendar is arranged: `backdated` lets the seed run on earlier
days. In this throwaway database only, while it seeds, the `created_at` defaults read
a one-row clock table instead of `now()`, and the service's clock is pinned to the same
moment; both are put back before the service starts serving.
"""

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from sqlalchemy.engine import make_url

from ledger import clock
from ledger.extensions import db as ledger_db
from ledger.services import deductions, grants, holds, organizations, refunds, topups
from sandbox.portone_api import FakePortOne
from sandbox.stripe_checkout import SandboxStripe

CAMPAIGNS = ("Spring sale: search ads", "Brand awareness: video", "Retargeting: display")


@dataclass(frozen=True)
class Demo:
    org_id: uuid.UUID
    name: str


def seed(database_url: str, stripe: SandboxStripe, portone: FakePortOne) -> Demo:
    """Seoul Flowers: three PortOne top-ups over a month, a loyalty grant, daily
    campaign spending, a Stripe top-up today, a campaign budget held and partly spent,
    and a refund request waiting for an operator."""
    org = organizations.create_organization(
        name="Seoul Flowers", billing_email="ads@seoulflowers.example", currency="KRW"
    )
    now = clock.now()
    with backdated(database_url) as on_day:
        for days_ago in range(28, 0, -1):
            moment = on_day(now - timedelta(days=days_ago, hours=3))
            if days_ago in (28, 12, 3):
                amount = {28: 300_000, 12: 200_000, 3: 100_000}[days_ago]
                _portone_topup(portone, org.id, f"demo-topup-{days_ago}", amount, moment)
            if days_ago == 2:
                grants.grant_credit(
                    org_id=org.id,
                    order_id="demo-loyalty",
                    amount=50_000,
                    currency="KRW",
                    reason="Loyalty bonus",
                    granted_by="sandbox",
                    expires_at=now + timedelta(days=28),
                )
            if days_ago == 3:
                # A campaign's budget held for its week, spent from as it runs.
                budget = holds.create_hold(
                    org_id=org.id,
                    order_id="demo-budget-summer",
                    amount=60_000,
                    currency="KRW",
                    description="Summer launch: weekly budget",
                    reference="campaign-4",
                )
            if days_ago == 1:
                holds.capture_hold(
                    org_id=org.id, hold_id=budget.id, order_id="demo-budget-day-1", amount=9_000
                )
            _spend(org.id, days_ago)
    topup = _stripe_topup(stripe, org.id, "demo-topup-today", 50_000)
    _spend(org.id, 0)
    refunds.request_refund(
        org_id=org.id,
        topup_id=topup.id,
        amount=20_000,
        reason="The summer campaign was cancelled",
        requested_by="demo-owner",
    )
    return Demo(org.id, org.name)


def _spend(org_id: uuid.UUID, days_ago: int) -> None:
    """A day's campaign spending: busier midweek, quieter at weekends, never the same."""
    if days_ago % 7 == 5:
        return
    amount = 4_000 + (days_ago * 7919) % 9 * 1_100 + (3_000 if days_ago % 7 in (1, 2, 3) else 0)
    deductions.deduct(
        org_id=org_id,
        order_id=f"demo-spend-{days_ago}",
        amount=amount,
        currency="KRW",
        description=CAMPAIGNS[days_ago % len(CAMPAIGNS)],
        reference=f"campaign-{days_ago % len(CAMPAIGNS) + 1}",
    )


def _portone_topup(
    portone: FakePortOne, org_id: uuid.UUID, order_id: str, amount: int, paid_at: datetime
) -> None:
    topup = topups.create_topup(
        org_id=org_id, order_id=order_id, amount=amount, currency="KRW", provider="portone"
    )
    portone.pay(str(topup.id), amount, "KRW", paid_at=paid_at)
    topups.confirm_topup(org_id=org_id, topup_id=topup.id)


def _stripe_topup(stripe: SandboxStripe, org_id: uuid.UUID, order_id: str, amount: int):
    topup = topups.create_topup(
        org_id=org_id,
        order_id=order_id,
        amount=amount,
        currency="KRW",
        provider="stripe",
        checkout=True,
    )
    stripe.complete_checkout(topup.gateway_checkout_id)
    return topups.confirm_topup(org_id=org_id, topup_id=topup.id)


@contextlib.contextmanager
def backdated(database_url: str) -> Iterator[Callable[[datetime], datetime]]:
    """Yield `on_day(moment)`: what is made next is made at `moment` (rows and clock)."""
    conninfo = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True) as db:
        columns = db.execute(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'created_at' "
            "AND column_default = 'now()'"
        ).fetchall()
        db.execute("CREATE TABLE sandbox_clock (moment timestamptz NOT NULL)")
        db.execute(
            "CREATE FUNCTION sandbox_now() RETURNS timestamptz LANGUAGE sql STABLE AS "
            "'SELECT coalesce((SELECT max(moment) FROM sandbox_clock), now())'"
        )
        for (table,) in columns:
            db.execute(f'ALTER TABLE "{table}" ALTER COLUMN created_at SET DEFAULT sandbox_now()')

        def on_day(moment: datetime) -> datetime:
            db.execute("TRUNCATE sandbox_clock")
            db.execute("INSERT INTO sandbox_clock VALUES (%s)", (moment,))
            clock.pin(moment)
            return moment

        try:
            yield on_day
        finally:
            clock.pin(None)
            # The seed's reads (an object refreshed after its unit of work committed)
            # leave the session's transaction open, holding locks these ALTERs wait for.
            ledger_db.session.close()
            for (table,) in columns:
                db.execute(f'ALTER TABLE "{table}" ALTER COLUMN created_at SET DEFAULT now()')
            db.execute("DROP FUNCTION sandbox_now()")
            db.execute("DROP TABLE sandbox_clock")
