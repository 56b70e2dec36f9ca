-- The database's last word on the ledger's invariants.

-- Each journal entry's postings sum to zero per currency. Deferred to COMMIT, so an
-- entry is checked once all its postings are in.
CREATE FUNCTION ledger_check_entry_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    unbalanced record;
BEGIN
    SELECT currency, sum(amount) AS total INTO unbalanced
    FROM postings WHERE entry_id = NEW.entry_id
    GROUP BY currency HAVING sum(amount) <> 0
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance: % %', NEW.entry_id,
            unbalanced.total, unbalanced.currency
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_postings_entry_balanced';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER postings_entry_balanced
    AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balanced();

-- Entries and postings are append-only: a mistake is corrected by a new entry.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER journal_entries_append_only
    BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER postings_append_only
    BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER lot_allocations_append_only
    BEFORE UPDATE OR DELETE ON lot_allocations
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

--- reverse:
DROP TRIGGER lot_allocations_append_only ON lot_allocations;
DROP TRIGGER postings_append_only ON postings;
DROP TRIGGER journal_entries_append_only ON journal_entries;
DROP FUNCTION ledger_refuse_change();
DROP TRIGGER postings_entry_balanced ON postings;
DROP FUNCTION ledger_check_entry_balanced();
