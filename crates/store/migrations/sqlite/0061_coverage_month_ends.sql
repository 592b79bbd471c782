-- The cockpit's chart of households not met in the 90 days ending at each of the
-- last twelve month ends (issue 18). A closed window changes only when a visit of
-- its days is written, edited or removed, or a household moves or falls vacant;
-- recounting the twelve windows from the visits took 0.6 s for a district of
-- 100,000 people on every page. So each grid's count for a window that has ended
-- is kept once counted (`coverage_month_ends`), with the stamp of what it was
-- counted from: the sum of the grid's versions (`coverage_versions`) of the months
-- the window touches and of its households ('*'). The triggers below raise a
-- version with every write that can change a count; versions only grow, so a
-- count whose stamp is no longer the sum is stale and is counted again when next
-- read (store::visits::figures::trend). A visit of today raises this month's
-- version, which no closed window reads: today's rounds never make a count stale.
-- `wangge figures verify` recounts every count still current. Kept in step with
-- ../postgres/0061_coverage_month_ends.sql.
CREATE TABLE coverage_versions (
    path     TEXT NOT NULL,   -- a grid's path (the households' path)
    month    TEXT NOT NULL,   -- 'YYYY-MM' of a visit's day, or '*' for the households
    version  BIGINT NOT NULL,
    PRIMARY KEY (path, month)
);

CREATE TABLE coverage_month_ends (
    path       TEXT NOT NULL,     -- a grid's path: the occupied households now in it
    days       INTEGER NOT NULL,  -- the window's length
    ends_on    TEXT NOT NULL,     -- its last day (a month's last day)
    starts_on  TEXT NOT NULL,     -- its first day
    met        BIGINT NOT NULL,   -- households met in it (someone met, any channel)
    stamp      BIGINT NOT NULL,   -- the sum of the versions it was counted at
    PRIMARY KEY (path, days, ends_on)
);

CREATE TRIGGER coverage_versions_visit_insert AFTER INSERT ON visits
WHEN NEW.outcome = 'met'
BEGIN
    INSERT INTO coverage_versions (path, month, version)
    SELECT h.path, substr(NEW.visited_on, 1, 7), 1 FROM households h WHERE h.id = NEW.household_id
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
END;

CREATE TRIGGER coverage_versions_visit_update AFTER UPDATE OF household_id, outcome, visited_on ON visits
WHEN OLD.household_id IS NOT NEW.household_id OR OLD.outcome IS NOT NEW.outcome
    OR OLD.visited_on IS NOT NEW.visited_on
BEGIN
    INSERT INTO coverage_versions (path, month, version)
    SELECT h.path, substr(OLD.visited_on, 1, 7), 1 FROM households h WHERE h.id = OLD.household_id
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
    INSERT INTO coverage_versions (path, month, version)
    SELECT h.path, substr(NEW.visited_on, 1, 7), 1 FROM households h WHERE h.id = NEW.household_id
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
END;

CREATE TRIGGER coverage_versions_visit_delete AFTER DELETE ON visits
WHEN OLD.outcome = 'met'
BEGIN
    INSERT INTO coverage_versions (path, month, version)
    SELECT h.path, substr(OLD.visited_on, 1, 7), 1 FROM households h WHERE h.id = OLD.household_id
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
END;

CREATE TRIGGER coverage_versions_household AFTER UPDATE OF path, occupancy ON households
WHEN OLD.path IS NOT NEW.path OR OLD.occupancy IS NOT NEW.occupancy
BEGIN
    INSERT INTO coverage_versions (path, month, version) VALUES (OLD.path, '*', 1)
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
    INSERT INTO coverage_versions (path, month, version) VALUES (NEW.path, '*', 1)
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
END;
