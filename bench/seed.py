"""Bench data: organisations with credit (through the services, as money always enters),
and one organisation with 1,000,000 postings written by the posting engine."""

import uuid

from sqlalchemy import text

from ledger.book import (
    REVENUE,
    EntryDraft,
    lock_wallets,
    platform_account,
    post_entries,
    transfer,
    unit_of_work,
)
from ledger.extensions import db
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
    with unit_of_work():
        endpoint = db.session.execute(text("SELECT 1 FROM webhook_endpoints")).first()
    if not endpoint:
        # Nothing listens there: the bench measures the outbox, not the sending.
        create_endpoint(url="http://127.0.0.1:9/bench", events=["*"])
    return org_id


# Pairs of deduction (-1) and reversal (+1) between the wallet and revenue, posted by the
# engine: every entry balances, the wallet ends where it started (its lot is untouched),
# so verify passes.
_CHUNK = 10_000


def org_with_history(postings: int) -> uuid.UUID:
    """An organisation whose journal holds `postings` postings (two per entry)."""
    org_id = funded_org(1000)
    with unit_of_work():
        wallet = lock_wallets(org_id, "KRW")["available"]
        revenue = platform_account(REVENUE, "KRW")
        entries = postings // 2
        for start in range(1, entries + 1, _CHUNK):
            numbers = range(start, min(start + _CHUNK, entries + 1))
            post_entries([_history_entry(org_id, wallet.id, revenue, g) for g in numbers], [wallet])
    # What autovacuum does to a table after a bulk insert: statistics and the visibility
    # map (which index-only scans rely on). VACUUM cannot run inside a transaction.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE) journal_entries, postings"))
    return org_id


def _history_entry(org_id: uuid.UUID, wallet: int, revenue: int, number: int) -> EntryDraft:
    deduction = number % 2 == 1
    return EntryDraft(
        kind="deduction" if deduction else "reversal",
        org_id=org_id,
        currency="KRW",
        postings=transfer(
            source=wallet if deduction else revenue,
            destination=revenue if deduction else wallet,
            currency="KRW",
            amount=1,
        ),
        order_id=f"seed-{number}",
        description="bench history",
    )
