-- Dispatch to someone real, call-back and the grid's public face (issue 15, part 3).
-- Kept in step with the other engine's 0016 (the migration-trees test checks it).

-- Per community: a resident's report (the building's QR poster, the portal) in a
-- building whose grid has a grid member looking after it goes straight to them
-- (or to the category's default route), recorded in the timeline as automatic.
ALTER TABLE areas ADD COLUMN auto_dispatch SMALLINT NOT NULL DEFAULT 0;
-- Per community: the hotline printed on the grids' public face (网格公示牌).
ALTER TABLE areas ADD COLUMN hotline TEXT;

-- A category's default route at a level: `post:<TeamPost code>` (the holder of that
-- post looking after the item's building, else in its grid) or `unit:<UnitRole code>`
-- (the nearest unit holding that role over the item's place). Categories are
-- shared by every community, so a route names a post or a kind of unit, never one
-- community's person.
CREATE TABLE category_routes (
    category    TEXT NOT NULL REFERENCES demand_categories(code),
    level       TEXT NOT NULL,
    target      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (category, level)
);
