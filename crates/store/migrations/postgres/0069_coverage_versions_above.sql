-- The coverage trend's versions raised at every level above a grid too (issue 18,
-- a city of 7,000,000). See ../sqlite/0069_coverage_versions_above.sql for why;
-- here 0061's one function raising a grid's version raises the areas above it as
-- well (in key order, the order concurrent writers meet them in).
CREATE OR REPLACE FUNCTION coverage_versions_raise(grid TEXT, month TEXT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO coverage_versions (path, month, version) VALUES (grid, month, 1)
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
    INSERT INTO coverage_versions (path, month, version)
    SELECT ancestor, month, 1 FROM area_ancestors WHERE path = grid AND ancestor <> path ORDER BY ancestor
    ON CONFLICT (path, month) DO UPDATE SET version = coverage_versions.version + 1;
$$;
