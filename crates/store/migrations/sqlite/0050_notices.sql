-- Notices (issue 24): written in a community or a grid (`area_id`, `path` its
-- materialised path), reviewed, then published at once or at `publish_at`, until
-- `expires_at`. No target rows: everyone in the area; else anyone matching one
-- target (a grid, a building, a tag of someone in the household). Residents with
-- accounts leave a read row when they open it; important notices not read are a
-- list for the grid member.
CREATE TABLE notices (
    id             TEXT PRIMARY KEY,
    area_id        TEXT NOT NULL REFERENCES areas(id),
    path           TEXT NOT NULL,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    important      SMALLINT NOT NULL DEFAULT 0,
    pinned         SMALLINT NOT NULL DEFAULT 0,
    state          TEXT NOT NULL,
    publish_at     BIGINT,
    expires_at     BIGINT,
    author_id      TEXT NOT NULL,
    author_name    TEXT NOT NULL,
    reviewer_name  TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX notices_path ON notices(path, state);

CREATE TABLE notice_targets (
    notice_id  TEXT NOT NULL REFERENCES notices(id),
    kind       TEXT NOT NULL,
    target_id  TEXT NOT NULL,
    PRIMARY KEY (notice_id, kind, target_id)
);

CREATE TABLE notice_reads (
    notice_id   TEXT NOT NULL REFERENCES notices(id),
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    read_at     BIGINT NOT NULL,
    PRIMARY KEY (notice_id, account_id)
);
