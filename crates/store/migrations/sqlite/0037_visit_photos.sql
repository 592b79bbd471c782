-- Home visits: where the visit happened and a photo of it, both optional (issue 19).
-- `location` is as the visitor wrote it (小区南门, 活动室): a door or video visit is
-- at the household already; a call or a chance meeting may say where. Photos are
-- kept in the database like a demand's, served only inside the community.
-- Kept in step with the other engine's 0037 (the migration-trees test checks it).
ALTER TABLE visits ADD COLUMN location TEXT;
CREATE TABLE visit_photos (
    id            TEXT PRIMARY KEY,
    visit_id      TEXT NOT NULL REFERENCES visits(id),
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    data          BLOB NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX visit_photos_visit ON visit_photos(visit_id);
