-- The cockpit at a city's scale (issue 18).
-- Kept in step with ../postgres/0038_place_counts.sql.

-- Buildings, households and organisations by place: counts that change only when
-- rows come, go or move, kept like resident_counts (0028) so that a street's or a
-- city's totals read a few summary rows instead of a range of millions of rows.
-- `kind` is the table's name.
CREATE TABLE place_counts (
    path  TEXT NOT NULL,
    kind  TEXT NOT NULL,
    n     BIGINT NOT NULL,
    PRIMARY KEY (path, kind)
);

INSERT INTO place_counts (path, kind, n)
SELECT path, 'buildings', COUNT(*) FROM buildings GROUP BY path;
INSERT INTO place_counts (path, kind, n)
SELECT path, 'households', COUNT(*) FROM households GROUP BY path;
INSERT INTO place_counts (path, kind, n)
SELECT path, 'organisations', COUNT(*) FROM organisations GROUP BY path;

CREATE TRIGGER place_counts_buildings_insert AFTER INSERT ON buildings
BEGIN
    INSERT INTO place_counts (path, kind, n) VALUES (NEW.path, 'buildings', 1)
    ON CONFLICT (path, kind) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER place_counts_buildings_update AFTER UPDATE OF path ON buildings
WHEN OLD.path IS NOT NEW.path
BEGIN
    UPDATE place_counts SET n = n - 1 WHERE path = OLD.path AND kind = 'buildings';
    INSERT INTO place_counts (path, kind, n) VALUES (NEW.path, 'buildings', 1)
    ON CONFLICT (path, kind) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER place_counts_buildings_delete AFTER DELETE ON buildings
BEGIN
    UPDATE place_counts SET n = n - 1 WHERE path = OLD.path AND kind = 'buildings';
END;

CREATE TRIGGER place_counts_households_insert AFTER INSERT ON households
BEGIN
    INSERT INTO place_counts (path, kind, n) VALUES (NEW.path, 'households', 1)
    ON CONFLICT (path, kind) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER place_counts_households_update AFTER UPDATE OF path ON households
WHEN OLD.path IS NOT NEW.path
BEGIN
    UPDATE place_counts SET n = n - 1 WHERE path = OLD.path AND kind = 'households';
    INSERT INTO place_counts (path, kind, n) VALUES (NEW.path, 'households', 1)
    ON CONFLICT (path, kind) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER place_counts_households_delete AFTER DELETE ON households
BEGIN
    UPDATE place_counts SET n = n - 1 WHERE path = OLD.path AND kind = 'households';
END;

CREATE TRIGGER place_counts_organisations_insert AFTER INSERT ON organisations
BEGIN
    INSERT INTO place_counts (path, kind, n) VALUES (NEW.path, 'organisations', 1)
    ON CONFLICT (path, kind) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER place_counts_organisations_update AFTER UPDATE OF path ON organisations
WHEN OLD.path IS NOT NEW.path
BEGIN
    UPDATE place_counts SET n = n - 1 WHERE path = OLD.path AND kind = 'organisations';
    INSERT INTO place_counts (path, kind, n) VALUES (NEW.path, 'organisations', 1)
    ON CONFLICT (path, kind) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER place_counts_organisations_delete AFTER DELETE ON organisations
BEGIN
    UPDATE place_counts SET n = n - 1 WHERE path = OLD.path AND kind = 'organisations';
END;

-- A past period's report reads each item's state at the period's end from its
-- timeline only for the items whose timeline went on after it: those are found
-- by this index (steps after a moment), every other item's state is its current one.
CREATE INDEX demand_events_at ON demand_events(at, demand_id);

-- Figures that change with the clock, read from covering indexes so that a
-- street's figures read index entries, not rows:
-- the items closed per day of the trends (path, then the day closed);
CREATE INDEX demands_closed ON demands(path, closed_at);
-- age bands and the population pyramid (current residents' birth dates and sex);
CREATE INDEX residents_ages ON residents(path, birth_date, gender, status) WHERE status = 'active';
-- the care tags' coverage (current residents' households, and their ids for the tags);
CREATE INDEX residents_living ON residents(path, household_id, id, status) WHERE status = 'active';
-- the coverage trend (households met per month), replacing visits(path, visited_on).
DROP INDEX visits_path_on;
CREATE INDEX visits_path_met ON visits(path, visited_on, outcome, household_id);
