-- The coverage trend's versions raised at every level above a grid too (issue 18,
-- a city of 7,000,000). 0061 keeps each grid's count of a closed window with the
-- stamp of the grid's versions; a city's trend then read 17,241 grids' versions and
-- 190,000 kept counts on every view (1 s). With every area above a household's
-- place raising its own versions as well, an area's count of a window is kept
-- once counted under the area's own path, stamped with the area's own versions:
-- any write below it raises one of them, so the count is trusted until then
-- (store::visits::figures::closed_windows). The grid's own rows are raised as
-- before (0061's triggers, unchanged); these add the areas above it
-- (`area_ancestors` of 0062 without the place itself). Kept in step with
-- ../postgres/0069_coverage_versions_above.sql.
CREATE TRIGGER coverage_versions_above_visit_insert AFTER INSERT ON visits
WHEN NEW.outcome = 'met'
BEGIN
    INSERT INTO coverage_versions (path, month, version)
    SELECT a.ancestor, substr(NEW.visited_on, 1, 7), 1
    FROM households h JOIN area_ancestors a ON a.path = h.path
    WHERE h.id = NEW.household_id AND a.ancestor <> a.path
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
END;

CREATE TRIGGER coverage_versions_above_visit_update AFTER UPDATE OF household_id, outcome, visited_on ON visits
WHEN OLD.household_id IS NOT NEW.household_id OR OLD.outcome IS NOT NEW.outcome
    OR OLD.visited_on IS NOT NEW.visited_on
BEGIN
    INSERT INTO coverage_versions (path, month, version)
    SELECT a.ancestor, substr(OLD.visited_on, 1, 7), 1
    FROM households h JOIN area_ancestors a ON a.path = h.path
    WHERE h.id = OLD.household_id AND a.ancestor <> a.path
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
    INSERT INTO coverage_versions (path, month, version)
    SELECT a.ancestor, substr(NEW.visited_on, 1, 7), 1
    FROM households h JOIN area_ancestors a ON a.path = h.path
    WHERE h.id = NEW.household_id AND a.ancestor <> a.path
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
END;

CREATE TRIGGER coverage_versions_above_visit_delete AFTER DELETE ON visits
WHEN OLD.outcome = 'met'
BEGIN
    INSERT INTO coverage_versions (path, month, version)
    SELECT a.ancestor, substr(OLD.visited_on, 1, 7), 1
    FROM households h JOIN area_ancestors a ON a.path = h.path
    WHERE h.id = OLD.household_id AND a.ancestor <> a.path
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
END;

CREATE TRIGGER coverage_versions_above_household AFTER UPDATE OF path, occupancy ON households
WHEN OLD.path IS NOT NEW.path OR OLD.occupancy IS NOT NEW.occupancy
BEGIN
    INSERT INTO coverage_versions (path, month, version)
    SELECT ancestor, '*', 1 FROM area_ancestors WHERE path = OLD.path AND ancestor <> path
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
    INSERT INTO coverage_versions (path, month, version)
    SELECT ancestor, '*', 1 FROM area_ancestors WHERE path = NEW.path AND ancestor <> path
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
END;
