-- Coverage at the scale of a street of 100,000 people (issue 19, docs/benchmarks.md):
-- each household keeps the last day someone was met there (`last_met_on`: a visit
-- with outcome 'met', any channel) and the last day someone was met at the door
-- (`last_door_on`), kept by triggers on `visits` in the same transaction as the
-- visit, whatever writes it (the form, the API, an edit, a paper entry of an older
-- day, the demo, `generate`, SQL typed by hand). The 90 days up to today are then
-- one range scan of `households_path_met` (store::visits::coverage); a window
-- ending in the past still asks the visits of the households met after its end.
-- `wangge figures verify` recomputes both columns from the visits
-- (store::summaries). Kept in step with ../sqlite/0035_households_last_met.sql:
-- the columns and the index are the same; the triggers differ only in how each
-- engine writes a trigger (here one PL/pgSQL function).
ALTER TABLE households ADD COLUMN last_met_on TEXT;
ALTER TABLE households ADD COLUMN last_door_on TEXT;

UPDATE households SET
    last_met_on = (SELECT MAX(v.visited_on) FROM visits v WHERE v.household_id = households.id AND v.outcome = 'met'),
    last_door_on = (SELECT MAX(v.visited_on) FROM visits v
                    WHERE v.household_id = households.id AND v.outcome = 'met' AND v.channel = 'door')
WHERE EXISTS (SELECT 1 FROM visits v WHERE v.household_id = households.id AND v.outcome = 'met');

-- Replaces 0029's (path, occupancy, id), of which it is a widening: everything
-- that one served, this one serves.
DROP INDEX households_path_occupancy;
CREATE INDEX households_path_met ON households(path, occupancy, last_met_on, last_door_on, id);

-- A new visit can only move the days forward (a paper entry of an older day leaves
-- them as they are); an edit may move a visit's day back or change its outcome or
-- channel, and a removed visit takes its day with it: then the days are recomputed
-- from the household's visits (a few, from visits_household_met).
CREATE FUNCTION households_last_met_upkeep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.outcome = 'met' THEN
            UPDATE households SET last_met_on = NEW.visited_on
            WHERE id = NEW.household_id AND (last_met_on IS NULL OR last_met_on < NEW.visited_on);
            IF NEW.channel = 'door' THEN
                UPDATE households SET last_door_on = NEW.visited_on
                WHERE id = NEW.household_id AND (last_door_on IS NULL OR last_door_on < NEW.visited_on);
            END IF;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE households h SET
            last_met_on = (SELECT MAX(v.visited_on) FROM visits v WHERE v.household_id = h.id AND v.outcome = 'met'),
            last_door_on = (SELECT MAX(v.visited_on) FROM visits v
                            WHERE v.household_id = h.id AND v.outcome = 'met' AND v.channel = 'door')
        WHERE h.id IN (OLD.household_id, NEW.household_id);
    ELSIF OLD.outcome = 'met' THEN
        UPDATE households h SET
            last_met_on = (SELECT MAX(v.visited_on) FROM visits v WHERE v.household_id = h.id AND v.outcome = 'met'),
            last_door_on = (SELECT MAX(v.visited_on) FROM visits v
                            WHERE v.household_id = h.id AND v.outcome = 'met' AND v.channel = 'door')
        WHERE h.id = OLD.household_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER households_last_met_insert AFTER INSERT ON visits
    FOR EACH ROW EXECUTE FUNCTION households_last_met_upkeep();
CREATE TRIGGER households_last_met_update AFTER UPDATE OF household_id, channel, outcome, visited_on ON visits
    FOR EACH ROW
    WHEN (OLD.household_id IS DISTINCT FROM NEW.household_id OR OLD.channel IS DISTINCT FROM NEW.channel
        OR OLD.outcome IS DISTINCT FROM NEW.outcome OR OLD.visited_on IS DISTINCT FROM NEW.visited_on)
    EXECUTE FUNCTION households_last_met_upkeep();
CREATE TRIGGER households_last_met_delete AFTER DELETE ON visits
    FOR EACH ROW EXECUTE FUNCTION households_last_met_upkeep();
