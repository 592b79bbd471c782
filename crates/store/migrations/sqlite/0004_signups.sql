-- Residents who signed up themselves, waiting for their grid member to confirm them.
-- The account exists (disabled) from the start; confirming binds it to the household
-- and enables it. Identical on SQLite and PostgreSQL apart from the path collation.
CREATE TABLE signups (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    resident_id  TEXT NOT NULL REFERENCES residents(id),
    household_id TEXT NOT NULL REFERENCES households(id),
    path         TEXT NOT NULL,        -- the household's place, for scope
    status       TEXT NOT NULL,           -- pending, confirmed, rejected
    requested_at BIGINT NOT NULL,
    decided_at   BIGINT,
    decided_by   TEXT
);
CREATE INDEX signups_pending ON signups(status, path);
