-- The items created by category in a whole past month, kept once counted
-- (`past_figures`, source 'categories'; issue 18, the year's page of a city). The
-- cockpit's year reads its area's and each child's items by category from the
-- day roll-up `demand_days` (0063): ~3,000 rows an area, on as many pages as a
-- live table has days, for the city and its 18 districts (the page's p95 311 ms
-- on PostgreSQL, target 300). Past months do not change but by a correction, so
-- their counts are kept as the other past figures are (0065, which says why the
-- rule is safe): a year is its 11 kept months and the days of this one.
--
-- What the counts read, so what drops them: an item's place, creation and
-- category. An item entered, removed or changed in those with a creation before
-- the last hour drops the rows of the areas holding it for the periods that
-- ended after its creation. Kept in step with
-- ../postgres/0072_past_categories.sql.
-- An item entered: intake's path, so the insert trigger of 0065 drops both
-- sources in one statement rather than a second trigger running on every item.
DROP TRIGGER past_figures_demand_insert;
CREATE TRIGGER past_figures_demand_insert AFTER INSERT ON demands
WHEN NEW.created_at < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source IN ('demands', 'categories') AND to_ms > NEW.created_at
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = NEW.path);
END;

CREATE TRIGGER past_figures_categories_delete AFTER DELETE ON demands
WHEN OLD.created_at < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'categories' AND to_ms > OLD.created_at
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
END;

CREATE TRIGGER past_figures_categories_update AFTER UPDATE OF path, created_at, category ON demands
WHEN (OLD.path IS NOT NEW.path OR OLD.created_at IS NOT NEW.created_at OR OLD.category IS NOT NEW.category)
    AND min(OLD.created_at, NEW.created_at) < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'categories' AND to_ms > min(OLD.created_at, NEW.created_at)
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path IN (OLD.path, NEW.path));
END;
