-- Roll-ups kept at every level of the hierarchy (issue 18): people by sex and
-- month of birth, and tagged people by the day they were last met, kept once for
-- a row's place, once for each of its ancestors and once for the deployment ('/'),
-- so that any area's figure is the few rows of its own path. Kept in step with
-- ../sqlite/0062_area_rollups.sql, which says why; the tables and backfills are the
-- same, the triggers differ only in how each engine writes a trigger. Rows are
-- written in key order (the `ORDER BY`s), the order concurrent writers meet them in.
CREATE TABLE area_ancestors (
    path      TEXT COLLATE "C" NOT NULL,
    ancestor  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (path, ancestor)
);

WITH RECURSIVE up (path, ancestor, parent_id) AS (
    SELECT path, path, parent_id FROM areas
    UNION ALL
    SELECT up.path, p.path, p.parent_id FROM up JOIN areas p ON p.id = up.parent_id
)
INSERT INTO area_ancestors (path, ancestor)
SELECT path, ancestor FROM up
UNION
SELECT path, '/' FROM areas;

CREATE FUNCTION area_ancestors_upkeep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO area_ancestors (path, ancestor)
    SELECT NEW.path, a.ancestor FROM area_ancestors a
    WHERE a.path = (SELECT p.path FROM areas p WHERE p.id = NEW.parent_id);
    INSERT INTO area_ancestors (path, ancestor) VALUES (NEW.path, NEW.path);
    IF NEW.parent_id IS NULL THEN
        INSERT INTO area_ancestors (path, ancestor) VALUES (NEW.path, '/');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER area_ancestors_insert AFTER INSERT ON areas
    FOR EACH ROW EXECUTE FUNCTION area_ancestors_upkeep();

CREATE TABLE resident_births (
    path    TEXT COLLATE "C" NOT NULL,
    gender  TEXT NOT NULL,
    month   TEXT NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (path, gender, month)
);

INSERT INTO resident_births (path, gender, month, n)
SELECT a.ancestor, r.gender, substr(r.birth_date, 1, 7), COUNT(*)
FROM residents r JOIN area_ancestors a ON a.path = r.path
WHERE r.status = 'active'
GROUP BY a.ancestor, r.gender, substr(r.birth_date, 1, 7);

CREATE INDEX residents_born ON residents(birth_date, path, gender, status) WHERE status = 'active';

CREATE FUNCTION area_rollup_births() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'active' THEN
        UPDATE resident_births b SET n = b.n - 1
        FROM (SELECT ancestor FROM area_ancestors WHERE path = OLD.path ORDER BY ancestor) a
        WHERE b.path = a.ancestor AND b.gender = OLD.gender AND b.month = substr(OLD.birth_date, 1, 7);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'active' THEN
        INSERT INTO resident_births (path, gender, month, n)
        SELECT a.ancestor, NEW.gender, substr(NEW.birth_date, 1, 7), 1 FROM area_ancestors a
        WHERE a.path = NEW.path ORDER BY a.ancestor
        ON CONFLICT (path, gender, month) DO UPDATE SET n = resident_births.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER area_rollup_births_insert AFTER INSERT ON residents
    FOR EACH ROW WHEN (NEW.status = 'active') EXECUTE FUNCTION area_rollup_births();
CREATE TRIGGER area_rollup_births_update AFTER UPDATE OF path, status, gender, birth_date ON residents
    FOR EACH ROW
    WHEN ((OLD.path IS DISTINCT FROM NEW.path OR OLD.status IS DISTINCT FROM NEW.status
            OR OLD.gender IS DISTINCT FROM NEW.gender OR OLD.birth_date IS DISTINCT FROM NEW.birth_date)
        AND (OLD.status = 'active' OR NEW.status = 'active'))
    EXECUTE FUNCTION area_rollup_births();
CREATE TRIGGER area_rollup_births_delete AFTER DELETE ON residents
    FOR EACH ROW WHEN (OLD.status = 'active') EXECUTE FUNCTION area_rollup_births();

