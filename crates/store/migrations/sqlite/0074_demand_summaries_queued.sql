-- PostgreSQL queues the items entered for the demand summaries and folds the queue
-- in the background; readers sum the `*_live` views, each a table and its queued
-- items (../postgres/0074_demand_summaries_queued.sql says why). SQLite keeps its
-- row triggers, which write the tables in the item's transaction at under 10 % of
-- intake's rate (docs/benchmarks.md): the same queue table exists, nothing writes
-- it, and the views are the tables, so that both engines read figures through the
-- same names.
CREATE TABLE demand_summary_queue (
    path          TEXT NOT NULL,
    category      TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    closed_at     BIGINT,
    responded_at  BIGINT,
    accept_due    BIGINT NOT NULL,
    rating        SMALLINT,
    rating_source TEXT,
    rating_due    BIGINT
);

CREATE VIEW demand_counts_live AS SELECT path, category, status, day, n FROM demand_counts;

CREATE VIEW demand_days_live AS SELECT path, day, category, created, closed FROM demand_days;

CREATE VIEW demand_rate_days_live AS
    SELECT path, day, items, responded, to_resolve, resolved, rated_staff, rated_other, satisfied, satisfied_other,
           closed_unrated
    FROM demand_rate_days;
