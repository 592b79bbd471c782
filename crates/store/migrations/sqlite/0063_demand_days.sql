-- Demands created and closed per day and category at every level of the hierarchy
-- (issue 18), a roll-up as 0062's: the cockpit's trends of a year and a period's
-- items by category read the area's own rows (a year: ~365 days × the categories
-- used), where summing 0028's `demand_counts` (kept per grid, category and
-- status) read as many rows as a district's year of items (48 ms of a district's
-- page for the trends, 55 ms for a year by category). `day` is China's day as whole days since 1970-01-01, as in
-- 0028, of `created_at` for `created` and of `closed_at` for `closed` (an item
-- reopened leaves its day's count). The triggers are named `demand_counts_*` so
-- that `bench demands --without-summaries` measures intake without every summary
-- of the demands. Kept in step with ../postgres/0063_demand_days.sql.
CREATE TABLE demand_days (
    path     TEXT NOT NULL,
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

CREATE TRIGGER demand_counts_rollup_insert AFTER INSERT ON demands
BEGIN
    INSERT INTO demand_days (path, day, category, created, closed)
    SELECT a.ancestor, (NEW.created_at + 28800000) / 86400000, NEW.category, 1, 0 FROM area_ancestors a WHERE a.path = NEW.path
    ON CONFLICT (path, day, category) DO UPDATE SET created = created + 1;
    INSERT INTO demand_days (path, day, category, created, closed)
    SELECT a.ancestor, (NEW.closed_at + 28800000) / 86400000, NEW.category, 0, 1 FROM area_ancestors a
    WHERE a.path = NEW.path AND NEW.closed_at IS NOT NULL
    ON CONFLICT (path, day, category) DO UPDATE SET closed = closed + 1;
END;

CREATE TRIGGER demand_counts_rollup_created AFTER UPDATE OF path, created_at, category ON demands
WHEN OLD.path IS NOT NEW.path OR OLD.created_at IS NOT NEW.created_at OR OLD.category IS NOT NEW.category
BEGIN
    UPDATE demand_days SET created = created - 1
    WHERE day = (OLD.created_at + 28800000) / 86400000 AND category = OLD.category
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
    INSERT INTO demand_days (path, day, category, created, closed)
    SELECT a.ancestor, (NEW.created_at + 28800000) / 86400000, NEW.category, 1, 0 FROM area_ancestors a WHERE a.path = NEW.path
    ON CONFLICT (path, day, category) DO UPDATE SET created = created + 1;
END;

CREATE TRIGGER demand_counts_rollup_closed AFTER UPDATE OF path, closed_at, category ON demands
WHEN OLD.path IS NOT NEW.path OR OLD.closed_at IS NOT NEW.closed_at OR OLD.category IS NOT NEW.category
BEGIN
    UPDATE demand_days SET closed = closed - 1
    WHERE OLD.closed_at IS NOT NULL AND day = (OLD.closed_at + 28800000) / 86400000 AND category = OLD.category
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
    INSERT INTO demand_days (path, day, category, created, closed)
    SELECT a.ancestor, (NEW.closed_at + 28800000) / 86400000, NEW.category, 0, 1 FROM area_ancestors a
    WHERE a.path = NEW.path AND NEW.closed_at IS NOT NULL
    ON CONFLICT (path, day, category) DO UPDATE SET closed = closed + 1;
END;

CREATE TRIGGER demand_counts_rollup_delete AFTER DELETE ON demands
BEGIN
    UPDATE demand_days SET created = created - 1
    WHERE day = (OLD.created_at + 28800000) / 86400000 AND category = OLD.category
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
    UPDATE demand_days SET closed = closed - 1
    WHERE OLD.closed_at IS NOT NULL AND day = (OLD.closed_at + 28800000) / 86400000 AND category = OLD.category
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
END;
