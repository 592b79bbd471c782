-- The grid team roster (issue 15): the "1 + X + N" of each grid as people, not slots.
-- Kept in step with the other engine's 0015 (the migration-trees test checks it).
--
-- A post's private phone is protected like residents' (store::vault): sealed in
-- phone_enc, with a blind index. The plain `phone` column of 0001 stays only so that
-- rows written before this migration can be read once: `team::seal_plain_phones`
-- (run by `Db::migrate`, because SQL cannot seal) moves them into phone_enc and
-- clears it; nothing writes it any more.
ALTER TABLE grid_posts ADD COLUMN phone_enc TEXT;
ALTER TABLE grid_posts ADD COLUMN phone_hash TEXT;
-- The public duty phone (值班电话) is shown on the grid's public face only when the
-- person agreed, and when they agreed is recorded.
ALTER TABLE grid_posts ADD COLUMN duty_phone TEXT;
ALTER TABLE grid_posts ADD COLUMN duty_phone_consent_at BIGINT;
ALTER TABLE grid_posts ADD COLUMN duties TEXT NOT NULL DEFAULT '';
ALTER TABLE grid_posts ADD COLUMN account_id TEXT REFERENCES accounts(id);
-- From/to dates (YYYY-MM-DD): ending a post dates it, nobody is deleted.
ALTER TABLE grid_posts ADD COLUMN starts_on TEXT;
ALTER TABLE grid_posts ADD COLUMN ends_on TEXT;
ALTER TABLE grid_posts ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE grid_posts SET updated_at = created_at;
CREATE INDEX grid_posts_account ON grid_posts(account_id, ends_on);

-- The buildings a post looks after (a grid member's, a building head's).
CREATE TABLE grid_post_buildings (
    post_id      TEXT NOT NULL REFERENCES grid_posts(id),
    building_id  TEXT NOT NULL REFERENCES buildings(id),
    PRIMARY KEY (post_id, building_id)
);
CREATE INDEX grid_post_buildings_building ON grid_post_buildings(building_id);
