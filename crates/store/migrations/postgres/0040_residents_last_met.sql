-- The care tags' coverage at a street's scale (issue 18, docs/benchmarks.md): each
-- resident keeps the last day they were met (`last_met_on`) by the definition of
-- store::visits::figures (MET_PERSON): a visit with outcome 'met' to their current
-- household, at the door or by video (reaching everyone there), or naming them.
-- Kept by triggers on `visits` and on `residents` (a person added to a household
-- met before, or moving to another) in the same transaction as the write, as 0035
-- keeps the households' days. The 90 days up to today are then one range of
-- `residents_living`; only a person met after a past window's end asks the visits.
-- `wangge figures verify` recomputes the column (store::summaries). Kept in step
-- with ../sqlite/0040_residents_last_met.sql: the column and the index are the
-- same; the triggers differ only in how each engine writes a trigger.
ALTER TABLE residents ADD COLUMN last_met_on TEXT;

UPDATE residents SET last_met_on = (
    SELECT MAX(v.visited_on) FROM visits v
    WHERE v.household_id = residents.household_id AND v.outcome = 'met'
        AND (v.channel IN ('door', 'video') OR v.resident_id = residents.id))
WHERE household_id IN (SELECT id FROM households WHERE last_met_on IS NOT NULL);

-- 0038's index, widened by the day: the coverage by care tag reads only it.
DROP INDEX residents_living;
CREATE INDEX residents_living ON residents(path, household_id, id, status, last_met_on) WHERE status = 'active';

-- A new visit can only move the days forward; an edited or removed visit sets the
-- household's people again from its visits.
CREATE FUNCTION residents_last_met_visits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.outcome = 'met' THEN
            UPDATE residents SET last_met_on = NEW.visited_on
            WHERE household_id = NEW.household_id
                AND (NEW.channel IN ('door', 'video') OR id = NEW.resident_id)
                AND (last_met_on IS NULL OR last_met_on < NEW.visited_on);
        END IF;
    ELSIF TG_OP = 'UPDATE' OR OLD.outcome = 'met' THEN
        UPDATE residents r SET last_met_on = (
            SELECT MAX(v.visited_on) FROM visits v
            WHERE v.household_id = r.household_id AND v.outcome = 'met'
                AND (v.channel IN ('door', 'video') OR v.resident_id = r.id))
        WHERE r.household_id IN (OLD.household_id, CASE WHEN TG_OP = 'UPDATE' THEN NEW.household_id END);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER residents_last_met_insert AFTER INSERT ON visits
    FOR EACH ROW EXECUTE FUNCTION residents_last_met_visits();
CREATE TRIGGER residents_last_met_update AFTER UPDATE OF household_id, resident_id, channel, outcome, visited_on ON visits
    FOR EACH ROW
    WHEN (OLD.household_id IS DISTINCT FROM NEW.household_id OR OLD.resident_id IS DISTINCT FROM NEW.resident_id
        OR OLD.channel IS DISTINCT FROM NEW.channel OR OLD.outcome IS DISTINCT FROM NEW.outcome
        OR OLD.visited_on IS DISTINCT FROM NEW.visited_on)
    EXECUTE FUNCTION residents_last_met_visits();
CREATE TRIGGER residents_last_met_delete AFTER DELETE ON visits
    FOR EACH ROW EXECUTE FUNCTION residents_last_met_visits();

-- A person entered into, or moved to, a household: its door visits reach them.
-- Only households someone was met in need a look at their visits.
CREATE FUNCTION residents_last_met_self() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.household_id IS NULL
        OR NOT EXISTS (SELECT 1 FROM households h WHERE h.id = NEW.household_id AND h.last_met_on IS NOT NULL) THEN
        NEW.last_met_on := NULL;
    ELSE
        NEW.last_met_on := (
            SELECT MAX(v.visited_on) FROM visits v
            WHERE v.household_id = NEW.household_id AND v.outcome = 'met'
                AND (v.channel IN ('door', 'video') OR v.resident_id = NEW.id));
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER residents_last_met_added BEFORE INSERT ON residents
    FOR EACH ROW EXECUTE FUNCTION residents_last_met_self();
CREATE TRIGGER residents_last_met_moved BEFORE UPDATE OF household_id ON residents
    FOR EACH ROW WHEN (OLD.household_id IS DISTINCT FROM NEW.household_id)
    EXECUTE FUNCTION residents_last_met_self();
