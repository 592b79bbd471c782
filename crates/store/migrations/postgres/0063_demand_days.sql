-- Demands created and closed per day and category at every level (issue 18).
-- Kept in step with ../sqlite/0063_demand_days.sql, which says why; the table and
-- backfill are the same, the triggers differ only in how each engine writes one.
CREATE TABLE demand_days (
    path     TEXT COLLATE "C" NOT NULL,
    day      BIGINT NOT NULL,
    category TEXT NOT NULL,
    created  BIGINT NOT NULL,
    closed   BIGINT NOT NULL,
    PRIMARY KEY (path, day, category)
);

INSERT INTO demand_days (path, day, category, created, closed)
SELECT ancestor, day, category, SUM(created), SUM(closed) FROM (
    SELECT a.ancestor, (d.created_at + 28800000) / 86400000 AS day, d.category, 1 AS created, 0 AS closed
    FROM demands d JOIN area_ancestors a ON a.path = d.path
    UNION ALL
    SELECT a.ancestor, (d.closed_at + 28800000) / 86400000, d.category, 0, 1
    FROM demands d JOIN area_ancestors a ON a.path = d.path WHERE d.closed_at IS NOT NULL
) counted GROUP BY ancestor, day, category;

CREATE FUNCTION demand_counts_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE'
            AND (OLD.path IS DISTINCT FROM NEW.path OR OLD.created_at IS DISTINCT FROM NEW.created_at
                OR OLD.category IS DISTINCT FROM NEW.category)) THEN
        UPDATE demand_days d SET created = d.created - 1
        FROM (SELECT ancestor FROM area_ancestors WHERE path = OLD.path ORDER BY ancestor) a
        WHERE d.path = a.ancestor AND d.day = (OLD.created_at + 28800000) / 86400000 AND d.category = OLD.category;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.closed_at IS NOT NULL AND (TG_OP = 'DELETE'
            OR OLD.path IS DISTINCT FROM NEW.path OR OLD.closed_at IS DISTINCT FROM NEW.closed_at
            OR OLD.category IS DISTINCT FROM NEW.category) THEN
        UPDATE demand_days d SET closed = d.closed - 1
        FROM (SELECT ancestor FROM area_ancestors WHERE path = OLD.path ORDER BY ancestor) a
        WHERE d.path = a.ancestor AND d.day = (OLD.closed_at + 28800000) / 86400000 AND d.category = OLD.category;
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

CREATE TRIGGER demand_counts_rollup_insert AFTER INSERT ON demands
    FOR EACH ROW EXECUTE FUNCTION demand_counts_rollup();
CREATE TRIGGER demand_counts_rollup_update AFTER UPDATE OF path, created_at, closed_at, category ON demands
    FOR EACH ROW
    WHEN (OLD.path IS DISTINCT FROM NEW.path OR OLD.created_at IS DISTINCT FROM NEW.created_at
        OR OLD.closed_at IS DISTINCT FROM NEW.closed_at OR OLD.category IS DISTINCT FROM NEW.category)
    EXECUTE FUNCTION demand_counts_rollup();
CREATE TRIGGER demand_counts_rollup_delete AFTER DELETE ON demands
    FOR EACH ROW EXECUTE FUNCTION demand_counts_rollup();