CREATE TABLE tag_met_days (
    path    TEXT COLLATE "C" NOT NULL,
    tag_id  TEXT NOT NULL,
    met_on  TEXT NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (path, tag_id, met_on)
);

INSERT INTO tag_met_days (path, tag_id, met_on, n)
SELECT a.ancestor, rt.tag_id, COALESCE(r.last_met_on, ''), COUNT(*)
FROM residents r JOIN resident_tags rt ON rt.resident_id = r.id JOIN area_ancestors a ON a.path = r.path
WHERE r.status = 'active' AND r.household_id IS NOT NULL
GROUP BY a.ancestor, rt.tag_id, COALESCE(r.last_met_on, '');

-- A tag given or taken.
CREATE FUNCTION area_rollup_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tag_met_days (path, tag_id, met_on, n)
        SELECT a.ancestor, NEW.tag_id, COALESCE(r.last_met_on, ''), 1
        FROM residents r JOIN area_ancestors a ON a.path = r.path
        WHERE r.id = NEW.resident_id AND r.status = 'active' AND r.household_id IS NOT NULL
        ORDER BY a.ancestor
        ON CONFLICT (path, tag_id, met_on) DO UPDATE SET n = tag_met_days.n + 1;
    ELSE
        UPDATE tag_met_days t SET n = t.n - 1
        FROM (SELECT a.ancestor, COALESCE(r.last_met_on, '') AS met_on
              FROM residents r JOIN area_ancestors a ON a.path = r.path
              WHERE r.id = OLD.resident_id AND r.status = 'active' AND r.household_id IS NOT NULL
              ORDER BY a.ancestor) o
        WHERE t.path = o.ancestor AND t.tag_id = OLD.tag_id AND t.met_on = o.met_on;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER area_rollup_tags_insert AFTER INSERT ON resident_tags
    FOR EACH ROW EXECUTE FUNCTION area_rollup_tags();
CREATE TRIGGER area_rollup_tags_delete AFTER DELETE ON resident_tags
    FOR EACH ROW EXECUTE FUNCTION area_rollup_tags();

-- A resident moving, leaving, arriving in a household or met again.
CREATE FUNCTION area_rollup_tags_resident() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'active' AND OLD.household_id IS NOT NULL THEN
        UPDATE tag_met_days t SET n = t.n - 1
        FROM (SELECT a.ancestor, rt.tag_id
              FROM resident_tags rt JOIN area_ancestors a ON a.path = OLD.path
              WHERE rt.resident_id = OLD.id ORDER BY a.ancestor, rt.tag_id) o
        WHERE t.path = o.ancestor AND t.tag_id = o.tag_id AND t.met_on = COALESCE(OLD.last_met_on, '');
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status = 'active' AND NEW.household_id IS NOT NULL THEN
        INSERT INTO tag_met_days (path, tag_id, met_on, n)
        SELECT a.ancestor, rt.tag_id, COALESCE(NEW.last_met_on, ''), 1
        FROM resident_tags rt JOIN area_ancestors a ON a.path = NEW.path
        WHERE rt.resident_id = NEW.id ORDER BY a.ancestor, rt.tag_id
        ON CONFLICT (path, tag_id, met_on) DO UPDATE SET n = tag_met_days.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER area_rollup_tags_resident AFTER UPDATE OF path, status, household_id, last_met_on ON residents
    FOR EACH ROW
    WHEN ((OLD.path IS DISTINCT FROM NEW.path OR OLD.status IS DISTINCT FROM NEW.status
            OR OLD.household_id IS DISTINCT FROM NEW.household_id
            OR OLD.last_met_on IS DISTINCT FROM NEW.last_met_on)
        AND ((OLD.status = 'active' AND OLD.household_id IS NOT NULL)
            OR (NEW.status = 'active' AND NEW.household_id IS NOT NULL)))
    EXECUTE FUNCTION area_rollup_tags_resident();
CREATE TRIGGER area_rollup_tags_resident_delete AFTER DELETE ON residents
    FOR EACH ROW WHEN (OLD.status = 'active' AND OLD.household_id IS NOT NULL)
    EXECUTE FUNCTION area_rollup_tags_resident();
