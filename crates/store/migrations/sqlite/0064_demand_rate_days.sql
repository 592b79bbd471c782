-- The three rates' parts per day of creation at every level of the hierarchy
-- (issue 18), a roll-up as 0062's and 0063's: a year's rates of a district read a
-- pass over its year of items (`demands_path`, 0041), 255 ms of its page with
-- `?period=year`; the area's ~365 rows of this table instead. Every part is a
-- function of the item's row alone (store::demands::rates): items (not merged),
-- responded in time, to resolve (not rejected), resolved (closed or rated), rated
-- by staff / by anyone else, satisfied (4 or 5) / by anyone but staff, and closed
-- but not rated. Only the last splits with the clock (its time to rate over or
-- not): those still within it are counted from the items by the index
-- `demands_awaiting_rating`, a few days' closings. A past period's rates (as its
-- items stood at its end) are read from the items. The triggers are named
-- `demand_counts_*` (see 0063). Kept in step with ../postgres/0064_demand_rate_days.sql.

CREATE TABLE demand_rate_days (
    path            TEXT NOT NULL,
    day             BIGINT NOT NULL,
    items           BIGINT NOT NULL,
    responded       BIGINT NOT NULL,
    to_resolve      BIGINT NOT NULL,
    resolved        BIGINT NOT NULL,
    rated_staff     BIGINT NOT NULL,
    rated_other     BIGINT NOT NULL,
    satisfied       BIGINT NOT NULL,
    satisfied_other BIGINT NOT NULL,
    closed_unrated  BIGINT NOT NULL,
    PRIMARY KEY (path, day)
);

INSERT INTO demand_rate_days (path, day, items, responded, to_resolve, resolved, rated_staff, rated_other, satisfied, satisfied_other, closed_unrated)
SELECT a.ancestor, (d.created_at + 28800000) / 86400000,
       COUNT(*),
       SUM(CASE WHEN d.responded_at IS NOT NULL AND d.responded_at <= d.accept_due THEN 1 ELSE 0 END),
       SUM(CASE WHEN d.status <> 'rejected' THEN 1 ELSE 0 END),
       SUM(CASE WHEN d.status IN ('closed', 'rated') THEN 1 ELSE 0 END),
       SUM(CASE WHEN d.rating IS NOT NULL AND d.rating_source = 'staff' THEN 1 ELSE 0 END),
       SUM(CASE WHEN d.rating IS NOT NULL AND (d.rating_source IS NULL OR d.rating_source <> 'staff') THEN 1 ELSE 0 END),
       SUM(CASE WHEN d.rating >= 4 THEN 1 ELSE 0 END),
       SUM(CASE WHEN d.rating >= 4 AND (d.rating_source IS NULL OR d.rating_source <> 'staff') THEN 1 ELSE 0 END),
       SUM(CASE WHEN d.status = 'closed' AND d.rating IS NULL AND COALESCE(d.rating_due, d.closed_at) IS NOT NULL THEN 1 ELSE 0 END)
FROM demands d JOIN area_ancestors a ON a.path = d.path
WHERE d.status <> 'merged'
GROUP BY a.ancestor, (d.created_at + 28800000) / 86400000;

-- Closed items not rated yet whose time to rate is not over (its end, or the
-- default seven days after closing for items closed before windows were kept).
CREATE INDEX demands_awaiting_rating ON demands(COALESCE(rating_due, closed_at + 604800000), path, created_at)
    WHERE status = 'closed' AND rating IS NULL;

