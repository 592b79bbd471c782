-- Activities (社区活动, issue 25, docs/participation.md): a community's events
-- with a capacity, sign-ups (a place or the waiting list, in the order people
-- joined), check-in and check-out at the door, and one question of satisfaction
-- (1–5, with a comment) from those who came, once the activity is over. The
-- seed's "12 % unsatisfied with cultural activities" is read from these answers.
-- Kept in step with the other engine's 0055 (the migration-trees test checks it).

CREATE TABLE activities (
    id               TEXT PRIMARY KEY,
    community_id     TEXT NOT NULL REFERENCES areas(id),
    path             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    title            TEXT NOT NULL,
    detail           TEXT NOT NULL DEFAULT '',
    place            TEXT NOT NULL,
    starts_at        BIGINT NOT NULL,
    ends_at          BIGINT NOT NULL,
    capacity         INTEGER,
    cancelled_at     BIGINT,
    created_by_name  TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX activities_path ON activities(path, starts_at);

-- A sign-up: a resident of the registry and/or an account, by name; `seq` orders
-- the waiting list (the order of joining). One live sign-up per resident and per
-- account an activity.
CREATE TABLE activity_signups (
    id              TEXT PRIMARY KEY,
    activity_id     TEXT NOT NULL REFERENCES activities(id),
    resident_id     TEXT REFERENCES residents(id),
    account_id      TEXT REFERENCES accounts(id),
    name            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    state           TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    signed_at       BIGINT NOT NULL,
    by_name         TEXT NOT NULL,
    checked_in_at   BIGINT,
    checked_out_at  BIGINT,
    score           SMALLINT,
    comment         TEXT,
    rated_at        BIGINT
);
CREATE INDEX activity_signups_of ON activity_signups(activity_id, state, seq);
CREATE INDEX activity_signups_resident ON activity_signups(resident_id);
CREATE INDEX activity_signups_account ON activity_signups(account_id);
