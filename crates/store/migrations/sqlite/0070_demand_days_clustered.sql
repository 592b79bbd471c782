-- The roll-up of items created and closed per day and category (0063) stored in
-- the order it is read (issue 18, the year's page of a city). An area's year is
-- ~3,000 rows of `demand_days` (365 days × the categories used). The table kept
-- its rows in the order written, its primary key in an index beside it, so each
-- row found by the key was then read from a page where one area's rows lay among
-- every other area's (3.8 million rows for a city): a street's or a district's
-- year took 15–22 ms against under 1 ms for a week, and the cockpit's year page of
-- a city, which reads it for each of its 18 districts, 398 ms (target 300). As a
-- WITHOUT ROWID table the rows are the primary key's b-tree itself: an area's days
-- lie together, and a write changes one b-tree instead of two.
--
-- Rebuilt and renamed with `legacy_alter_table` on: the triggers on `demands` that
-- write here (0063) name `demand_days`, which does not exist between the DROP and
-- the RENAME, and the modern RENAME re-checks every trigger and would refuse.
-- PostgreSQL keeps its table (../postgres/0070_demand_days_clustered.sql).
PRAGMA legacy_alter_table = ON;

CREATE TABLE demand_days_clustered (
    path     TEXT NOT NULL,
    day      BIGINT NOT NULL,
    category TEXT NOT NULL,
    created  BIGINT NOT NULL,
    closed   BIGINT NOT NULL,
    PRIMARY KEY (path, day, category)
) WITHOUT ROWID;

INSERT INTO demand_days_clustered (path, day, category, created, closed)
SELECT path, day, category, created, closed FROM demand_days;

DROP TABLE demand_days;

ALTER TABLE demand_days_clustered RENAME TO demand_days;

PRAGMA legacy_alter_table = OFF;
