-- Occupied households by the last day someone was met there, at every level of
-- the hierarchy (issue 18): the visits' coverage of the last 90 days is the few
-- hundred rows of the area's own path whose day lies in the window, instead of a
-- pass over every household under it. See ../sqlite/0067_household_met_days.sql
-- for the whole story; the table and backfill are the same, the triggers differ
-- only in how each engine writes a trigger.
CREATE TABLE household_met_days (
    path     TEXT COLLATE "C" NOT NULL,
    channel  TEXT NOT NULL,
    met_on   TEXT NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (path, channel, met_on)
);

INSERT INTO household_met_days (path, channel, met_on, n)
SELECT a.ancestor, c.channel, CASE c.channel WHEN 'any' THEN COALESCE(h.last_met_on, '') ELSE COALESCE(h.last_door_on, '') END,
       COUNT(*)
FROM households h JOIN area_ancestors a ON a.path = h.path
     CROSS JOIN (SELECT 'any' AS channel UNION ALL SELECT 'door') c
WHERE h.occupancy <> 'vacant'
GROUP BY a.ancestor, c.channel, CASE c.channel WHEN 'any' THEN COALESCE(h.last_met_on, '') ELSE COALESCE(h.last_door_on, '') END;

-- A household added, moved, vacated or occupied, met again, or removed. Each
-- channel's rows apart, by their primary key, and only when that channel's day,
-- the place or the occupancy changed: a visit met by telephone moves no door row.
-- (One UPDATE joining a subquery of both channels' rows read the whole table for
-- each household once the function's plan was cached.)
CREATE FUNCTION area_rollup_households() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moved boolean := TG_OP <> 'UPDATE' OR OLD.path IS DISTINCT FROM NEW.path
        OR OLD.occupancy IS DISTINCT FROM NEW.occupancy;
    any_changed boolean := moved OR OLD.last_met_on IS DISTINCT FROM NEW.last_met_on;
    door_changed boolean := moved OR OLD.last_door_on IS DISTINCT FROM NEW.last_door_on;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.occupancy <> 'vacant' THEN
        IF any_changed THEN
            UPDATE household_met_days SET n = n - 1
            WHERE path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path)
                AND channel = 'any' AND met_on = COALESCE(OLD.last_met_on, '');
        END IF;
        IF door_changed THEN
            UPDATE household_met_days SET n = n - 1
            WHERE path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path)
                AND channel = 'door' AND met_on = COALESCE(OLD.last_door_on, '');
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.occupancy <> 'vacant' THEN
        IF any_changed THEN
            INSERT INTO household_met_days (path, channel, met_on, n)
            SELECT ancestor, 'any', COALESCE(NEW.last_met_on, ''), 1 FROM area_ancestors
            WHERE path = NEW.path ORDER BY ancestor
            ON CONFLICT (path, channel, met_on) DO UPDATE SET n = household_met_days.n + 1;
        END IF;
        IF door_changed THEN
            INSERT INTO household_met_days (path, channel, met_on, n)
            SELECT ancestor, 'door', COALESCE(NEW.last_door_on, ''), 1 FROM area_ancestors
            WHERE path = NEW.path ORDER BY ancestor
            ON CONFLICT (path, channel, met_on) DO UPDATE SET n = household_met_days.n + 1;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER area_rollup_households_insert AFTER INSERT ON households
    FOR EACH ROW WHEN (NEW.occupancy <> 'vacant') EXECUTE FUNCTION area_rollup_households();
CREATE TRIGGER area_rollup_households_update AFTER UPDATE OF path, occupancy, last_met_on, last_door_on ON households
    FOR EACH ROW
    WHEN ((OLD.path IS DISTINCT FROM NEW.path OR OLD.occupancy IS DISTINCT FROM NEW.occupancy
            OR OLD.last_met_on IS DISTINCT FROM NEW.last_met_on OR OLD.last_door_on IS DISTINCT FROM NEW.last_door_on)
        AND (OLD.occupancy <> 'vacant' OR NEW.occupancy <> 'vacant'))
    EXECUTE FUNCTION area_rollup_households();
CREATE TRIGGER area_rollup_households_delete AFTER DELETE ON households
    FOR EACH ROW WHEN (OLD.occupancy <> 'vacant') EXECUTE FUNCTION area_rollup_households();
