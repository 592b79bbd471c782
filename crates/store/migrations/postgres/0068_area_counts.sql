-- The registry's counts and the team's posts at every level of the hierarchy
-- (issue 18, a city of 7,000,000). See ../sqlite/0068_area_counts.sql for the whole
-- story; the tables and backfills are the same, the triggers differ only in how
-- each engine writes a trigger. Rows are written in key order (the `ORDER BY`s),
-- the order concurrent writers meet them in.
CREATE TABLE area_counts (
    path    TEXT COLLATE "C" NOT NULL,
    source  TEXT NOT NULL,
    k       TEXT NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (path, source, k)
);

INSERT INTO area_counts (path, source, k, n)
SELECT a.ancestor, 'resident_counts', s.residence_type, SUM(s.n)
FROM resident_counts s JOIN area_ancestors a ON a.path = s.path GROUP BY a.ancestor, s.residence_type
UNION ALL
SELECT a.ancestor, 'resident_tag_counts', s.tag_id, SUM(s.n)
FROM resident_tag_counts s JOIN area_ancestors a ON a.path = s.path GROUP BY a.ancestor, s.tag_id
UNION ALL
SELECT a.ancestor, 'place_counts', s.kind, SUM(s.n)
FROM place_counts s JOIN area_ancestors a ON a.path = s.path GROUP BY a.ancestor, s.kind;

-- A summary row's change, passed to each ancestor of its place. The trigger's
-- argument names the summary's key column.
CREATE FUNCTION area_rollup_summary() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta bigint;
    place text;
    key text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        delta := -OLD.n;
        place := OLD.path;
        key := to_jsonb(OLD) ->> TG_ARGV[0];
    ELSE
        delta := NEW.n - CASE WHEN TG_OP = 'UPDATE' THEN OLD.n ELSE 0 END;
        place := NEW.path;
        key := to_jsonb(NEW) ->> TG_ARGV[0];
    END IF;
    IF delta <> 0 THEN
        INSERT INTO area_counts (path, source, k, n)
        SELECT ancestor, TG_TABLE_NAME, key, delta FROM area_ancestors WHERE path = place ORDER BY ancestor
        ON CONFLICT (path, source, k) DO UPDATE SET n = area_counts.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER area_rollup_resident_counts AFTER INSERT OR UPDATE OF n OR DELETE ON resident_counts
    FOR EACH ROW EXECUTE FUNCTION area_rollup_summary('residence_type');
CREATE TRIGGER area_rollup_resident_tag_counts AFTER INSERT OR UPDATE OF n OR DELETE ON resident_tag_counts
    FOR EACH ROW EXECUTE FUNCTION area_rollup_summary('tag_id');
CREATE TRIGGER area_rollup_place_counts AFTER INSERT OR UPDATE OF n OR DELETE ON place_counts
    FOR EACH ROW EXECUTE FUNCTION area_rollup_summary('kind');

CREATE TABLE team_post_counts (
    path     TEXT COLLATE "C" NOT NULL,
    post     TEXT NOT NULL,
    ends_on  TEXT NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (path, post, ends_on)
);

INSERT INTO team_post_counts (path, post, ends_on, n)
SELECT a.ancestor, p.post, COALESCE(p.ends_on, ''), COUNT(*)
FROM grid_posts p JOIN areas g ON g.id = p.grid_id JOIN area_ancestors a ON a.path = g.path
GROUP BY a.ancestor, p.post, COALESCE(p.ends_on, '');

CREATE FUNCTION area_rollup_posts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE team_post_counts SET n = n - 1
        WHERE post = OLD.post AND ends_on = COALESCE(OLD.ends_on, '')
            AND path IN (SELECT a.ancestor FROM areas g JOIN area_ancestors a ON a.path = g.path
                         WHERE g.id = OLD.grid_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO team_post_counts (path, post, ends_on, n)
        SELECT a.ancestor, NEW.post, COALESCE(NEW.ends_on, ''), 1
        FROM areas g JOIN area_ancestors a ON a.path = g.path WHERE g.id = NEW.grid_id ORDER BY a.ancestor
        ON CONFLICT (path, post, ends_on) DO UPDATE SET n = team_post_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER area_rollup_posts_insert AFTER INSERT ON grid_posts
    FOR EACH ROW EXECUTE FUNCTION area_rollup_posts();
CREATE TRIGGER area_rollup_posts_update AFTER UPDATE OF grid_id, post, ends_on ON grid_posts
    FOR EACH ROW
    WHEN (OLD.grid_id IS DISTINCT FROM NEW.grid_id OR OLD.post IS DISTINCT FROM NEW.post
        OR OLD.ends_on IS DISTINCT FROM NEW.ends_on)
    EXECUTE FUNCTION area_rollup_posts();
CREATE TRIGGER area_rollup_posts_delete AFTER DELETE ON grid_posts
    FOR EACH ROW EXECUTE FUNCTION area_rollup_posts();
