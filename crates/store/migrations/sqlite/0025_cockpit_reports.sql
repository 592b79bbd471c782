-- The cockpit's scheduled reports (issue 18). Kept in step with the other engine's
-- 0025 (the migration-trees test checks it). Grid boundaries need no table: they
-- are the GeoJSON in areas.boundary (0001), buildings' coordinates buildings.lat/lng.

-- One row per report queued for a scope and period: the scheduler claims a row
-- before it queues the deliveries, so that several servers, restarts and repeated
-- sweeps send each week's report of a scope once.
CREATE TABLE report_runs (
    area_id     TEXT NOT NULL REFERENCES areas(id),
    period      TEXT NOT NULL,
    first_day   TEXT NOT NULL,
    queued_at   BIGINT NOT NULL,
    deliveries  BIGINT NOT NULL,
    PRIMARY KEY (area_id, period, first_day)
);
