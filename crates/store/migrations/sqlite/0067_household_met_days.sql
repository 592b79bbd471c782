-- Occupied households by the last day someone was met there, at every level of
-- the hierarchy (issue 18): the visits' coverage of the last 90 days — the cockpit's
-- "not visited" of every area, the visits page, the coverage API — is the few
-- hundred rows of the area's own path whose day lies in the window, instead of a
-- pass over every household under it (a district of 34,000 households: 10–50 ms on
-- PostgreSQL a call, four calls a cockpit page; a city's, seconds).
--
-- `channel` 'any': the household's `last_met_on` (0035), any channel; 'door': its
-- `last_door_on`. `met_on` '' is never met. Each occupied household is counted once
-- per channel, so the area's households are the sum of its 'any' rows. Only a
-- window that ended before some household's last day (a past period's report, the
-- trend's months) asks the visits (store::visits::coverage). Kept like 0062's
-- roll-ups (`area_ancestors`, triggers named `area_rollup_*`, suspended and counted
-- once by bulk loads: summaries::ROLLUPS_RECOUNT); `wangge figures verify` checks
-- it. Kept in step with ../postgres/0067_household_met_days.sql.
CREATE TABLE household_met_days (
    path     TEXT NOT NULL,
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

CREATE TRIGGER area_rollup_households_insert AFTER INSERT ON households
WHEN NEW.occupancy <> 'vacant'
BEGIN
    INSERT INTO household_met_days (path, channel, met_on, n)
    SELECT a.ancestor, c.channel, CASE c.channel WHEN 'any' THEN COALESCE(NEW.last_met_on, '') ELSE COALESCE(NEW.last_door_on, '') END, 1
    FROM area_ancestors a CROSS JOIN (SELECT 'any' AS channel UNION ALL SELECT 'door') c
    WHERE a.path = NEW.path
    ON CONFLICT (path, channel, met_on) DO UPDATE SET n = n + 1;
END;

-- Each channel's rows apart, by their primary key: one UPDATE matching either
-- channel's day with OR read the whole table for every household (20,000 visits:
-- 57 s instead of 2).
CREATE TRIGGER area_rollup_households_update AFTER UPDATE OF path, occupancy, last_met_on, last_door_on ON households
WHEN (OLD.path IS NOT NEW.path OR OLD.occupancy IS NOT NEW.occupancy OR OLD.last_met_on IS NOT NEW.last_met_on
        OR OLD.last_door_on IS NOT NEW.last_door_on)
    AND (OLD.occupancy <> 'vacant' OR NEW.occupancy <> 'vacant')
BEGIN
    UPDATE household_met_days SET n = n - 1
    WHERE OLD.occupancy <> 'vacant'
        AND (OLD.path IS NOT NEW.path OR OLD.occupancy IS NOT NEW.occupancy OR OLD.last_met_on IS NOT NEW.last_met_on)
        AND channel = 'any' AND met_on = COALESCE(OLD.last_met_on, '')
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
    UPDATE household_met_days SET n = n - 1
    WHERE OLD.occupancy <> 'vacant'
        AND (OLD.path IS NOT NEW.path OR OLD.occupancy IS NOT NEW.occupancy OR OLD.last_door_on IS NOT NEW.last_door_on)
        AND channel = 'door' AND met_on = COALESCE(OLD.last_door_on, '')
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
    INSERT INTO household_met_days (path, channel, met_on, n)
    SELECT a.ancestor, 'any', COALESCE(NEW.last_met_on, ''), 1 FROM area_ancestors a
    WHERE a.path = NEW.path AND NEW.occupancy <> 'vacant'
        AND (OLD.path IS NOT NEW.path OR OLD.occupancy IS NOT NEW.occupancy OR OLD.last_met_on IS NOT NEW.last_met_on)
    ON CONFLICT (path, channel, met_on) DO UPDATE SET n = n + 1;
    INSERT INTO household_met_days (path, channel, met_on, n)
    SELECT a.ancestor, 'door', COALESCE(NEW.last_door_on, ''), 1 FROM area_ancestors a
    WHERE a.path = NEW.path AND NEW.occupancy <> 'vacant'
        AND (OLD.path IS NOT NEW.path OR OLD.occupancy IS NOT NEW.occupancy OR OLD.last_door_on IS NOT NEW.last_door_on)
    ON CONFLICT (path, channel, met_on) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER area_rollup_households_delete AFTER DELETE ON households
WHEN OLD.occupancy <> 'vacant'
BEGIN
    UPDATE household_met_days SET n = n - 1
    WHERE channel = 'any' AND met_on = COALESCE(OLD.last_met_on, '')
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
    UPDATE household_met_days SET n = n - 1
    WHERE channel = 'door' AND met_on = COALESCE(OLD.last_door_on, '')
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
END;
