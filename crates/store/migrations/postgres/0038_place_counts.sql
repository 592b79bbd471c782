-- The cockpit at a city's scale (issue 18).
-- Kept in step with ../sqlite/0038_place_counts.sql.

-- Buildings, households and organisations by place: counts that change only when
-- rows come, go or move, kept like resident_counts (0028) so that a street's or a
-- city's totals read a few summary rows instead of a range of millions of rows.
-- `kind` is the table's name.
CREATE TABLE place_counts (
    path  TEXT COLLATE "C" NOT NULL,
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

-- One function for the three tables: TG_TABLE_NAME is the kind.
CREATE FUNCTION place_counts_upkeep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE place_counts SET n = n - 1 WHERE path = OLD.path AND kind = TG_TABLE_NAME;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO place_counts (path, kind, n) VALUES (NEW.path, TG_TABLE_NAME, 1)
        ON CONFLICT (path, kind) DO UPDATE SET n = place_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER place_counts_insert AFTER INSERT ON buildings
    FOR EACH ROW EXECUTE FUNCTION place_counts_upkeep();
CREATE TRIGGER place_counts_update AFTER UPDATE OF path ON buildings
    FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path) EXECUTE FUNCTION place_counts_upkeep();
CREATE TRIGGER place_counts_delete AFTER DELETE ON buildings
    FOR EACH ROW EXECUTE FUNCTION place_counts_upkeep();

CREATE TRIGGER place_counts_insert AFTER INSERT ON households
    FOR EACH ROW EXECUTE FUNCTION place_counts_upkeep();
CREATE TRIGGER place_counts_update AFTER UPDATE OF path ON households
    FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path) EXECUTE FUNCTION place_counts_upkeep();
CREATE TRIGGER place_counts_delete AFTER DELETE ON households
    FOR EACH ROW EXECUTE FUNCTION place_counts_upkeep();

CREATE TRIGGER place_counts_insert AFTER INSERT ON organisations
    FOR EACH ROW EXECUTE FUNCTION place_counts_upkeep();
CREATE TRIGGER place_counts_update AFTER UPDATE OF path ON organisations
    FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path) EXECUTE FUNCTION place_counts_upkeep();
CREATE TRIGGER place_counts_delete AFTER DELETE ON organisations
    FOR EACH ROW EXECUTE FUNCTION place_counts_upkeep();

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
