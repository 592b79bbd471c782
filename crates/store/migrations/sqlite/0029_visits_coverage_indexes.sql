-- Coverage at the scale of a street (issue 19, docs/benchmarks.md): coverage is
-- counted from the households under a path, each asking whether a visit met someone
-- in the window. Both lookups are answered from an index alone: the households'
-- (path, occupancy, id) and the visits' (household_id, visited_on, outcome,
-- channel), which also serves everything the narrower index it replaces served.
-- Kept in step with the other engine's 0029 (the migration-trees test checks it).
DROP INDEX visits_household_on;
CREATE INDEX visits_household_met ON visits(household_id, visited_on, outcome, channel);
CREATE INDEX households_path_occupancy ON households(path, occupancy, id);
