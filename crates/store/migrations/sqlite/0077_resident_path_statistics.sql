-- PostgreSQL gets a finer histogram of the residents' paths
-- (../postgres/0077_resident_path_statistics.sql). SQLite is told which index the
-- age bands read (`INDEXED BY` in `cockpit::registry::band_counts_by`): nothing
-- changes here. The file keeps the two trees' numbers in step.
SELECT 1;
