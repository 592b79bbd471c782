-- Imports started in the browser: the uploaded file, the column mapping, the checked
-- report and, while writing, the progress. Kept in the database rather than in one
-- server's memory so that any app server sharing the database can show or continue
-- a job. Identical on SQLite and PostgreSQL apart from the blob type and collation.
CREATE TABLE import_jobs (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL,
    community_id   TEXT NOT NULL REFERENCES areas(id),
    path           TEXT NOT NULL,    -- the community's path, for scope
    file_name      TEXT NOT NULL,
    content        BLOB NOT NULL,
    mapping        TEXT NOT NULL,         -- JSON: [[header text, field key], …]
    status         TEXT NOT NULL,         -- checked, running, done, failed
    done           BIGINT NOT NULL DEFAULT 0,
    total          BIGINT NOT NULL DEFAULT 0,
    report         TEXT,                  -- JSON of the last check or the result
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX import_jobs_account ON import_jobs(account_id, created_at);
