-- Photos taken at the door for a campaign's photo questions (issue 20). A photo is
-- stored when its page of the form is sent and named by its id in the answers;
-- `kept_at` is set when answers naming it are recorded. Photos never kept (a form
-- left half-way) are deleted by the hourly sweep a day later, and a campaign's
-- photos go with its answers when its retention period ends.
-- Kept in step with the other engine's 0034 (the migration-trees test checks it).
CREATE TABLE campaign_photos (
    id            TEXT PRIMARY KEY,
    target_id     TEXT NOT NULL REFERENCES campaign_targets(id),
    question      TEXT NOT NULL,
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    data          BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    kept_at       BIGINT
);
CREATE INDEX campaign_photos_target ON campaign_photos(target_id, question);
CREATE INDEX campaign_photos_loose ON campaign_photos(kept_at, created_at);
