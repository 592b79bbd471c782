-- The cockpit's chart of households not met in the 90 days ending at each of the
-- last twelve month ends (issue 18): each grid's count of a closed window kept once
-- counted, with the stamp of the versions it was counted at. See
-- ../sqlite/0061_coverage_month_ends.sql for why and how; the tables are the same,
-- the triggers differ only in how each engine writes a trigger.
CREATE TABLE coverage_versions (
    path     TEXT NOT NULL,
    month    TEXT NOT NULL,
    version  BIGINT NOT NULL,
    PRIMARY KEY (path, month)
);

CREATE TABLE coverage_month_ends (
    path       TEXT NOT NULL,
    days       INTEGER NOT NULL,
    ends_on    TEXT NOT NULL,
    starts_on  TEXT NOT NULL,
    met        BIGINT NOT NULL,
    stamp      BIGINT NOT NULL,
    PRIMARY KEY (path, days, ends_on)
);

CREATE FUNCTION coverage_versions_raise(grid TEXT, month TEXT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO coverage_versions (path, month, version) VALUES (grid, month, 1)
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
$$;

CREATE FUNCTION coverage_versions_upkeep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'households' THEN
        PERFORM coverage_versions_raise(OLD.path, '*');
        PERFORM coverage_versions_raise(NEW.path, '*');
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM coverage_versions_raise(h.path, substr(OLD.visited_on, 1, 7))
        FROM households h WHERE h.id = OLD.household_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM coverage_versions_raise(h.path, substr(NEW.visited_on, 1, 7))
        FROM households h WHERE h.id = NEW.household_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER coverage_versions_visit_insert AFTER INSERT ON visits
    FOR EACH ROW WHEN (NEW.outcome = 'met') EXECUTE FUNCTION coverage_versions_upkeep();
CREATE TRIGGER coverage_versions_visit_update AFTER UPDATE OF household_id, outcome, visited_on ON visits
    FOR EACH ROW
    WHEN (OLD.household_id IS DISTINCT FROM NEW.household_id OR OLD.outcome IS DISTINCT FROM NEW.outcome
        OR OLD.visited_on IS DISTINCT FROM NEW.visited_on)
    EXECUTE FUNCTION coverage_versions_upkeep();
CREATE TRIGGER coverage_versions_visit_delete AFTER DELETE ON visits
    FOR EACH ROW WHEN (OLD.outcome = 'met') EXECUTE FUNCTION coverage_versions_upkeep();
CREATE TRIGGER coverage_versions_household AFTER UPDATE OF path, occupancy ON households
    FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path OR OLD.occupancy IS DISTINCT FROM NEW.occupancy)
    EXECUTE FUNCTION coverage_versions_upkeep();
