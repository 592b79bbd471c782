-- Items entered are summed into the three summaries of demands once per statement
-- (issue 18: summary upkeep's cost on intake). Intake writes a group commit's items
-- in one INSERT; the row triggers of 0028, 0063 and 0064 ran three functions and
-- three upserts per item, each upsert of `demand_rate_days` and `demand_days`
-- writing the item's six ancestors, so four items of one community wrote the
-- community's, street's, district's, city's and root's rows of the day four times
-- over. One statement trigger now sums the statement's items per summary row first
-- and upserts each row once, the three tables in one statement (data-modifying
-- WITH parts), rows in key order as the row triggers took them. Updates and
-- deletes keep their row triggers (rare, and each touches one item).
--
-- `demand_counts_day` loses `n` (0060 added it so that SQLite reads a range of days
-- without the table): on PostgreSQL an indexed `n` made every `n = n + 1` a new row
-- version with entries in both indexes, on the rows every item of the day writes,
-- where an update of columns no index holds stays on its page (heap-only). Its one
-- reader, the ledger's total over whole days up to a month for the root, a city or
-- a district (`summaries::day_column`), reads `n` from the rows of those days.
-- Measured with pgbench (docs/benchmarks.md, "Third pass"): the summaries' cost per
-- group of four items 1.23 → 0.62 ms of backend CPU. SQLite keeps its triggers and
-- index (../sqlite/0073_demand_summaries_per_statement.sql).
DROP TRIGGER demand_counts_insert ON demands;
DROP TRIGGER demand_counts_rollup_insert ON demands;
DROP TRIGGER demand_counts_rates_insert ON demands;

CREATE FUNCTION demand_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH counts AS (
        INSERT INTO demand_counts (path, category, status, day, n)
        SELECT path, category, status, (created_at + 28800000) / 86400000, COUNT(*) FROM inserted
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (path, category, status, day) DO UPDATE SET n = demand_counts.n + excluded.n
    ), up AS MATERIALIZED (
        SELECT a.ancestor, i.category, i.status, i.created_at, i.closed_at, i.responded_at, i.accept_due,
               i.rating, i.rating_source, i.rating_due
        FROM inserted i JOIN area_ancestors a ON a.path = i.path
    ), days AS (
        INSERT INTO demand_days (path, day, category, created, closed)
        SELECT ancestor, day, category, SUM(created), SUM(closed) FROM (
            SELECT ancestor, (created_at + 28800000) / 86400000 AS day, category, 1 AS created, 0 AS closed FROM up
            UNION ALL
            SELECT ancestor, (closed_at + 28800000) / 86400000, category, 0, 1 FROM up WHERE closed_at IS NOT NULL
        ) e GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (path, day, category) DO UPDATE
            SET created = demand_days.created + excluded.created, closed = demand_days.closed + excluded.closed
    )
    INSERT INTO demand_rate_days (path, day, items, responded, to_resolve, resolved, rated_staff, rated_other, satisfied, satisfied_other, closed_unrated)
    SELECT ancestor, (created_at + 28800000) / 86400000,
           COUNT(*),
           SUM(CASE WHEN responded_at IS NOT NULL AND responded_at <= accept_due THEN 1 ELSE 0 END),
           SUM(CASE WHEN status <> 'rejected' THEN 1 ELSE 0 END),
           SUM(CASE WHEN status IN ('closed', 'rated') THEN 1 ELSE 0 END),
           SUM(CASE WHEN rating IS NOT NULL AND rating_source = 'staff' THEN 1 ELSE 0 END),
           SUM(CASE WHEN rating IS NOT NULL AND (rating_source IS NULL OR rating_source <> 'staff') THEN 1 ELSE 0 END),
           SUM(CASE WHEN rating >= 4 THEN 1 ELSE 0 END),
           SUM(CASE WHEN rating >= 4 AND (rating_source IS NULL OR rating_source <> 'staff') THEN 1 ELSE 0 END),
           SUM(CASE WHEN status = 'closed' AND rating IS NULL AND COALESCE(rating_due, closed_at) IS NOT NULL THEN 1 ELSE 0 END)
    FROM up WHERE status <> 'merged' GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (path, day) DO UPDATE SET items = demand_rate_days.items + excluded.items, responded = demand_rate_days.responded + excluded.responded, to_resolve = demand_rate_days.to_resolve + excluded.to_resolve, resolved = demand_rate_days.resolved + excluded.resolved, rated_staff = demand_rate_days.rated_staff + excluded.rated_staff, rated_other = demand_rate_days.rated_other + excluded.rated_other, satisfied = demand_rate_days.satisfied + excluded.satisfied, satisfied_other = demand_rate_days.satisfied_other + excluded.satisfied_other, closed_unrated = demand_rate_days.closed_unrated + excluded.closed_unrated;
    RETURN NULL;
END
$$;

CREATE TRIGGER demand_counts_inserted AFTER INSERT ON demands
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION demand_counts_inserted();

DROP INDEX demand_counts_day;
CREATE INDEX demand_counts_day ON demand_counts(day, path);
