-- Accounts, sessions, API tokens, login throttling and the audit log.
-- Identical on SQLite and PostgreSQL (see ../postgres/0002_security.sql).

CREATE TABLE accounts (
    id                    TEXT PRIMARY KEY,
    username              TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    password_hash         TEXT NOT NULL,        -- Argon2id, PHC string
    role                  TEXT NOT NULL,
    must_change_password  SMALLINT NOT NULL DEFAULT 1,
    disabled              SMALLINT NOT NULL DEFAULT 0,
    household_id          TEXT,                 -- residents: the household they are bound to
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);

-- Where an account may look: one or more nodes of the hierarchy and their subtrees.
CREATE TABLE account_scopes (
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    area_id     TEXT NOT NULL REFERENCES areas(id),
    PRIMARY KEY (account_id, area_id)
);

-- Sessions live in the database so that several app servers can share them. Only a
-- hash of the cookie's secret is stored: a copy of this table opens no session.
CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked       SMALLINT NOT NULL DEFAULT 0,
    address       TEXT
);
CREATE INDEX sessions_account ON sessions(account_id);

-- Bearer tokens for the API, each with its own role and scope.
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    area_id     TEXT NOT NULL REFERENCES areas(id),
    created_by  TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);

-- Failed logins, by account name and by address, for throttling. Keyed by the name
-- typed, whether or not such an account exists, so throttling reveals nothing.
CREATE TABLE login_failures (
    key  TEXT NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, at);

-- Append-only: the application never updates or deletes a row.
CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor_id     TEXT,
    actor_name   TEXT NOT NULL,
    address      TEXT,
    action       TEXT NOT NULL,
    target_kind  TEXT,
    target_id    TEXT,
    path         TEXT,            -- where the target lies, so the log is scoped like the data
    reason       TEXT,
    before       TEXT,
    after        TEXT,
    outcome      TEXT NOT NULL    -- ok | denied | failed
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_path ON audit_log(path, at);
CREATE INDEX audit_log_actor ON audit_log(actor_id, at);
