-- Party building, issue 22 (docs/party.md): accounts opened for members who have
-- none (in-service members who do not live in the community), and access to the
-- membership roll granted by name.

-- Set when the account was opened for the member from the Party pages: such an
-- account (while bound to no household) is disabled when the member stops being
-- active, and enabled again only by staff.
ALTER TABLE party_members ADD COLUMN account_opened SMALLINT NOT NULL DEFAULT 0;

-- Access to a community's roll (member list and member pages) granted to a named
-- account of the community by its Party secretary or secretary, with a reason,
-- until revoked. `path`: the community's.
CREATE TABLE party_roll_grants (
    id               TEXT PRIMARY KEY,
    community_id     TEXT NOT NULL REFERENCES areas(id),
    path             TEXT NOT NULL,
    account_id       TEXT NOT NULL REFERENCES accounts(id),
    reason           TEXT NOT NULL,
    granted_by_name  TEXT NOT NULL,
    granted_at       BIGINT NOT NULL,
    revoked_at       BIGINT,
    revoked_by_name  TEXT
);
CREATE INDEX party_roll_grants_account ON party_roll_grants(account_id, revoked_at);
CREATE INDEX party_roll_grants_path ON party_roll_grants(path, granted_at);
-- One live grant per account and community.
CREATE UNIQUE INDEX party_roll_grants_live ON party_roll_grants(community_id, account_id) WHERE revoked_at IS NULL;
