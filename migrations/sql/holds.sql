-- Holds only move forward: the amount never changes, captured and released only grow,
-- and a closed hold stays as it closed. What a hold took from lots, and its captures,
-- are written once.
CREATE FUNCTION ledger_hold_moves_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.amount <> OLD.amount OR NEW.org_id <> OLD.org_id OR NEW.order_id <> OLD.order_id
       OR NEW.currency <> OLD.currency OR NEW.entry_id <> OLD.entry_id
       OR NEW.captured < OLD.captured OR NEW.released < OLD.released
       OR (OLD.status <> 'active' AND NEW IS DISTINCT FROM OLD) THEN
        RAISE EXCEPTION 'hold % only moves forward', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_holds_moves_forward';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER holds_move_forward
    BEFORE UPDATE ON holds
    FOR EACH ROW EXECUTE FUNCTION ledger_hold_moves_forward();

CREATE TRIGGER holds_append_only
    BEFORE DELETE ON holds
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER hold_lots_append_only
    BEFORE UPDATE OR DELETE ON hold_lots
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER hold_captures_append_only
    BEFORE UPDATE OR DELETE ON hold_captures
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

--- reverse:
DROP TRIGGER hold_captures_append_only ON hold_captures;
DROP TRIGGER hold_lots_append_only ON hold_lots;
DROP TRIGGER holds_append_only ON holds;
DROP TRIGGER holds_move_forward ON holds;
DROP FUNCTION ledger_hold_moves_forward();
