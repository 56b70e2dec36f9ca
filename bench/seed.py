"""Bench data: organisations with credit (through the services, as money always enters),
and one organisation with 1,000,000 postings written in one INSERT ... SELECT."""

import uuid

from sqlalchemy import text

from ledger.extensions import db
from ledger.services.accounts import REVENUE, platform_account
from ledger.services.grants import grant_credit
from ledger.services.organizations import create_organization, set_low_balance_threshold
from ledger.services.webhook_endpoints import create_endpoint


def funded_org(amount: int) -> uuid.UUID:
    org = create_organization(name="bench", billing_email="bench@example.com", currency="KRW")
    grant_credit(
        org_id=org.id,
        order_id="seed",
        amount=amount,
        currency="KRW",
        reason="bench credit",
        granted_by="bench",
    )
    return org.id


def watched_org(amount: int) -> uuid.UUID:
    """A funded organisation with a low-balance threshold, and an endpoint for its events."""
    org_id = funded_org(amount)
    set_low_balance_threshold(org_id=org_id, threshold=1)
    if not db.session.execute(text("SELECT 1 FROM webhook_endpoints")).first():
        # Nothing listens there: the bench measures the outbox, not the sending.
        create_endpoint(url="http://127.0.0.1:9/bench", events=["*"])
    return org_id


# Pairs of deduction (-1) and reversal (+1) between the wallet and revenue: every entry
# balances, the wallet ends where it started (its lot is untouched), so verify passes.
_MILLION_POSTINGS = text(
    """
    WITH wallet AS (
        SELECT id, balance FROM ledger_accounts
        WHERE org_id = :org_id AND currency = 'KRW' AND kind = 'available'
    ), entries AS (
        INSERT INTO journal_entries (org_id, kind, currency, order_id, description)
        SELECT :org_id, CASE WHEN g % 2 = 1 THEN 'deduction' ELSE 'reversal' END, 'KRW',
               'seed-' || g, 'bench history'
        FROM generate_series(1, :entries) AS g
        ORDER BY g
        RETURNING id, kind
    )
    INSERT INTO postings (entry_id, account_id, currency, amount, balance_after)
    SELECT e.id, p.account_id, 'KRW', p.amount, p.balance_after
    FROM entries e, wallet w, LATERAL (VALUES
        (w.id, CASE WHEN e.kind = 'deduction' THEN -1 ELSE 1 END,
         CASE WHEN e.kind = 'deduction' THEN w.balance - 1 ELSE w.balance END),
        (CAST(:revenue AS bigint), CASE WHEN e.kind = 'deduction' THEN 1 ELSE -1 END, NULL)
    ) AS p(account_id, amount, balance_after)
    """
)


def org_with_history(postings: int) -> uuid.UUID:
    """An organisation whose journal holds `postings` postings (two per entry)."""
    org_id = funded_org(1000)
    revenue = platform_account(REVENUE, "KRW")
    db.session.execute(
        _MILLION_POSTINGS, {"org_id": org_id, "entries": postings // 2, "revenue": revenue}
    )
    db.session.commit()
    # What autovacuum does to a table after a bulk insert: statistics and the visibility
    # map (which index-only scans rely on). VACUUM cannot run inside a transaction.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE) journal_entries, postings"))
    return org_id