CREATE TRIGGER demand_counts_rates_insert AFTER INSERT ON demands
WHEN NEW.status <> 'merged'
BEGIN
    INSERT INTO demand_rate_days (path, day, items, responded, to_resolve, resolved, rated_staff, rated_other, satisfied, satisfied_other, closed_unrated)
    SELECT a.ancestor, (NEW.created_at + 28800000) / 86400000,
           1,
           (CASE WHEN NEW.responded_at IS NOT NULL AND NEW.responded_at <= NEW.accept_due THEN 1 ELSE 0 END),
           (CASE WHEN NEW.status <> 'rejected' THEN 1 ELSE 0 END),
           (CASE WHEN NEW.status IN ('closed', 'rated') THEN 1 ELSE 0 END),
           (CASE WHEN NEW.rating IS NOT NULL AND NEW.rating_source = 'staff' THEN 1 ELSE 0 END),
           (CASE WHEN NEW.rating IS NOT NULL AND (NEW.rating_source IS NULL OR NEW.rating_source <> 'staff') THEN 1 ELSE 0 END),
           (CASE WHEN NEW.rating >= 4 THEN 1 ELSE 0 END),
           (CASE WHEN NEW.rating >= 4 AND (NEW.rating_source IS NULL OR NEW.rating_source <> 'staff') THEN 1 ELSE 0 END),
           (CASE WHEN NEW.status = 'closed' AND NEW.rating IS NULL AND COALESCE(NEW.rating_due, NEW.closed_at) IS NOT NULL THEN 1 ELSE 0 END)
    FROM area_ancestors a WHERE a.path = NEW.path
    ON CONFLICT (path, day) DO UPDATE SET items = items + excluded.items, responded = responded + excluded.responded, to_resolve = to_resolve + excluded.to_resolve, resolved = resolved + excluded.resolved, rated_staff = rated_staff + excluded.rated_staff, rated_other = rated_other + excluded.rated_other, satisfied = satisfied + excluded.satisfied, satisfied_other = satisfied_other + excluded.satisfied_other, closed_unrated = closed_unrated + excluded.closed_unrated;
END;

CREATE TRIGGER demand_counts_rates_update AFTER UPDATE OF path, created_at, status, responded_at, accept_due, rating, rating_source, rating_due, closed_at ON demands
WHEN OLD.path IS NOT NEW.path OR OLD.created_at IS NOT NEW.created_at OR OLD.status IS NOT NEW.status OR OLD.responded_at IS NOT NEW.responded_at OR OLD.accept_due IS NOT NEW.accept_due OR OLD.rating IS NOT NEW.rating OR OLD.rating_source IS NOT NEW.rating_source
    OR OLD.rating_due IS NOT NEW.rating_due OR OLD.closed_at IS NOT NEW.closed_at
BEGIN
    INSERT INTO demand_rate_days (path, day, items, responded, to_resolve, resolved, rated_staff, rated_other, satisfied, satisfied_other, closed_unrated)
    SELECT a.ancestor, (OLD.created_at + 28800000) / 86400000,
           -1,
           -(CASE WHEN OLD.responded_at IS NOT NULL AND OLD.responded_at <= OLD.accept_due THEN 1 ELSE 0 END),
           -(CASE WHEN OLD.status <> 'rejected' THEN 1 ELSE 0 END),
           -(CASE WHEN OLD.status IN ('closed', 'rated') THEN 1 ELSE 0 END),
           -(CASE WHEN OLD.rating IS NOT NULL AND OLD.rating_source = 'staff' THEN 1 ELSE 0 END),
           -(CASE WHEN OLD.rating IS NOT NULL AND (OLD.rating_source IS NULL OR OLD.rating_source <> 'staff') THEN 1 ELSE 0 END),
           -(CASE WHEN OLD.rating >= 4 THEN 1 ELSE 0 END),
           -(CASE WHEN OLD.rating >= 4 AND (OLD.rating_source IS NULL OR OLD.rating_source <> 'staff') THEN 1 ELSE 0 END),
           -(CASE WHEN OLD.status = 'closed' AND OLD.rating IS NULL AND COALESCE(OLD.rating_due, OLD.closed_at) IS NOT NULL THEN 1 ELSE 0 END)
    FROM area_ancestors a WHERE a.path = OLD.path AND OLD.status <> 'merged'
    ON CONFLICT (path, day) DO UPDATE SET items = items + excluded.items, responded = responded + excluded.responded, to_resolve = to_resolve + excluded.to_resolve, resolved = resolved + excluded.resolved, rated_staff = rated_staff + excluded.rated_staff, rated_other = rated_other + excluded.rated_other, satisfied = satisfied + excluded.satisfied, satisfied_other = satisfied_other + excluded.satisfied_other, closed_unrated = closed_unrated + excluded.closed_unrated;
    INSERT INTO demand_rate_days (path, day, items, responded, to_resolve, resolved, rated_staff, rated_other, satisfied, satisfied_other, closed_unrated)
    SELECT a.ancestor, (NEW.created_at + 28800000) / 86400000,
           1,
           (CASE WHEN NEW.responded_at IS NOT NULL AND NEW.responded_at <= NEW.accept_due THEN 1 ELSE 0 END),
           (CASE WHEN NEW.status <> 'rejected' THEN 1 ELSE 0 END),
           (CASE WHEN NEW.status IN ('closed', 'rated') THEN 1 ELSE 0 END),
           (CASE WHEN NEW.rating IS NOT NULL AND NEW.rating_source = 'staff' THEN 1 ELSE 0 END),
           (CASE WHEN NEW.rating IS NOT NULL AND (NEW.rating_source IS NULL OR NEW.rating_source <> 'staff') THEN 1 ELSE 0 END),
           (CASE WHEN NEW.rating >= 4 THEN 1 ELSE 0 END),
           (CASE WHEN NEW.rating >= 4 AND (NEW.rating_source IS NULL OR NEW.rating_source <> 'staff') THEN 1 ELSE 0 END),
           (CASE WHEN NEW.status = 'closed' AND NEW.rating IS NULL AND COALESCE(NEW.rating_due, NEW.closed_at) IS NOT NULL THEN 1 ELSE 0 END)
    FROM area_ancestors a WHERE a.path = NEW.path AND NEW.status <> 'merged'
    ON CONFLICT (path, day) DO UPDATE SET items = items + excluded.items, responded = responded + excluded.responded, to_resolve = to_resolve + excluded.to_resolve, resolved = resolved + excluded.resolved, rated_staff = rated_staff + excluded.rated_staff, rated_other = rated_other + excluded.rated_other, satisfied = satisfied + excluded.satisfied, satisfied_other = satisfied_other + excluded.satisfied_other, closed_unrated = closed_unrated + excluded.closed_unrated;
