-- A notice's attachments (issue 24): images and PDFs (the demands' file rules),
-- added and removed while the notice is a draft, shown with it to staff and to
-- the residents it reaches.
CREATE TABLE notice_files (
    id            TEXT PRIMARY KEY,
    notice_id     TEXT NOT NULL REFERENCES notices(id),
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    data          BYTEA NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX notice_files_of ON notice_files(notice_id, created_at);
