-- The three rates' parts per day of creation at every level (issue 18). Kept in
-- step with ../sqlite/0064_demand_rate_days.sql, which says why; the table, index
-- and backfill are the same, the triggers differ only in how each engine writes one.

CREATE TABLE demand_rate_days (
    path            TEXT COLLATE "C" NOT NULL,
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

CREATE FUNCTION demand_counts_rates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'merged' THEN
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
        FROM area_ancestors a WHERE a.path = OLD.path ORDER BY a.ancestor
        ON CONFLICT (path, day) DO UPDATE SET items = demand_rate_days.items + excluded.items, responded = demand_rate_days.responded + excluded.responded, to_resolve = demand_rate_days.to_resolve + excluded.to_resolve, resolved = demand_rate_days.resolved + excluded.resolved, rated_staff = demand_rate_days.rated_staff + excluded.rated_staff, rated_other = demand_rate_days.rated_other + excluded.rated_other, satisfied = demand_rate_days.satisfied + excluded.satisfied, satisfied_other = demand_rate_days.satisfied_other + excluded.satisfied_other, closed_unrated = demand_rate_days.closed_unrated + excluded.closed_unrated;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> 'merged' THEN
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
        FROM area_ancestors a WHERE a.path = NEW.path ORDER BY a.ancestor
        ON CONFLICT (path, day) DO UPDATE SET items = demand_rate_days.items + excluded.items, responded = demand_rate_days.responded + excluded.responded, to_resolve = demand_rate_days.to_resolve + excluded.to_resolve, resolved = demand_rate_days.resolved + excluded.resolved, rated_staff = demand_rate_days.rated_staff + excluded.rated_staff, rated_other = demand_rate_days.rated_other + excluded.rated_other, satisfied = demand_rate_days.satisfied + excluded.satisfied, satisfied_other = demand_rate_days.satisfied_other + excluded.satisfied_other, closed_unrated = demand_rate_days.closed_unrated + excluded.closed_unrated;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER demand_counts_rates_insert AFTER INSERT ON demands
    FOR EACH ROW EXECUTE FUNCTION demand_counts_rates();
CREATE TRIGGER demand_counts_rates_update AFTER UPDATE OF path, created_at, status, responded_at, accept_due, rating, rating_source, rating_due, closed_at ON demands
    FOR EACH ROW
    WHEN (OLD.path IS DISTINCT FROM NEW.path OR OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.status IS DISTINCT FROM NEW.status OR OLD.responded_at IS DISTINCT FROM NEW.responded_at OR OLD.accept_due IS DISTINCT FROM NEW.accept_due OR OLD.rating IS DISTINCT FROM NEW.rating OR OLD.rating_source IS DISTINCT FROM NEW.rating_source
        OR OLD.rating_due IS DISTINCT FROM NEW.rating_due OR OLD.closed_at IS DISTINCT FROM NEW.closed_at)
    EXECUTE FUNCTION demand_counts_rates();
CREATE TRIGGER demand_counts_rates_delete AFTER DELETE ON demands
    FOR EACH ROW EXECUTE FUNCTION demand_counts_rates();
