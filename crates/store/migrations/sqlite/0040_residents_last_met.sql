-- The care tags' coverage at a street's scale (issue 18, docs/benchmarks.md): each
-- resident keeps the last day they were met (`last_met_on`) by the definition of
-- store::visits::figures (MET_PERSON): a visit with outcome 'met' to their current
-- household, at the door or by video (reaching everyone there), or naming them.
-- Kept by triggers on `visits` and on `residents` (a person added to a household
-- met before, or moving to another) in the same transaction as the write, as 0035
-- keeps the households' days. The 90 days up to today are then one range of
-- `residents_living`; only a person met after a past window's end asks the visits.
-- `wangge figures verify` recomputes the column (store::summaries). Kept in step
-- with ../postgres/0040_residents_last_met.sql.
ALTER TABLE residents ADD COLUMN last_met_on TEXT;

UPDATE residents SET last_met_on = (
    SELECT MAX(v.visited_on) FROM visits v
    WHERE v.household_id = residents.household_id AND v.outcome = 'met'
        AND (v.channel IN ('door', 'video') OR v.resident_id = residents.id))
WHERE household_id IN (SELECT id FROM households WHERE last_met_on IS NOT NULL);

-- 0038's index, widened by the day: the coverage by care tag reads only it.
DROP INDEX residents_living;
CREATE INDEX residents_living ON residents(path, household_id, id, status, last_met_on) WHERE status = 'active';

-- A new visit can only move the days forward.
CREATE TRIGGER residents_last_met_insert AFTER INSERT ON visits
WHEN NEW.outcome = 'met'
BEGIN
    UPDATE residents SET last_met_on = NEW.visited_on
    WHERE household_id = NEW.household_id
        AND (NEW.channel IN ('door', 'video') OR id = NEW.resident_id)
        AND (last_met_on IS NULL OR last_met_on < NEW.visited_on);
END;

-- An edited or removed visit: the household's people again from its visits.
CREATE TRIGGER residents_last_met_update AFTER UPDATE OF household_id, resident_id, channel, outcome, visited_on ON visits
WHEN OLD.household_id IS NOT NEW.household_id OR OLD.resident_id IS NOT NEW.resident_id
    OR OLD.channel IS NOT NEW.channel OR OLD.outcome IS NOT NEW.outcome OR OLD.visited_on IS NOT NEW.visited_on
BEGIN
    UPDATE residents SET last_met_on = (
        SELECT MAX(v.visited_on) FROM visits v
        WHERE v.household_id = residents.household_id AND v.outcome = 'met'
            AND (v.channel IN ('door', 'video') OR v.resident_id = residents.id))
    WHERE household_id IN (OLD.household_id, NEW.household_id);
END;

CREATE TRIGGER residents_last_met_delete AFTER DELETE ON visits
WHEN OLD.outcome = 'met'
BEGIN
    UPDATE residents SET last_met_on = (
        SELECT MAX(v.visited_on) FROM visits v
        WHERE v.household_id = residents.household_id AND v.outcome = 'met'
            AND (v.channel IN ('door', 'video') OR v.resident_id = residents.id))
    WHERE household_id = OLD.household_id;
END;

-- A person entered into, or moved to, a household: its door visits reach them.
-- Only households someone was met in need a look at their visits.
CREATE TRIGGER residents_last_met_added AFTER INSERT ON residents
WHEN NEW.household_id IS NOT NULL
BEGIN
    UPDATE residents SET last_met_on = (
        SELECT MAX(v.visited_on) FROM visits v
        WHERE v.household_id = NEW.household_id AND v.outcome = 'met'
            AND (v.channel IN ('door', 'video') OR v.resident_id = NEW.id))
    WHERE id = NEW.id
        AND EXISTS (SELECT 1 FROM households h WHERE h.id = NEW.household_id AND h.last_met_on IS NOT NULL);
END;

CREATE TRIGGER residents_last_met_moved AFTER UPDATE OF household_id ON residents
WHEN OLD.household_id IS NOT NEW.household_id
BEGIN
    UPDATE residents SET last_met_on = (
        SELECT MAX(v.visited_on) FROM visits v
        WHERE v.household_id = NEW.household_id AND v.outcome = 'met'
            AND (v.channel IN ('door', 'video') OR v.resident_id = NEW.id))
    WHERE id = NEW.id;
END;
