-- The ceiling (bench/ceiling.py): one deduction of 1 as PostgreSQL itself runs it, driven
-- by pgbench, with the shape the service's deduction had before it became one call: claim
-- a unique order_id, lock the wallet row, find the first lot, post the entry (two
-- postings, the wallet's balance, the lot, its allocation), record the key, commit.
-- Variables: lo, hi (the range of bench_orgs.n to draw from) and revenue.
\set n random(:lo, :hi)
BEGIN;
INSERT INTO idempotency_keys (org_id, kind, order_id, request_hash)
SELECT org_id, 'deduction', 'pgbench-' || gen_random_uuid(), repeat('0', 64)
FROM bench_orgs WHERE n = :n
RETURNING id AS key_id, org_id, order_id \gset
SELECT id AS wallet_id, balance FROM ledger_accounts
WHERE org_id = :'org_id' AND currency = 'KRW' AND kind = 'available' FOR UPDATE \gset
SELECT id AS lot_id FROM lots
WHERE org_id = :'org_id' AND currency = 'KRW' AND remaining > 0
ORDER BY expires_at NULLS LAST, created_at LIMIT 1 \gset
WITH entry AS (
    INSERT INTO journal_entries (org_id, kind, currency, order_id)
    VALUES (:'org_id', 'deduction', 'KRW', :'order_id') RETURNING id
), posted AS (
    INSERT INTO postings (entry_id, account_id, currency, amount, balance_after)
    SELECT id, :wallet_id, 'KRW', -1, :balance - 1 FROM entry
    UNION ALL SELECT id, :revenue, 'KRW', 1, NULL FROM entry
), wallet AS (
    UPDATE ledger_accounts SET balance = balance - 1 WHERE id = :wallet_id
), lot AS (
    UPDATE lots SET remaining = remaining - 1 WHERE id = :'lot_id'
), allocation AS (
    INSERT INTO lot_allocations (lot_id, entry_id, amount) SELECT :'lot_id', id, -1 FROM entry
)
SELECT id AS entry_id FROM entry \gset
UPDATE idempotency_keys SET result_id = :entry_id WHERE id = :key_id;
COMMIT;
