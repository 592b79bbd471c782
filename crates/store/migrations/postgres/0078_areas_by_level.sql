-- The grids under an area counted from an index alone (the cockpit's team and
-- Party figures, `stats::counts_under`, `party::cards`): by the unique index of
-- paths each of a city's 20,000 areas was read from the table for its level, 8–11
-- ms a call, 225 calls in a run of the city's pages (docs/benchmarks.md). By level,
-- then path, a city's grids are one range of entries.
CREATE INDEX areas_level ON areas(level, path);
