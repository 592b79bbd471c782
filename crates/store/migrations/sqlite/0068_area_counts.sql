-- The registry's counts and the team's posts at every level of the hierarchy
-- (issue 18, a city of 7,000,000): residents by residence type, by care tag, and
-- buildings, households and organisations were kept per place (0028, 0038), so a
-- city's figure summed the rows of its 17,241 grids (169,000 tag rows: 0.4 s a
-- page), and its team counted 163,651 posts through their grids (0.17 s).
--
-- `area_counts` rolls those three summaries up: for each summary row, one row for
-- each ancestor of its place (itself, its ancestors and '/', `area_ancestors` of
-- 0062), written by triggers on the summary tables themselves, so whatever keeps a
-- summary keeps its roll-up in the same transaction. `source` names the summary,
-- `k` its key (the residence type, the tag's id, the kind of place).
--
-- `team_post_counts` counts the grids' posts by post and last day ('' still open)
-- at every level: posts current on a day are those whose `ends_on` is '' or not
-- before it, the few rows of the area's own path.
--
-- Both are roll-ups like 0062's and 0067's: triggers named `area_rollup_*`,
-- suspended and counted once by bulk loads (summaries::ROLLUPS_RECOUNT), checked
-- by `wangge figures verify`. Kept in step with ../postgres/0068_area_counts.sql.
CREATE TABLE area_counts (
    path    TEXT NOT NULL,
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

-- A summary row's change, passed to each ancestor of its place. The summaries'
-- own triggers only insert rows and move `n`; the delete triggers are for SQL
-- typed by hand.
CREATE TRIGGER area_rollup_resident_counts_insert AFTER INSERT ON resident_counts
BEGIN
    INSERT INTO area_counts (path, source, k, n)
    SELECT ancestor, 'resident_counts', NEW.residence_type, NEW.n FROM area_ancestors WHERE path = NEW.path
    ON CONFLICT (path, source, k) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER area_rollup_resident_counts_update AFTER UPDATE OF n ON resident_counts
WHEN NEW.n <> OLD.n
BEGIN
    INSERT INTO area_counts (path, source, k, n)
    SELECT ancestor, 'resident_counts', NEW.residence_type, NEW.n - OLD.n FROM area_ancestors WHERE path = NEW.path
    ON CONFLICT (path, source, k) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER area_rollup_resident_counts_delete AFTER DELETE ON resident_counts
BEGIN
    UPDATE area_counts SET n = n - OLD.n
    WHERE source = 'resident_counts' AND k = OLD.residence_type
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
END;

CREATE TRIGGER area_rollup_resident_tag_counts_insert AFTER INSERT ON resident_tag_counts
BEGIN
    INSERT INTO area_counts (path, source, k, n)
    SELECT ancestor, 'resident_tag_counts', NEW.tag_id, NEW.n FROM area_ancestors WHERE path = NEW.path
    ON CONFLICT (path, source, k) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER area_rollup_resident_tag_counts_update AFTER UPDATE OF n ON resident_tag_counts
WHEN NEW.n <> OLD.n
BEGIN
    INSERT INTO area_counts (path, source, k, n)
    SELECT ancestor, 'resident_tag_counts', NEW.tag_id, NEW.n - OLD.n FROM area_ancestors WHERE path = NEW.path
    ON CONFLICT (path, source, k) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER area_rollup_resident_tag_counts_delete AFTER DELETE ON resident_tag_counts
BEGIN
    UPDATE area_counts SET n = n - OLD.n
    WHERE source = 'resident_tag_counts' AND k = OLD.tag_id
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
END;

CREATE TRIGGER area_rollup_place_counts_insert AFTER INSERT ON place_counts
BEGIN
    INSERT INTO area_counts (path, source, k, n)
    SELECT ancestor, 'place_counts', NEW.kind, NEW.n FROM area_ancestors WHERE path = NEW.path
    ON CONFLICT (path, source, k) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER area_rollup_place_counts_update AFTER UPDATE OF n ON place_counts
WHEN NEW.n <> OLD.n
BEGIN
    INSERT INTO area_counts (path, source, k, n)
    SELECT ancestor, 'place_counts', NEW.kind, NEW.n - OLD.n FROM area_ancestors WHERE path = NEW.path
    ON CONFLICT (path, source, k) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER area_rollup_place_counts_delete AFTER DELETE ON place_counts
BEGIN
    UPDATE area_counts SET n = n - OLD.n
    WHERE source = 'place_counts' AND k = OLD.kind
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
END;

CREATE TABLE team_post_counts (
    path     TEXT NOT NULL,
    post     TEXT NOT NULL,
    ends_on  TEXT NOT NULL,   -- the post's last day, '' while open
    n        BIGINT NOT NULL,
    PRIMARY KEY (path, post, ends_on)
);

INSERT INTO team_post_counts (path, post, ends_on, n)
SELECT a.ancestor, p.post, COALESCE(p.ends_on, ''), COUNT(*)
FROM grid_posts p JOIN areas g ON g.id = p.grid_id JOIN area_ancestors a ON a.path = g.path
GROUP BY a.ancestor, p.post, COALESCE(p.ends_on, '');

CREATE TRIGGER area_rollup_posts_insert AFTER INSERT ON grid_posts
BEGIN
    INSERT INTO team_post_counts (path, post, ends_on, n)
    SELECT a.ancestor, NEW.post, COALESCE(NEW.ends_on, ''), 1
    FROM areas g JOIN area_ancestors a ON a.path = g.path WHERE g.id = NEW.grid_id
    ON CONFLICT (path, post, ends_on) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER area_rollup_posts_update AFTER UPDATE OF grid_id, post, ends_on ON grid_posts
WHEN OLD.grid_id IS NOT NEW.grid_id OR OLD.post IS NOT NEW.post OR OLD.ends_on IS NOT NEW.ends_on
BEGIN
    UPDATE team_post_counts SET n = n - 1
    WHERE post = OLD.post AND ends_on = COALESCE(OLD.ends_on, '')
        AND path IN (SELECT a.ancestor FROM areas g JOIN area_ancestors a ON a.path = g.path WHERE g.id = OLD.grid_id);
    INSERT INTO team_post_counts (path, post, ends_on, n)
    SELECT a.ancestor, NEW.post, COALESCE(NEW.ends_on, ''), 1
    FROM areas g JOIN area_ancestors a ON a.path = g.path WHERE g.id = NEW.grid_id
    ON CONFLICT (path, post, ends_on) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER area_rollup_posts_delete AFTER DELETE ON grid_posts
BEGIN
    UPDATE team_post_counts SET n = n - 1
    WHERE post = OLD.post AND ends_on = COALESCE(OLD.ends_on, '')
        AND path IN (SELECT a.ancestor FROM areas g JOIN area_ancestors a ON a.path = g.path WHERE g.id = OLD.grid_id);
END;
