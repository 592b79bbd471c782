-- Summary tables of the cockpit (issue 18, "figures that scale"). Kept in step with
-- ../sqlite/0028_summaries.sql: the tables are the same; the triggers that keep
-- them differ only in how each engine writes a trigger (here a PL/pgSQL function
-- per table).
--
-- Counts that change only when rows change are kept per place (the row's own
-- `path`: a grid's, or an area's) in tables updated by triggers, so in the same
-- transaction as the row change, whatever code path writes the row (a form, the
-- API, the group commit of intake, an import, the demo's history, `generate`).
-- Figures that change with time (overdue, age bands, "this week") are computed
-- when read. `wangge figures verify` recomputes every table from the rows
-- (store::summaries). A row whose count fell to 0 is kept: it means the same as no
-- row.

-- Demands by place, category, status and day of creation. `day` is the day in
-- China (UTC+8) as whole days since 1970-01-01: (created_at + 8 h) / 1 day, the
-- same integer arithmetic on both engines.
CREATE TABLE demand_counts (
    path      TEXT COLLATE "C" NOT NULL,
    category  TEXT NOT NULL,
    status    TEXT NOT NULL,
    day       BIGINT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (path, category, status, day)
);
CREATE INDEX demand_counts_day ON demand_counts(day, path);

INSERT INTO demand_counts (path, category, status, day, n)
SELECT path, category, status, (created_at + 28800000) / 86400000, COUNT(*)
FROM demands GROUP BY path, category, status, (created_at + 28800000) / 86400000;

CREATE FUNCTION demand_counts_upkeep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE demand_counts SET n = n - 1
        WHERE path = OLD.path AND category = OLD.category AND status = OLD.status
            AND day = (OLD.created_at + 28800000) / 86400000;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO demand_counts (path, category, status, day, n)
        VALUES (NEW.path, NEW.category, NEW.status, (NEW.created_at + 28800000) / 86400000, 1)
        ON CONFLICT (path, category, status, day) DO UPDATE SET n = demand_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER demand_counts_insert AFTER INSERT ON demands
    FOR EACH ROW EXECUTE FUNCTION demand_counts_upkeep();
CREATE TRIGGER demand_counts_update AFTER UPDATE OF path, category, status, created_at ON demands
    FOR EACH ROW
    WHEN (OLD.path IS DISTINCT FROM NEW.path OR OLD.category IS DISTINCT FROM NEW.category
        OR OLD.status IS DISTINCT FROM NEW.status OR OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION demand_counts_upkeep();
CREATE TRIGGER demand_counts_delete AFTER DELETE ON demands
    FOR EACH ROW EXECUTE FUNCTION demand_counts_upkeep();

-- Current residents (status 'active') by place and residence type.
CREATE TABLE resident_counts (
    path            TEXT COLLATE "C" NOT NULL,
    residence_type  TEXT NOT NULL,
    n               BIGINT NOT NULL,
    PRIMARY KEY (path, residence_type)
);

INSERT INTO resident_counts (path, residence_type, n)
SELECT path, residence_type, COUNT(*) FROM residents WHERE status = 'active' GROUP BY path, residence_type;

-- Current residents by place and care tag.
CREATE TABLE resident_tag_counts (
    path    TEXT COLLATE "C" NOT NULL,
    tag_id  TEXT NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (path, tag_id)
);

INSERT INTO resident_tag_counts (path, tag_id, n)
SELECT r.path, rt.tag_id, COUNT(*) FROM resident_tags rt JOIN residents r ON r.id = rt.resident_id
WHERE r.status = 'active' GROUP BY r.path, rt.tag_id;

-- A resident's row: their residence type's count, and their tags' counts when
-- they arrive at, leave or move within the current residents.
CREATE FUNCTION resident_counts_upkeep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'active' THEN
        UPDATE resident_counts SET n = n - 1 WHERE path = OLD.path AND residence_type = OLD.residence_type;
        IF TG_OP = 'UPDATE' AND (OLD.path IS DISTINCT FROM NEW.path OR NEW.status <> 'active') THEN
            UPDATE resident_tag_counts SET n = n - 1
            WHERE path = OLD.path AND tag_id IN (SELECT tag_id FROM resident_tags WHERE resident_id = OLD.id);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'active' THEN
        INSERT INTO resident_counts (path, residence_type, n) VALUES (NEW.path, NEW.residence_type, 1)
        ON CONFLICT (path, residence_type) DO UPDATE SET n = resident_counts.n + 1;
        IF TG_OP = 'UPDATE' AND (OLD.path IS DISTINCT FROM NEW.path OR OLD.status <> 'active') THEN
            INSERT INTO resident_tag_counts (path, tag_id, n)
            SELECT NEW.path, tag_id, 1 FROM resident_tags WHERE resident_id = NEW.id
            ON CONFLICT (path, tag_id) DO UPDATE SET n = resident_tag_counts.n + 1;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER resident_counts_insert AFTER INSERT ON residents
    FOR EACH ROW EXECUTE FUNCTION resident_counts_upkeep();
CREATE TRIGGER resident_counts_update AFTER UPDATE OF path, residence_type, status ON residents
    FOR EACH ROW
    WHEN (OLD.path IS DISTINCT FROM NEW.path OR OLD.residence_type IS DISTINCT FROM NEW.residence_type
        OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION resident_counts_upkeep();
CREATE TRIGGER resident_counts_delete AFTER DELETE ON residents
    FOR EACH ROW EXECUTE FUNCTION resident_counts_upkeep();

-- A tag given or taken: counted where its resident is, if current.
CREATE FUNCTION resident_tag_counts_upkeep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO resident_tag_counts (path, tag_id, n)
        SELECT r.path, NEW.tag_id, 1 FROM residents r WHERE r.id = NEW.resident_id AND r.status = 'active'
        ON CONFLICT (path, tag_id) DO UPDATE SET n = resident_tag_counts.n + 1;
    ELSE
        UPDATE resident_tag_counts SET n = n - 1
        WHERE tag_id = OLD.tag_id
            AND path = (SELECT r.path FROM residents r WHERE r.id = OLD.resident_id AND r.status = 'active');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER resident_tag_counts_insert AFTER INSERT ON resident_tags
    FOR EACH ROW EXECUTE FUNCTION resident_tag_counts_upkeep();
CREATE TRIGGER resident_tag_counts_delete AFTER DELETE ON resident_tags
    FOR EACH ROW EXECUTE FUNCTION resident_tag_counts_upkeep();
