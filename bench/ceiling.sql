-- The ceiling (bench/ceiling.py): one deduction of 1 as PostgreSQL itself runs it, driven
-- by pgbench, with the shape the service's deduction had before it became one call: claim
-- a unique order_id, lock the wallet row, find the first lot, post the entry (two
-- postings, the wallet's balance, the lot, its allocation), record the key, commit.
-- Variables: lo, hi (the range of bench_orgs.n to draw from) and revenue. Run with
-- --protocol=prepared: variables are bound parameters, statements prepared once (as
-- psycopg prepares the service's).
\set n random(:lo, :hi)
BEGIN;
INSERT INTO idempotency_keys (org_id, kind, order_id, request_hash)
SELECT org_id, 'deduction', 'pgbench-' || gen_random_uuid(), repeat('0', 64)
FROM bench_orgs WHERE n = CAST(:n AS int)
RETURNING id AS key_id, org_id, order_id \gset
SELECT id AS wallet_id, balance FROM ledger_accounts
WHERE org_id = CAST(:org_id AS uuid) AND currency = 'KRW' AND kind = 'available'
FOR UPDATE \gset
SELECT id AS lot_id FROM lots
WHERE org_id = CAST(:org_id AS uuid) AND currency = 'KRW' AND remaining > 0
ORDER BY expires_at NULLS LAST, created_at LIMIT 1 \gset
WITH entry AS (
    INSERT INTO journal_entries (org_id, kind, currency, order_id)
    VALUES (CAST(:org_id AS uuid), 'deduction', 'KRW', CAST(:order_id AS text)) RETURNING id
), posted AS (
    INSERT INTO postings (entry_id, account_id, currency, amount, balance_after)
    SELECT id, CAST(:wallet_id AS bigint), 'KRW', -1, CAST(:balance AS bigint) - 1 FROM entry
    UNION ALL SELECT id, CAST(:revenue AS bigint), 'KRW', 1, NULL FROM entry
), wallet AS (
    UPDATE ledger_accounts SET balance = balance - 1 WHERE id = CAST(:wallet_id AS bigint)
), lot AS (
    UPDATE lots SET remaining = remaining - 1 WHERE id = CAST(:lot_id AS uuid)
), allocation AS (
    INSERT INTO lot_allocations (lot_id, entry_id, amount)
    SELECT CAST(:lot_id AS uuid), id, -1 FROM entry
)
SELECT id AS entry_id FROM entry \gset
UPDATE idempotency_keys SET result_id = CAST(:entry_id AS text)
WHERE id = CAST(:key_id AS bigint);
COMMIT;
