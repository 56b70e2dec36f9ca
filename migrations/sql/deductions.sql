-- A deduction in one round trip: the bookkeeping core (ledger/book/deductions.py) calls
-- these; nothing else does. Every table rule still holds: the deferred balance trigger,
-- the append-only triggers and the CHECKs see the same rows the posting engine writes.

-- The lot order, written once (ledger/domain/lots.py is its test oracle): of the lots
-- given, those with credit left and not expired at `at`, soonest expiry first (lots that
-- never expire last), then bonus before paid, then oldest, then by id; `taken` is what
-- `amount` takes from each, in that order (`position`). Lots are passed as arrays so the
-- rule can be checked against the oracle on any lots, without writing any.
CREATE FUNCTION ledger_take_from_lots(
    lot_ids uuid[], kinds text[], remainings bigint[], expires timestamptz[],
    created timestamptz[], amount bigint, at timestamptz
) RETURNS TABLE (lot_id uuid, taken bigint, "position" bigint)
LANGUAGE sql IMMUTABLE AS $$
    SELECT id, least(remaining, amount - before), row_number() OVER (ORDER BY n)
    FROM (
        SELECT id, remaining, n,
               sum(remaining) OVER (ORDER BY n ROWS UNBOUNDED PRECEDING) - remaining AS before
        FROM (
            SELECT l.id, l.remaining,
                   row_number() OVER (ORDER BY l.expires_at NULLS LAST, l.kind <> 'bonus',
                                               l.created_at, l.id) AS n
            FROM unnest(lot_ids, kinds, remainings, expires, created)
                 AS l(id, kind, remaining, expires_at, created_at)
            WHERE l.remaining > 0 AND (l.expires_at IS NULL OR l.expires_at > at)
        ) ordered
    ) running
    WHERE before < amount
    ORDER BY n
$$;

