-- PostgreSQL sums a statement's new items into the demand summaries once per
-- statement and drops `n` from `demand_counts_day`
-- (../postgres/0073_demand_summaries_per_statement.sql). SQLite has no statement
-- triggers with the statement's rows, its updates rewrite the row whatever the
-- indexes hold, and its upkeep costs intake under 10 % (docs/benchmarks.md):
-- nothing changes here. The file keeps the two trees' numbers in step.
SELECT 1;
