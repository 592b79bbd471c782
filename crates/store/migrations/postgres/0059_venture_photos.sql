-- Photos of a micro venture project (issue 25): the site when it applied, its
-- milestones, its result; each with a caption. Shown to staff, and to the
-- residents of its community once the project is finished.
CREATE TABLE venture_photos (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES venture_applications(id),
    caption         TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            BIGINT NOT NULL,
    data            BYTEA NOT NULL,
    by_name         TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX venture_photos_of ON venture_photos(application_id, created_at);