-- Deductions in one round trip, its own transaction when called alone (autocommit): a
-- single deduction is a batch of one. In one call it claims every order_id, locks the
-- available wallet of each currency, decides each item in order, and writes every entry,
-- posting, wallet balance, lot movement and key set-based. Item `n` (1-based) answers:
--   created       entry_id, amount, currency, balance_after, created_at of its entry
--   replayed      the same of the entry its order_id made first (earlier, or in this batch)
--   conflict      its order_id was used with a different request
--   insufficient  `available` is what the unexpired lots still held for it
-- `low_balance` is true on a created item when its wallet has just crossed below the
-- organisation's low-balance threshold (decided here, under the wallet lock, once per
-- crossing, as ledger/book/alerts.py says). Its `balance.low` event must be written in
-- the same transaction, which this function cannot render: called with p_may_alert
-- false (alone, autocommit), it raises SQLSTATE LB001 instead and changes nothing, and
-- the core calls it again inside a transaction of its own, where it writes the event.
-- Items are independent: a refused one writes nothing and keeps no key, as if rolled
-- back. Lock order, shared with every use case: the keys are claimed (in order_id order)
-- before any wallet is locked, so no two calls wait on each other in a cycle.
CREATE FUNCTION ledger_deduct(
    p_org_id uuid, p_order_ids text[], p_hashes text[], p_amounts bigint[],
    p_currencies text[], p_descriptions text[], p_references text[], p_metadata text[],
    p_revenue_ids bigint[], p_at timestamptz, p_may_alert boolean
) RETURNS TABLE (item int, outcome text, entry_id bigint, amount bigint, currency text,
                 balance_after bigint, created_at timestamptz, available bigint,
                 low_balance boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_count int := coalesce(cardinality(p_order_ids), 0);
    v_prev int[];           -- the item before with the same order_id (0: none)
    v_owned boolean[];      -- this call claimed the item's order_id
    v_claimed bigint[];     -- then: the entry id its key names
    v_key_hash text[];      -- else: the request hash an earlier call stored for it
    v_key_result bigint[];  -- and the entry that call made
    v_currencies text[];    -- the batch's currencies, sorted
    v_balances bigint[];    -- per currency: the locked wallet's balance (0: no wallet)
    v_spendable bigint[];   -- per currency: what unexpired lots hold
    v_spent bigint[];       -- per currency: what the items drafted so far take
    v_threshold bigint[];   -- per currency: the low-balance threshold (own currency only)
    v_alerted boolean[];    -- per currency: whether the wallet's balance.low is out
    v_alert boolean[];      -- per currency: balance.low is due now
    v_outcome text[] := array_fill(NULL::text, ARRAY[v_count]);
    v_first int[] := array_fill(0, ARRAY[v_count]);  -- the drafted item an item is or repeats
    v_start bigint[] := array_fill(NULL::bigint, ARRAY[v_count]);
    v_entry bigint[] := array_fill(NULL::bigint, ARRAY[v_count]);
    v_available bigint[] := array_fill(NULL::bigint, ARRAY[v_count]);
    v_replays bigint[] := '{}';  -- entries of earlier calls that items replay
    v_release text[];       -- order_ids claimed here whose every item was refused
    v_posted int;           -- entries written
    v_rekey int[] := '{}';  -- created items whose key must be made to name them
    v_sequence regclass := pg_get_serial_sequence('journal_entries', 'id');
    v_c int;
    v_d int;
BEGIN
    IF v_count = 0 THEN
        RETURN;
    END IF;

    -- An entry id for each item, drawn in item order. The first occurrence of each
    -- order_id claims it, and its key names that id at once: the entry its deduction
    -- will have (a refused one frees the key; unused ids are gaps in the sequence).
    WITH drawn AS MATERIALIZED (
        SELECT u.order_id, u.hash, u.n, nextval(v_sequence) AS id
        FROM unnest(p_order_ids, p_hashes) WITH ORDINALITY AS u(order_id, hash, n)
        ORDER BY u.n
    ), firsts AS (
        SELECT DISTINCT ON (d.order_id) d.order_id, d.hash, d.id
        FROM drawn d
        ORDER BY d.order_id, d.n
    ), claimed AS (
        INSERT INTO idempotency_keys (org_id, kind, order_id, request_hash, result_id)
        SELECT p_org_id, 'deduction', f.order_id, f.hash, f.id::text FROM firsts f
        ORDER BY f.order_id COLLATE "C"
        ON CONFLICT DO NOTHING
        RETURNING idempotency_keys.order_id, idempotency_keys.result_id
    )
    SELECT array_agg(coalesce(u.prev, 0) ORDER BY u.n),
           array_agg(c.order_id IS NOT NULL ORDER BY u.n),
           array_agg(c.result_id::bigint ORDER BY u.n)
    INTO v_prev, v_owned, v_claimed
    FROM (SELECT o.order_id, o.n, lag(o.n) OVER (PARTITION BY o.order_id ORDER BY o.n) AS prev
          FROM unnest(p_order_ids) WITH ORDINALITY AS o(order_id, n)) u
    LEFT JOIN claimed c ON c.order_id = u.order_id;

    IF NOT (true = ALL(v_owned)) THEN  -- some order_ids were used before
        SELECT array_agg(k.request_hash::text ORDER BY u.n),
               array_agg(k.result_id::bigint ORDER BY u.n)
        INTO v_key_hash, v_key_result
        FROM unnest(p_order_ids, v_owned) WITH ORDINALITY AS u(order_id, owned, n)
        LEFT JOIN idempotency_keys k
               ON NOT u.owned AND k.org_id = p_org_id AND k.kind = 'deduction'
              AND k.order_id = u.order_id;
    ELSE
        v_key_result := array_fill(NULL::bigint, ARRAY[v_count]);
    END IF;

    SELECT array_agg(DISTINCT c ORDER BY c) INTO v_currencies FROM unnest(p_currencies) AS c;
    -- The available wallet's lock also guards the organisation's lots in its currency.
    PERFORM 1 FROM ledger_accounts a
    WHERE a.org_id = p_org_id AND a.currency = ANY(v_currencies) AND a.kind = 'available'
    ORDER BY a.currency FOR UPDATE;
    SELECT array_agg(coalesce(a.balance, 0) ORDER BY x.n),
           array_agg(coalesce(s.spendable, 0) ORDER BY x.n),
           array_agg(0::bigint ORDER BY x.n),
           array_agg(CASE WHEN o.currency = x.currency THEN o.low_balance_threshold END
                     ORDER BY x.n),
           array_agg(coalesce(a.low_balance_alerted, false) ORDER BY x.n),
           array_agg(false ORDER BY x.n)
    INTO v_balances, v_spendable, v_spent, v_threshold, v_alerted, v_alert
    FROM unnest(v_currencies) WITH ORDINALITY AS x(currency, n)
    JOIN organizations o ON o.id = p_org_id
    LEFT JOIN ledger_accounts a
           ON a.org_id = p_org_id AND a.currency = x.currency AND a.kind = 'available'
    LEFT JOIN LATERAL (
        SELECT sum(t.taken) AS spendable
        FROM (SELECT array_agg(l.id) AS ids, array_agg(l.kind) AS kinds,
                     array_agg(l.remaining) AS remainings, array_agg(l.expires_at) AS expires,
                     array_agg(l.created_at) AS created
              FROM lots l
              WHERE l.org_id = p_org_id AND l.currency = x.currency AND l.remaining > 0) l,
             ledger_take_from_lots(l.ids, l.kinds, l.remainings, l.expires, l.created,
                                   9223372036854775807, p_at) t
    ) s ON true;

    -- Each item in order, as a single call would be answered at its turn.
    FOR i IN 1..v_count LOOP
        v_d := CASE WHEN v_prev[i] > 0 THEN v_first[v_prev[i]] ELSE 0 END;
        IF v_d > 0 THEN
            v_outcome[i] := CASE WHEN p_hashes[v_d] = p_hashes[i] THEN 'replayed' ELSE 'conflict' END;
            v_first[i] := v_d;
        ELSIF NOT v_owned[i] AND v_key_result[i] IS NOT NULL THEN
            v_outcome[i] := CASE WHEN v_key_hash[i] = p_hashes[i] THEN 'replayed' ELSE 'conflict' END;
            IF v_outcome[i] = 'replayed' THEN
                v_replays := v_replays || v_key_result[i];
            END IF;
        ELSE
            v_c := array_position(v_currencies, p_currencies[i]);
            IF v_spent[v_c] + p_amounts[i] > v_spendable[v_c] THEN
                v_outcome[i] := 'insufficient';
                v_available[i] := v_spendable[v_c] - v_spent[v_c];
            ELSE
                v_outcome[i] := 'created';
                v_first[i] := i;
                v_start[i] := v_spent[v_c];
                v_spent[v_c] := v_spent[v_c] + p_amounts[i];
                v_entry[i] := coalesce(v_claimed[i], nextval(v_sequence));
                IF v_prev[i] > 0 OR NOT v_owned[i] THEN  -- the key names another request
                    v_rekey := v_rekey || i;
                END IF;
            END IF;
        END IF;
    END LOOP;

    -- balance.low, once per crossing: a wallet the items spent from that is now below
    -- its threshold with no alert out is alerted; one back at or above it (or whose
    -- threshold is off) is re-armed.
    FOR c IN 1..cardinality(v_currencies) LOOP
        CONTINUE WHEN v_spent[c] = 0;
        IF v_threshold[c] IS NULL OR v_balances[c] - v_spent[c] >= v_threshold[c] THEN
            CONTINUE WHEN NOT v_alerted[c];
        ELSIF v_alerted[c] THEN
            CONTINUE;
        ELSIF NOT p_may_alert THEN
            RAISE EXCEPTION 'balance.low is due for % %', p_org_id, v_currencies[c]
                USING ERRCODE = 'LB001';
        ELSE
            v_alert[c] := true;
        END IF;
        UPDATE ledger_accounts a SET low_balance_alerted = v_alert[c]
        WHERE a.org_id = p_org_id AND a.currency = v_currencies[c] AND a.kind = 'available';
    END LOOP;

    -- Every write at once. An item takes the slice [start, start + amount) of its
    -- currency's lots laid end to end in the lot order.
    WITH items AS MATERIALIZED (
        SELECT u.n, v_entry[u.n] AS id, u.order_id, u.hash, u.amount, u.currency,
               u.description, u.reference, u.metadata, u.revenue_id, v_start[u.n] AS start,
               a.id AS wallet_id,
               v_balances[x.n] - v_start[u.n] - u.amount AS balance_after, x.n AS c
        FROM unnest(p_order_ids, p_hashes, p_amounts, p_currencies, p_descriptions,
                    p_references, p_metadata, p_revenue_ids) WITH ORDINALITY
             AS u(order_id, hash, amount, currency, description, reference, metadata,
                  revenue_id, n)
        JOIN unnest(v_currencies) WITH ORDINALITY AS x(currency, n) ON x.currency = u.currency
        JOIN ledger_accounts a
          ON a.org_id = p_org_id AND a.currency = u.currency AND a.kind = 'available'
        WHERE v_outcome[u.n] = 'created'
    ), runs AS MATERIALIZED (
        SELECT x.n AS c, t.lot_id, t.taken, t.position,
               sum(t.taken) OVER (PARTITION BY x.n ORDER BY t.position) - t.taken AS start
        FROM unnest(v_currencies) WITH ORDINALITY AS x(currency, n),
             LATERAL (SELECT array_agg(l.id) AS ids, array_agg(l.kind) AS kinds,
                             array_agg(l.remaining) AS remainings,
                             array_agg(l.expires_at) AS expires, array_agg(l.created_at) AS created
                      FROM lots l
                      WHERE l.org_id = p_org_id AND l.currency = x.currency
                        AND l.remaining > 0) l,
             LATERAL ledger_take_from_lots(l.ids, l.kinds, l.remainings, l.expires, l.created,
                                           v_spent[x.n], p_at) t
        WHERE v_spent[x.n] > 0
    ), entries AS (
        INSERT INTO journal_entries (id, org_id, kind, currency, order_id, description,
                                     reference, metadata)
        SELECT i.id, p_org_id, 'deduction', i.currency, i.order_id, i.description,
               i.reference, CAST(i.metadata AS jsonb)
        FROM items i ORDER BY i.n
    ), posted AS (
        INSERT INTO postings (entry_id, account_id, currency, amount, balance_after)
        SELECT i.id, p.account_id, i.currency, p.amount, p.balance_after
        FROM items i,
             LATERAL (VALUES (i.wallet_id, -i.amount, i.balance_after),
                             (i.revenue_id, i.amount, NULL::bigint))
                     AS p(account_id, amount, balance_after)
        ORDER BY i.n
    ), wallets AS (
        UPDATE ledger_accounts a SET balance = a.balance - v_spent[x.n]
        FROM unnest(v_currencies) WITH ORDINALITY AS x(currency, n)
        WHERE a.org_id = p_org_id AND a.currency = x.currency AND a.kind = 'available'
          AND v_spent[x.n] > 0
    ), lot_updates AS (
        UPDATE lots l SET remaining = l.remaining - r.taken FROM runs r WHERE l.id = r.lot_id
    ), allocations AS (
        -- In the order taken: a reversal gives back the last taken first.
        INSERT INTO lot_allocations (lot_id, entry_id, amount)
        SELECT r.lot_id, i.id,
               greatest(i.start, r.start) - least(i.start + i.amount, r.start + r.taken)
        FROM items i
        JOIN runs r ON r.c = i.c AND r.start < i.start + i.amount AND i.start < r.start + r.taken
        ORDER BY i.n, r.position
    )
    SELECT count(*) INTO v_posted FROM items;

    IF cardinality(v_rekey) > 0 THEN
        UPDATE idempotency_keys k SET request_hash = p_hashes[r.i], result_id = v_entry[r.i]::text
        FROM unnest(v_rekey) AS r(i)
        WHERE k.org_id = p_org_id AND k.kind = 'deduction' AND k.order_id = p_order_ids[r.i];
    END IF;

    -- Keys claimed here whose every item was refused are freed.
    SELECT array_agg(u.order_id) INTO v_release
    FROM (SELECT u.order_id
          FROM unnest(p_order_ids, v_owned, v_outcome) AS u(order_id, owned, outcome)
          GROUP BY u.order_id
          HAVING bool_or(u.owned) AND NOT bool_or(u.outcome = 'created')) u;
    IF v_release IS NOT NULL THEN
        DELETE FROM idempotency_keys k
        WHERE k.org_id = p_org_id AND k.kind = 'deduction' AND k.order_id = ANY(v_release);
    END IF;

    RETURN QUERY
    SELECT u.n::int, v_outcome[u.n],
           coalesce(v_entry[v_first[u.n]], e.id),
           coalesce(p_amounts[v_first[u.n]], abs(e.amount)),
           coalesce(p_currencies[v_first[u.n]], e.currency::text),
           CASE WHEN v_first[u.n] > 0
                THEN v_balances[array_position(v_currencies, p_currencies[v_first[u.n]])]
                     - v_start[v_first[u.n]] - p_amounts[v_first[u.n]]
                ELSE e.balance_after END,
           CASE WHEN v_first[u.n] > 0 THEN now() ELSE e.created_at END,
           v_available[u.n],
           v_outcome[u.n] = 'created'
               AND v_alert[array_position(v_currencies, p_currencies[u.n])]
    FROM generate_series(1, v_count) AS u(n)
    LEFT JOIN (
        -- Replays of earlier calls: their entries and the wallet's posting.
        SELECT e.id, e.currency, e.created_at, p.amount, p.balance_after
        FROM journal_entries e
        JOIN postings p ON p.entry_id = e.id
        JOIN ledger_accounts a ON a.id = p.account_id AND a.org_id = e.org_id
        WHERE e.id = ANY(v_replays) AND e.org_id = p_org_id
    ) e ON v_first[u.n] = 0 AND e.id = v_key_result[u.n]
    ORDER BY u.n;
END;
$$;

--- reverse:
DROP FUNCTION ledger_deduct(uuid, text[], text[], bigint[], text[], text[], text[], text[],
                            bigint[], timestamptz, boolean);
DROP FUNCTION ledger_take_from_lots(uuid[], text[], bigint[], timestamptz[], timestamptz[],
                                    bigint, timestamptz);
