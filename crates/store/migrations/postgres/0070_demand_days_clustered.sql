-- SQLite stores `demand_days` in its primary key's order from 0070 on (see
-- ../sqlite/0070_demand_days_clustered.sql). PostgreSQL reads an area's rows through
-- its primary key index from a heap kept in shared buffers (a district's year of
-- the cockpit in 52 / 62 ms, docs/benchmarks.md), and a second index holding the
-- counts would end the heap-only updates every item written makes to these rows:
-- nothing changes here. The file keeps the two trees' numbers in step.
SELECT 1;
