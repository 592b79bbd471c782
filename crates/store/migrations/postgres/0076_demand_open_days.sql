-- Open items by the day of their deadline, at every level (issue 18: the cockpit
-- of a city of 7,000,000 above its 300 ms). The cockpit counted a city's open items
-- and its overdue ones from the open items' index (`demands_open`): 99,996 entries
-- of a city, 46 and 53 ms a call, read for the city and again for its children
-- (docs/benchmarks.md, "statement log"). Kept as a roll-up (0062's pattern), an
-- area's open count is its own rows: one per day on which some open item's
-- deadline falls and day it was created (2,190 rows for the city's 99,996; the
-- day of creation lets the ledger's first page, open items of the last year, take
-- its total from here too).
--
-- An open item's deadline is the one the ledger's overdue filter holds it to: to
-- accept while it is submitted (`accept_due`), to resolve once accepted
-- (`resolve_due`). `due_day` is China's day of it, whole days since 1970-01-01 as
-- in 0028. An area's overdue items at `now` are then its rows of days before
-- today's, plus those due earlier today: the latter counted from the items by the
-- index `demands_due` below (the deadline first, so a day's deadlines of the whole
-- deployment are a short range of it, whatever the area).
--
-- An area's rows are read together: written in key order here, with room on each
-- page for their counts' updates to stay on it (`fillfactor`); a row whose count
-- falls to 0 (its items closed or moved) is deleted by the statement that lowered
-- it, so that a year's closed items leave no rows for readers to pass over.
--
-- New items come through 0074's queue like the other three summaries: the queue
-- gets `resolve_due`, `demand_open_days_live` adds the queued open items to the
-- table, and the fold and large statements count items in through
-- `demand_open_add`. Updates and deletes have their row trigger, which subtracts
-- the old state by an upsert of -1 (a queued item's row may not be written yet).
-- The triggers are named `demand_counts_*` so that `bench demands
-- --without-summaries` measures intake without every summary of the demands.
-- Kept in step with ../sqlite/0076_demand_open_days.sql; the open statuses are
-- `DemandStatus::open()` written out, as in 0010.

-- The queue's items are counted into the three tables first, so that the backfill
-- below, which counts every open item from the rows, counts none of them twice.
SELECT demand_summaries_fold();

ALTER TABLE demand_summary_queue ADD COLUMN resolve_due BIGINT;

CREATE TABLE demand_open_days (
    path        TEXT COLLATE "C" NOT NULL,
    due_day     BIGINT NOT NULL,
    created_day BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (path, due_day, created_day)
) WITH (fillfactor = 50);

INSERT INTO demand_open_days (path, due_day, created_day, n)
SELECT a.ancestor,
       (CASE WHEN d.status = 'submitted' THEN d.accept_due ELSE d.resolve_due END + 28800000) / 86400000,
       (d.created_at + 28800000) / 86400000,
       COUNT(*)
FROM demands d JOIN area_ancestors a ON a.path = d.path
WHERE d.status IN ('submitted', 'accepted', 'dispatched', 'in_hand', 'reported_done', 'verified', 'reopened')
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

-- Today's deadlines: the open items due between midnight and now, under an area.
CREATE INDEX demands_due ON demands ((CASE WHEN status = 'submitted' THEN accept_due ELSE resolve_due END), path)
    WHERE status IN ('submitted', 'accepted', 'dispatched', 'in_hand', 'reported_done', 'verified', 'reopened');

-- Items (the queue's rows) counted in: the fold's and a large statement's.
CREATE FUNCTION demand_open_add(items demand_summary_queue[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO demand_open_days (path, due_day, created_day, n)
    SELECT a.ancestor,
           (CASE WHEN i.status = 'submitted' THEN i.accept_due ELSE i.resolve_due END + 28800000) / 86400000,
           (i.created_at + 28800000) / 86400000,
           COUNT(*)
    FROM unnest(items) i JOIN area_ancestors a ON a.path = i.path
    WHERE i.status IN ('submitted', 'accepted', 'dispatched', 'in_hand', 'reported_done', 'verified', 'reopened')
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (path, due_day, created_day) DO UPDATE SET n = demand_open_days.n + excluded.n;
    -- Items changed while queued had their rows lowered below 0: back at 0 now.
    DELETE FROM demand_open_days o
    USING (SELECT DISTINCT a.ancestor,
                  (CASE WHEN i.status = 'submitted' THEN i.accept_due ELSE i.resolve_due END + 28800000) / 86400000 AS due_day,
                  (i.created_at + 28800000) / 86400000 AS created_day
           FROM unnest(items) i JOIN area_ancestors a ON a.path = i.path) k
    WHERE o.path = k.ancestor AND o.due_day = k.due_day AND o.created_day = k.created_day AND o.n = 0;
$$;

-- 0075's trigger, the queue's new column written and the open items counted in.
CREATE OR REPLACE FUNCTION demand_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    items demand_summary_queue[];
BEGIN
    IF (SELECT COUNT(*) FROM inserted) <= 64 THEN
        INSERT INTO demand_summary_queue (path, category, status, created_at, closed_at, responded_at, accept_due,
                                          rating, rating_source, rating_due, resolve_due)
        SELECT path, category, status, created_at, closed_at, responded_at, accept_due, rating, rating_source,
               rating_due, resolve_due
        FROM inserted;
    ELSE
        items := ARRAY(
            SELECT ROW(path, category, status, created_at, closed_at, responded_at, accept_due, rating,
                       rating_source, rating_due, resolve_due)::demand_summary_queue
            FROM inserted);
        PERFORM demand_summaries_add(items);
        PERFORM demand_open_add(items);
    END IF;
    RETURN NULL;
END
$$;

-- 0075's fold, the open items counted in too.
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
    PERFORM demand_open_add(items);
    RETURN cardinality(items);
END
$$;

-- An item changed (accepted, given a new deadline, closed, moved) or deleted: its
-- old state subtracted, its new one added, each at every level.
CREATE FUNCTION demand_counts_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('submitted', 'accepted', 'dispatched', 'in_hand', 'reported_done', 'verified', 'reopened') THEN
        INSERT INTO demand_open_days (path, due_day, created_day, n)
        SELECT a.ancestor,
               (CASE WHEN OLD.status = 'submitted' THEN OLD.accept_due ELSE OLD.resolve_due END + 28800000) / 86400000,
               (OLD.created_at + 28800000) / 86400000,
               -1
        FROM area_ancestors a WHERE a.path = OLD.path ORDER BY a.ancestor
        ON CONFLICT (path, due_day, created_day) DO UPDATE SET n = demand_open_days.n - 1;
        DELETE FROM demand_open_days
        WHERE path IN (SELECT a.ancestor FROM area_ancestors a WHERE a.path = OLD.path)
            AND due_day = (CASE WHEN OLD.status = 'submitted' THEN OLD.accept_due ELSE OLD.resolve_due END + 28800000) / 86400000
            AND created_day = (OLD.created_at + 28800000) / 86400000 AND n = 0;
    END IF;
    IF TG_OP = 'UPDATE'
            AND NEW.status IN ('submitted', 'accepted', 'dispatched', 'in_hand', 'reported_done', 'verified', 'reopened') THEN
        INSERT INTO demand_open_days (path, due_day, created_day, n)
        SELECT a.ancestor,
               (CASE WHEN NEW.status = 'submitted' THEN NEW.accept_due ELSE NEW.resolve_due END + 28800000) / 86400000,
               (NEW.created_at + 28800000) / 86400000,
               1
        FROM area_ancestors a WHERE a.path = NEW.path ORDER BY a.ancestor
        ON CONFLICT (path, due_day, created_day) DO UPDATE SET n = demand_open_days.n + 1;
    END IF;
    RETURN NULL;
END
$$;

-- Only a change of what the table keys: the place, whether the item is open, the
-- day of its deadline, its creation (a step between two working states keeps all).
CREATE TRIGGER demand_counts_open_update AFTER UPDATE OF path, status, accept_due, resolve_due, created_at ON demands
    FOR EACH ROW
    WHEN (OLD.path IS DISTINCT FROM NEW.path OR OLD.created_at IS DISTINCT FROM NEW.created_at
        OR (OLD.status IN ('submitted', 'accepted', 'dispatched', 'in_hand', 'reported_done', 'verified', 'reopened'))
            IS DISTINCT FROM
           (NEW.status IN ('submitted', 'accepted', 'dispatched', 'in_hand', 'reported_done', 'verified', 'reopened'))
        OR (CASE WHEN OLD.status = 'submitted' THEN OLD.accept_due ELSE OLD.resolve_due END + 28800000) / 86400000
            IS DISTINCT FROM
           (CASE WHEN NEW.status = 'submitted' THEN NEW.accept_due ELSE NEW.resolve_due END + 28800000) / 86400000)
    EXECUTE FUNCTION demand_counts_open();
CREATE TRIGGER demand_counts_open_delete AFTER DELETE ON demands
    FOR EACH ROW
    WHEN (OLD.status IN ('submitted', 'accepted', 'dispatched', 'in_hand', 'reported_done', 'verified', 'reopened'))
    EXECUTE FUNCTION demand_counts_open();

-- What readers sum: the table and the queued open items, as the table counts them.
CREATE VIEW demand_open_days_live AS
    SELECT path, due_day, created_day, n FROM demand_open_days
    UNION ALL
    SELECT a.ancestor,
           (CASE WHEN q.status = 'submitted' THEN q.accept_due ELSE q.resolve_due END + 28800000) / 86400000,
           (q.created_at + 28800000) / 86400000,
           CAST(1 AS BIGINT)
    FROM demand_summary_queue q JOIN area_ancestors a ON a.path = q.path
    WHERE q.status IN ('submitted', 'accepted', 'dispatched', 'in_hand', 'reported_done', 'verified', 'reopened');
