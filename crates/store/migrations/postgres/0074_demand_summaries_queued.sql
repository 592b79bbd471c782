-- Items entered are queued for the three summaries of demands, and the queue is
-- part of every figure (issue 18: summary upkeep's cost on intake, target < 10 %).
-- 0073 summed a statement's items into `demand_counts`, `demand_days` and
-- `demand_rate_days` once per statement; still, a group commit of 32 items
-- upserted ~133 summary rows (today's rows of the community, street, district,
-- city and root, per category), 1.1–1.8 ms of the one intake writer's backend,
-- and intake ran 12–35 % slower than without the summaries (docs/benchmarks.md).
--
-- Now the statement trigger appends a group commit's items' counted columns to
-- `demand_summary_queue` (no index, no key, no row shared between commits): the
-- counts are still written in the item's transaction, as its own rows. The
-- `*_live` views below add the queued items to each summary, so every reader sees
-- exactly the committed items, folded or not. `demand_summaries_fold()` moves the
-- queue into the summary tables in one transaction (delete the rows it read, upsert
-- their sums): the server calls it every second (`wangge_web::serve`), a history
-- write before it commits, `wangge figures verify` before it compares. Folding
-- changes no figure; it keeps the queue short for readers.
--
-- A queued item can change before it is folded (accepted, closed). The row
-- triggers of updates and deletes subtract the old state from the summaries as
-- upserts of -1 now (0028 and 0063 updated an existing row, and would miss the row
-- the queue has not written yet); the sum of table, queue and subtraction stays
-- exact, a table row may be negative until the fold.
--
-- SQLite keeps its row triggers (its upkeep costs intake under 10 %); its views read
-- the tables alone and nothing writes its queue (../sqlite/0074_demand_summaries_queued.sql).
CREATE TABLE demand_summary_queue (
    path          TEXT COLLATE "C" NOT NULL,
    category      TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    closed_at     BIGINT,
    responded_at  BIGINT,
    accept_due    BIGINT NOT NULL,
    rating        SMALLINT,
    rating_source TEXT,
    rating_due    BIGINT
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
        autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000);

-- A statement of a few items (intake's group commit: at most 64) appends them to
-- the queue; a larger one (a history load, 256 a statement) is summed into the
-- tables as 0073 did, where the upserts are shared by many items and a queue would
-- only leave as many dead rows for readers to pass over until vacuumed.
CREATE OR REPLACE FUNCTION demand_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT COUNT(*) FROM inserted) <= 64 THEN
        INSERT INTO demand_summary_queue (path, category, status, created_at, closed_at, responded_at, accept_due,
                                          rating, rating_source, rating_due)
        SELECT path, category, status, created_at, closed_at, responded_at, accept_due, rating, rating_source,
               rating_due
        FROM inserted;
        RETURN NULL;
    END IF;
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

-- 0073's statement (as above), reading the rows it takes out of the queue. One
-- fold at a time (an advisory lock for the transaction): a second waits, then finds
-- the rows gone. The rate parts restate 0064's, here, above and in the views below:
-- `wangge figures verify` checks the tables against a recount from the items
-- (`summaries::SUMMARIES`), and the cockpit's test
-- `figures_are_the_same_with_the_demand_queue_folded_or_not` the views against the fold.
CREATE FUNCTION demand_summaries_fold() RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    folded BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(7406180);
    WITH gone AS (
        DELETE FROM demand_summary_queue RETURNING *
    ), counts AS (
        INSERT INTO demand_counts (path, category, status, day, n)
        SELECT path, category, status, (created_at + 28800000) / 86400000, COUNT(*) FROM gone
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (path, category, status, day) DO UPDATE SET n = demand_counts.n + excluded.n
    ), up AS MATERIALIZED (
        SELECT a.ancestor, i.category, i.status, i.created_at, i.closed_at, i.responded_at, i.accept_due,
               i.rating, i.rating_source, i.rating_due
        FROM gone i JOIN area_ancestors a ON a.path = i.path
    ), days AS (
        INSERT INTO demand_days (path, day, category, created, closed)
        SELECT ancestor, day, category, SUM(created), SUM(closed) FROM (
            SELECT ancestor, (created_at + 28800000) / 86400000 AS day, category, 1 AS created, 0 AS closed FROM up
            UNION ALL
            SELECT ancestor, (closed_at + 28800000) / 86400000, category, 0, 1 FROM up WHERE closed_at IS NOT NULL
        ) e GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (path, day, category) DO UPDATE
            SET created = demand_days.created + excluded.created, closed = demand_days.closed + excluded.closed
    ), rates AS (
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
        ON CONFLICT (path, day) DO UPDATE SET items = demand_rate_days.items + excluded.items, responded = demand_rate_days.responded + excluded.responded, to_resolve = demand_rate_days.to_resolve + excluded.to_resolve, resolved = demand_rate_days.resolved + excluded.resolved, rated_staff = demand_rate_days.rated_staff + excluded.rated_staff, rated_other = demand_rate_days.rated_other + excluded.rated_other, satisfied = demand_rate_days.satisfied + excluded.satisfied, satisfied_other = demand_rate_days.satisfied_other + excluded.satisfied_other, closed_unrated = demand_rate_days.closed_unrated + excluded.closed_unrated
    )
    SELECT COUNT(*) INTO folded FROM gone;
    RETURN folded;
END
$$;

-- 0028's function, the old state subtracted by an upsert.
CREATE OR REPLACE FUNCTION demand_counts_upkeep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO demand_counts (path, category, status, day, n)
        VALUES (OLD.path, OLD.category, OLD.status, (OLD.created_at + 28800000) / 86400000, -1)
        ON CONFLICT (path, category, status, day) DO UPDATE SET n = demand_counts.n - 1;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO demand_counts (path, category, status, day, n)
        VALUES (NEW.path, NEW.category, NEW.status, (NEW.created_at + 28800000) / 86400000, 1)
        ON CONFLICT (path, category, status, day) DO UPDATE SET n = demand_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$;

-- 0063's function, the old state subtracted by upserts.
CREATE OR REPLACE FUNCTION demand_counts_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE'
            AND (OLD.path IS DISTINCT FROM NEW.path OR OLD.created_at IS DISTINCT FROM NEW.created_at
                OR OLD.category IS DISTINCT FROM NEW.category)) THEN
        INSERT INTO demand_days (path, day, category, created, closed)
        SELECT a.ancestor, (OLD.created_at + 28800000) / 86400000, OLD.category, -1, 0 FROM area_ancestors a
        WHERE a.path = OLD.path ORDER BY a.ancestor
        ON CONFLICT (path, day, category) DO UPDATE SET created = demand_days.created - 1;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.closed_at IS NOT NULL AND (TG_OP = 'DELETE'
            OR OLD.path IS DISTINCT FROM NEW.path OR OLD.closed_at IS DISTINCT FROM NEW.closed_at
            OR OLD.category IS DISTINCT FROM NEW.category) THEN
        INSERT INTO demand_days (path, day, category, created, closed)
        SELECT a.ancestor, (OLD.closed_at + 28800000) / 86400000, OLD.category, 0, -1 FROM area_ancestors a
        WHERE a.path = OLD.path ORDER BY a.ancestor
        ON CONFLICT (path, day, category) DO UPDATE SET closed = demand_days.closed - 1;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE'
            AND (OLD.path IS DISTINCT FROM NEW.path OR OLD.created_at IS DISTINCT FROM NEW.created_at
                OR OLD.category IS DISTINCT FROM NEW.category)) THEN
        INSERT INTO demand_days (path, day, category, created, closed)
        SELECT a.ancestor, (NEW.created_at + 28800000) / 86400000, NEW.category, 1, 0 FROM area_ancestors a
        WHERE a.path = NEW.path ORDER BY a.ancestor
        ON CONFLICT (path, day, category) DO UPDATE SET created = demand_days.created + 1;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.closed_at IS NOT NULL AND (TG_OP = 'INSERT'
            OR OLD.path IS DISTINCT FROM NEW.path OR OLD.closed_at IS DISTINCT FROM NEW.closed_at
            OR OLD.category IS DISTINCT FROM NEW.category) THEN
        INSERT INTO demand_days (path, day, category, created, closed)
        SELECT a.ancestor, (NEW.closed_at + 28800000) / 86400000, NEW.category, 0, 1 FROM area_ancestors a
        WHERE a.path = NEW.path ORDER BY a.ancestor
        ON CONFLICT (path, day, category) DO UPDATE SET closed = demand_days.closed + 1;
    END IF;
    RETURN NULL;