END;

CREATE TRIGGER demand_counts_rates_delete AFTER DELETE ON demands
WHEN OLD.status <> 'merged'
BEGIN
    INSERT INTO demand_rate_days (path, day, items, responded, to_resolve, resolved, rated_staff, rated_other, satisfied, satisfied_other, closed_unrated)
    SELECT a.ancestor, (OLD.created_at + 28800000) / 86400000,
           -1,
           -(CASE WHEN OLD.responded_at IS NOT NULL AND OLD.responded_at <= OLD.accept_due THEN 1 ELSE 0 END),
           -(CASE WHEN OLD.status <> 'rejected' THEN 1 ELSE 0 END),
           -(CASE WHEN OLD.status IN ('closed', 'rated') THEN 1 ELSE 0 END),
           -(CASE WHEN OLD.rating IS NOT NULL AND OLD.rating_source = 'staff' THEN 1 ELSE 0 END),
           -(CASE WHEN OLD.rating IS NOT NULL AND (OLD.rating_source IS NULL OR OLD.rating_source <> 'staff') THEN 1 ELSE 0 END),
           -(CASE WHEN OLD.rating >= 4 THEN 1 ELSE 0 END),
           -(CASE WHEN OLD.rating >= 4 AND (OLD.rating_source IS NULL OR OLD.rating_source <> 'staff') THEN 1 ELSE 0 END),
           -(CASE WHEN OLD.status = 'closed' AND OLD.rating IS NULL AND COALESCE(OLD.rating_due, OLD.closed_at) IS NOT NULL THEN 1 ELSE 0 END)
    FROM area_ancestors a WHERE a.path = OLD.path
    ON CONFLICT (path, day) DO UPDATE SET items = items + excluded.items, responded = responded + excluded.responded, to_resolve = to_resolve + excluded.to_resolve, resolved = resolved + excluded.resolved, rated_staff = rated_staff + excluded.rated_staff, rated_other = rated_other + excluded.rated_other, satisfied = satisfied + excluded.satisfied, satisfied_other = satisfied_other + excluded.satisfied_other, closed_unrated = closed_unrated + excluded.closed_unrated;
END;
