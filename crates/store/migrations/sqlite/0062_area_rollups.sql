-- Roll-ups kept at every level of the hierarchy (issue 18, "figures that scale";
-- DHIS2 keeps its analytics by org unit at every level the same way, but rebuilds
-- them by a job: these are kept by triggers in the same transaction as the rows).
--
-- The summaries of 0028 are kept at each row's own place (a grid), so a district's
-- figure sums every grid's rows; for a figure with a long key (people by sex and
-- birth month; tagged people by the day they were last met) a grid's rows are
-- nearly as many as its people, and the sum was as slow as counting the people
-- (the district's population pyramid took 60 ms, the care tags' coverage 49 ms).
-- A roll-up keeps the same count once for the row's place and once for each of
-- its ancestors and for the whole deployment ('/'): any area's figure is then the
-- few rows of its own path, however large the area.
--
-- `area_ancestors` lists, for each area's path, itself, its ancestors and '/'
-- (SQLite's triggers cannot use a recursive query, so the ancestors of a row's
-- place are looked up here). Areas never change their path; a new area takes its
-- parent's ancestors. `wangge figures verify` recomputes all three tables
-- (store::summaries). Kept in step with ../postgres/0062_area_rollups.sql; the
-- tables and backfills are the same, the triggers differ only in how each engine
-- writes a trigger.
CREATE TABLE area_ancestors (
    path      TEXT NOT NULL,
    ancestor  TEXT NOT NULL,
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

CREATE TRIGGER area_ancestors_insert AFTER INSERT ON areas
BEGIN
    INSERT INTO area_ancestors (path, ancestor)
    SELECT NEW.path, a.ancestor FROM area_ancestors a
    WHERE a.path = (SELECT p.path FROM areas p WHERE p.id = NEW.parent_id);
    INSERT INTO area_ancestors (path, ancestor) VALUES (NEW.path, NEW.path);
    INSERT INTO area_ancestors (path, ancestor) SELECT NEW.path, '/' WHERE NEW.parent_id IS NULL;
END;

-- Current residents by sex and month of birth ('YYYY-MM'), at every level: the age
-- bands and the population pyramid. A band's edge falls inside a month (someone is
-- 60 from the day of their birthday), so the months holding today's edges are
-- counted from `residents_born` (store::cockpit::registry).
CREATE TABLE resident_births (
    path    TEXT NOT NULL,
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

-- The edges' months of a large area: the people born in a few days of a few years,
-- wherever they live.
CREATE INDEX residents_born ON residents(birth_date, path, gender, status) WHERE status = 'active';

CREATE TRIGGER area_rollup_births_insert AFTER INSERT ON residents
WHEN NEW.status = 'active'
BEGIN
    INSERT INTO resident_births (path, gender, month, n)
    SELECT a.ancestor, NEW.gender, substr(NEW.birth_date, 1, 7), 1 FROM area_ancestors a WHERE a.path = NEW.path
    ON CONFLICT (path, gender, month) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER area_rollup_births_update AFTER UPDATE OF path, status, gender, birth_date ON residents
WHEN (OLD.path IS NOT NEW.path OR OLD.status IS NOT NEW.status OR OLD.gender IS NOT NEW.gender
        OR OLD.birth_date IS NOT NEW.birth_date)
    AND (OLD.status = 'active' OR NEW.status = 'active')
BEGIN
    UPDATE resident_births SET n = n - 1
    WHERE OLD.status = 'active' AND gender = OLD.gender AND month = substr(OLD.birth_date, 1, 7)
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
    INSERT INTO resident_births (path, gender, month, n)
    SELECT a.ancestor, NEW.gender, substr(NEW.birth_date, 1, 7), 1 FROM area_ancestors a
    WHERE a.path = NEW.path AND NEW.status = 'active'
    ON CONFLICT (path, gender, month) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER area_rollup_births_delete AFTER DELETE ON residents
WHEN OLD.status = 'active'
BEGIN
    UPDATE resident_births SET n = n - 1
    WHERE gender = OLD.gender AND month = substr(OLD.birth_date, 1, 7)
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
END;

-- Current residents living in a household, by care tag and the last day they were
-- met (`residents.last_met_on`, 0040; '' never), at every level: the care tags'
-- coverage of the last 90 days is the rows of the area's path whose day lies in
-- the window. Only a window that has ended before someone's last day (a past
-- period's report) asks the visits (store::visits::figures::by_tag).
CREATE TABLE tag_met_days (
    path    TEXT NOT NULL,
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

CREATE TRIGGER area_rollup_tags_insert AFTER INSERT ON resident_tags
BEGIN
    INSERT INTO tag_met_days (path, tag_id, met_on, n)
    SELECT a.ancestor, NEW.tag_id, COALESCE(r.last_met_on, ''), 1
    FROM residents r JOIN area_ancestors a ON a.path = r.path
    WHERE r.id = NEW.resident_id AND r.status = 'active' AND r.household_id IS NOT NULL
    ON CONFLICT (path, tag_id, met_on) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER area_rollup_tags_delete AFTER DELETE ON resident_tags
BEGIN
    UPDATE tag_met_days SET n = n - 1
    WHERE tag_id = OLD.tag_id
        AND (path, met_on) IN (
            SELECT a.ancestor, COALESCE(r.last_met_on, '')
            FROM residents r JOIN area_ancestors a ON a.path = r.path
            WHERE r.id = OLD.resident_id AND r.status = 'active' AND r.household_id IS NOT NULL);
END;

CREATE TRIGGER area_rollup_tags_resident AFTER UPDATE OF path, status, household_id, last_met_on ON residents
WHEN (OLD.path IS NOT NEW.path OR OLD.status IS NOT NEW.status OR OLD.household_id IS NOT NEW.household_id
        OR OLD.last_met_on IS NOT NEW.last_met_on)
    AND ((OLD.status = 'active' AND OLD.household_id IS NOT NULL)
        OR (NEW.status = 'active' AND NEW.household_id IS NOT NULL))
BEGIN
    UPDATE tag_met_days SET n = n - 1
    WHERE OLD.status = 'active' AND OLD.household_id IS NOT NULL
        AND met_on = COALESCE(OLD.last_met_on, '')
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path)
        AND tag_id IN (SELECT tag_id FROM resident_tags WHERE resident_id = OLD.id);
    INSERT INTO tag_met_days (path, tag_id, met_on, n)
    SELECT a.ancestor, rt.tag_id, COALESCE(NEW.last_met_on, ''), 1
    FROM resident_tags rt JOIN area_ancestors a ON a.path = NEW.path
    WHERE rt.resident_id = NEW.id AND NEW.status = 'active' AND NEW.household_id IS NOT NULL
    ON CONFLICT (path, tag_id, met_on) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER area_rollup_tags_resident_delete AFTER DELETE ON residents
WHEN OLD.status = 'active' AND OLD.household_id IS NOT NULL
BEGIN
    UPDATE tag_met_days SET n = n - 1
    WHERE met_on = COALESCE(OLD.last_met_on, '')
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path)
        AND tag_id IN (SELECT tag_id FROM resident_tags WHERE resident_id = OLD.id);
END;
