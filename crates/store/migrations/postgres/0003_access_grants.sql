-- "Break the glass": time-limited access to names, taken for a stated reason.
-- Identical on SQLite and PostgreSQL apart from the path collation.
CREATE TABLE access_grants (
    id          TEXT PRIMARY KEY,
    actor_id    TEXT NOT NULL,        -- account or token
    area_id     TEXT NOT NULL REFERENCES areas(id),
    path        TEXT COLLATE "C" NOT NULL,
    reason      TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX access_grants_actor ON access_grants(actor_id, expires_at);
