-- Residents sign in with their phone number, and get back in through their grid
-- member when they forget the password (store::security::recovery, docs/security.md).
-- Identical on SQLite and PostgreSQL apart from the path collation.

-- The phone an account signs in with: sealed (bound to the account's row) and
-- blind-indexed; never in plain text. The user name stays generated.
ALTER TABLE accounts ADD COLUMN phone_enc TEXT;
ALTER TABLE accounts ADD COLUMN phone_hash TEXT;
CREATE UNIQUE INDEX accounts_phone ON accounts(phone_hash);

-- One-time codes a grid member (or community staff) issues after seeing the person
-- or their ID card. Only a keyed hash of the code is kept; a code works once, within
-- its time, and dies after a few wrong tries. Issuing a new one ends the old one.
CREATE TABLE recovery_codes (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    code_hash       TEXT NOT NULL,
    path            TEXT NOT NULL,      -- the household's place, for scope and the audit log
    issued_by       TEXT NOT NULL,         -- the staff account
    seen_in_person  SMALLINT NOT NULL,     -- they confirmed they saw the person or their ID card
    issued_at       BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    failed_tries    SMALLINT NOT NULL DEFAULT 0,
    used_at         BIGINT,
    ended_at        BIGINT                 -- replaced by a newer code, or too many wrong tries
);
CREATE INDEX recovery_codes_account ON recovery_codes(account_id, issued_at);