END
$$;

-- What readers sum: each table and the queued items as that table would count them.
CREATE VIEW demand_counts_live AS
    SELECT path, category, status, day, n FROM demand_counts
    UNION ALL
    SELECT path, category, status, (created_at + 28800000) / 86400000, CAST(1 AS BIGINT) FROM demand_summary_queue;

-- A queued item is a created row and, closed, a closed row: one join and a row
-- list rather than two joins, which PostgreSQL plans in half the time (0.16 against
-- 0.29 ms, a read of a city's year; the table alone 0.06).
CREATE VIEW demand_days_live AS
    SELECT path, day, category, created, closed FROM demand_days
    UNION ALL
    SELECT a.ancestor, e.day, q.category, e.created, e.closed
    FROM demand_summary_queue q JOIN area_ancestors a ON a.path = q.path
    CROSS JOIN LATERAL (VALUES ((q.created_at + 28800000) / 86400000, CAST(1 AS BIGINT), CAST(0 AS BIGINT)),
                               ((q.closed_at + 28800000) / 86400000, CAST(0 AS BIGINT), CAST(1 AS BIGINT))) e (day, created, closed)
    WHERE e.day IS NOT NULL;

CREATE VIEW demand_rate_days_live AS
    SELECT path, day, items, responded, to_resolve, resolved, rated_staff, rated_other, satisfied, satisfied_other,
           closed_unrated
    FROM demand_rate_days
    UNION ALL
    SELECT a.ancestor, (q.created_at + 28800000) / 86400000, CAST(1 AS BIGINT),
           CAST(CASE WHEN q.responded_at IS NOT NULL AND q.responded_at <= q.accept_due THEN 1 ELSE 0 END AS BIGINT),
           CAST(CASE WHEN q.status <> 'rejected' THEN 1 ELSE 0 END AS BIGINT),
           CAST(CASE WHEN q.status IN ('closed', 'rated') THEN 1 ELSE 0 END AS BIGINT),
           CAST(CASE WHEN q.rating IS NOT NULL AND q.rating_source = 'staff' THEN 1 ELSE 0 END AS BIGINT),
           CAST(CASE WHEN q.rating IS NOT NULL AND (q.rating_source IS NULL OR q.rating_source <> 'staff') THEN 1 ELSE 0 END AS BIGINT),
           CAST(CASE WHEN q.rating >= 4 THEN 1 ELSE 0 END AS BIGINT),
           CAST(CASE WHEN q.rating >= 4 AND (q.rating_source IS NULL OR q.rating_source <> 'staff') THEN 1 ELSE 0 END AS BIGINT),
           CAST(CASE WHEN q.status = 'closed' AND q.rating IS NULL AND COALESCE(q.rating_due, q.closed_at) IS NOT NULL THEN 1 ELSE 0 END AS BIGINT)
    FROM demand_summary_queue q JOIN area_ancestors a ON a.path = q.path WHERE q.status <> 'merged';
