-- A single deduction in one round trip (ledger/book/deductions.py calls it; nothing else
-- does). It answers and writes as `ledger_deduct` does for a batch of one
-- (tests/db/test_deduct_one.py checks that on random sequences), in plain statements
-- instead of the batch's array bookkeeping: most deductions come one at a time, and for
-- one item the batch form spent more on setting up its statements than on the work. The
-- lot order stays written once, in `ledger_take_from_lots`; the lock order is the
-- batch's (the key, then the wallet).
CREATE FUNCTION ledger_deduct_one(
    p_org_id uuid, p_order_id text, p_hash text, p_amount bigint, p_currency text,
    p_description text, p_reference text, p_metadata text, p_revenue_id bigint,
    p_at timestamptz, p_may_alert boolean
) RETURNS TABLE (item int, outcome text, entry_id bigint, amount bigint, currency text,
                 balance_after bigint, created_at timestamptz, available bigint,
                 low_balance boolean)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan  -- as ledger_deduct's (migration 2b7e4c9d0f61)
AS $$
#variable_conflict use_column
DECLARE
    v_entry bigint := nextval('journal_entries_id_seq'::regclass);
    v_owned boolean;
    v_key_hash text;
    v_key_result bigint;
    v_wallet bigint;
    v_balance bigint;
    v_alerted boolean;
    v_threshold bigint;
    v_lots uuid[];
    v_taken bigint[];
    v_spendable bigint;
    v_alert boolean := false;
BEGIN
    -- Claim the order_id: its key names at once the entry this deduction will have.
    INSERT INTO idempotency_keys (org_id, kind, order_id, request_hash, result_id)
    VALUES (p_org_id, 'deduction', p_order_id, p_hash, v_entry::text)
    ON CONFLICT DO NOTHING;
    v_owned := FOUND;
    IF NOT v_owned THEN
        SELECT k.request_hash::text, k.result_id::bigint INTO v_key_hash, v_key_result
        FROM idempotency_keys k
        WHERE k.org_id = p_org_id AND k.kind = 'deduction' AND k.order_id = p_order_id;
        IF v_key_result IS NOT NULL AND v_key_hash <> p_hash THEN
            RETURN QUERY SELECT 1, 'conflict', NULL::bigint, NULL::bigint, NULL::text,
                                NULL::bigint, NULL::timestamptz, NULL::bigint, false;
            RETURN;
        ELSIF v_key_result IS NOT NULL THEN
            RETURN QUERY
            SELECT 1, 'replayed', e.id, abs(p.amount), e.currency::text, p.balance_after,
                   e.created_at, NULL::bigint, false
            FROM journal_entries e
            JOIN postings p ON p.entry_id = e.id
            JOIN ledger_accounts a ON a.id = p.account_id AND a.org_id = e.org_id
            WHERE e.id = v_key_result AND e.org_id = p_org_id;
            RETURN;
        END IF;
    END IF;

    -- The available wallet's lock also guards the organisation's lots in its currency.
    SELECT a.id, a.balance, a.low_balance_alerted,
           CASE WHEN o.currency = p_currency THEN o.low_balance_threshold END
    INTO v_wallet, v_balance, v_alerted, v_threshold
    FROM ledger_accounts a JOIN organizations o ON o.id = a.org_id
    WHERE a.org_id = p_org_id AND a.currency = p_currency AND a.kind = 'available'
    FOR UPDATE OF a;

    SELECT array_agg(t.lot_id ORDER BY t.position), array_agg(t.taken ORDER BY t.position),
           coalesce(sum(t.taken), 0)
    INTO v_lots, v_taken, v_spendable
    FROM (SELECT array_agg(l.id) AS ids, array_agg(l.kind) AS kinds,
                 array_agg(l.remaining) AS remainings, array_agg(l.expires_at) AS expires,
                 array_agg(l.created_at) AS created
          FROM lots l
          WHERE l.org_id = p_org_id AND l.currency = p_currency AND l.remaining > 0) l,
         ledger_take_from_lots(l.ids, l.kinds, l.remainings, l.expires, l.created,
                               p_amount, p_at) t;

    IF v_wallet IS NULL OR v_spendable < p_amount THEN
        IF v_owned THEN  -- a refused deduction keeps no key, as if rolled back
            DELETE FROM idempotency_keys k
            WHERE k.org_id = p_org_id AND k.kind = 'deduction' AND k.order_id = p_order_id;
        END IF;
        RETURN QUERY SELECT 1, 'insufficient', NULL::bigint, NULL::bigint, NULL::text,
                            NULL::bigint, NULL::timestamptz, v_spendable, false;
        RETURN;
    END IF;

    -- balance.low, once per crossing, as ledger_deduct decides it.
    IF v_threshold IS NULL OR v_balance - p_amount >= v_threshold THEN
        IF v_alerted THEN  -- back at or above the threshold: re-armed
            UPDATE ledger_accounts a SET low_balance_alerted = false WHERE a.id = v_wallet;
        END IF;
    ELSIF NOT v_alerted THEN
        IF NOT p_may_alert THEN
            RAISE EXCEPTION 'balance.low is due for % %', p_org_id, p_currency
                USING ERRCODE = 'LB001';
        END IF;
        v_alert := true;
        UPDATE ledger_accounts a SET low_balance_alerted = true WHERE a.id = v_wallet;
    END IF;

    WITH entry AS (
        INSERT INTO journal_entries (id, org_id, kind, currency, order_id, description,
                                     reference, metadata)
        VALUES (v_entry, p_org_id, 'deduction', p_currency, p_order_id, p_description,
                p_reference, CAST(p_metadata AS jsonb))
    ), posted AS (
        INSERT INTO postings (entry_id, account_id, currency, amount, balance_after)
        VALUES (v_entry, v_wallet, p_currency, -p_amount, v_balance - p_amount),
               (v_entry, p_revenue_id, p_currency, p_amount, NULL)
    ), wallet AS (
        UPDATE ledger_accounts a SET balance = a.balance - p_amount WHERE a.id = v_wallet
    ), lot_updates AS (
        UPDATE lots l SET remaining = l.remaining - t.taken
        FROM unnest(v_lots, v_taken) AS t(lot_id, taken)
        WHERE l.id = t.lot_id
    )
    -- In the order taken: a reversal gives back the last taken first.
    INSERT INTO lot_allocations (lot_id, entry_id, amount)
    SELECT t.lot_id, v_entry, -t.taken
    FROM unnest(v_lots, v_taken) WITH ORDINALITY AS t(lot_id, taken, n)
    ORDER BY t.n;

    IF NOT v_owned THEN  -- the key named no entry yet: it names this one now
        UPDATE idempotency_keys k SET request_hash = p_hash, result_id = v_entry::text
        WHERE k.org_id = p_org_id AND k.kind = 'deduction' AND k.order_id = p_order_id;
    END IF;

    RETURN QUERY SELECT 1, 'created', v_entry, p_amount, p_currency, v_balance - p_amount,
                        now(), NULL::bigint, v_alert;
END;
$$;

--- reverse:
DROP FUNCTION ledger_deduct_one(uuid, text, text, bigint, text, text, text, text, bigint,
                                timestamptz, boolean);
