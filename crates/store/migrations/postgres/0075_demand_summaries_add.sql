-- One statement counts items into the three demand summaries, where 0074 wrote it
-- twice: the statement trigger's path for large statements (a history load) read
-- the transition table `inserted`, and `demand_summaries_fold()` the rows it took
-- out of the queue. Both now hand their items, as rows of the queue's type, to
-- `demand_summaries_add`, so the formulas of `demand_counts`, `demand_days` and
-- `demand_rate_days` for new items live once (besides 0074's `*_live` views, which
-- count the queue as these tables do: `figures_are_the_same_with_the_demand_queue_folded_or_not`
-- checks the two against each other, `wangge figures verify` the tables against a
-- recount from the items). Nothing else changes: the queue, the views and the row
-- triggers of updates and deletes are 0074's.
CREATE FUNCTION demand_summaries_add(items demand_summary_queue[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH i AS MATERIALIZED (
        SELECT * FROM unnest(items)
    ), counts AS (
        INSERT INTO demand_counts (path, category, status, day, n)
        SELECT path, category, status, (created_at + 28800000) / 86400000, COUNT(*) FROM i
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (path, category, status, day) DO UPDATE SET n = demand_counts.n + excluded.n
    ), up AS MATERIALIZED (
        SELECT a.ancestor, i.category, i.status, i.created_at, i.closed_at, i.responded_at, i.accept_due,
               i.rating, i.rating_source, i.rating_due
        FROM i JOIN area_ancestors a ON a.path = i.path
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
END
$$;

-- 0074's trigger: a group commit's items (at most 64) queued, a larger statement's
-- counted at once.
CREATE OR REPLACE FUNCTION demand_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT COUNT(*) FROM inserted) <= 64 THEN
        INSERT INTO demand_summary_queue (path, category, status, created_at, closed_at, responded_at, accept_due,
                                          rating, rating_source, rating_due)
        SELECT path, category, status, created_at, closed_at, responded_at, accept_due, rating, rating_source,
               rating_due
        FROM inserted;
    ELSE
        PERFORM demand_summaries_add(ARRAY(
            SELECT ROW(path, category, status, created_at, closed_at, responded_at, accept_due, rating,
                       rating_source, rating_due)::demand_summary_queue
            FROM inserted));
    END IF;
    RETURN NULL;
END
$$;

-- 0074's fold: one at a time (a second waits for the advisory lock, then finds the
-- rows gone); the rows taken out of the queue are counted in.
CREATE OR REPLACE FUNCTION demand_summaries_fold() RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    items demand_summary_queue[];
BEGIN
    PERFORM pg_advisory_xact_lock(7406180);
    WITH gone AS (
        DELETE FROM demand_summary_queue q RETURNING q
    )
    SELECT array_agg(gone.q) INTO items FROM gone;
    IF items IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM demand_summaries_add(items);
    RETURN cardinality(items);
END
$$;
