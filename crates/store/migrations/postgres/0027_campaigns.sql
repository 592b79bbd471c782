-- Door-to-door campaigns (排查, issue 20). Kept in step with the other engine's
-- 0027 (the migration-trees test checks it).

-- A campaign over a subtree (a community, or a street or district over its
-- communities): its targets were drawn from the registry when it started, by
-- `filter` (JSON: grids, buildings, care tags, ages, residence types).
-- `retention_days`: answers are health data when set (tests, vaccination) and are
-- purged that many days after the campaign closes.
CREATE TABLE campaigns (
    id              TEXT PRIMARY KEY,
    area_id         TEXT NOT NULL REFERENCES areas(id),
    path            TEXT NOT NULL COLLATE "C",
    title           TEXT NOT NULL,
    target_kind     TEXT NOT NULL,
    filter          TEXT NOT NULL,
    opens_on        TEXT NOT NULL,
    closes_on       TEXT NOT NULL,
    retention_days  BIGINT,
    form_version    BIGINT NOT NULL,
    created_by      TEXT REFERENCES accounts(id),
    created_by_name TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX campaigns_path ON campaigns(path, opens_on);

-- Every version of a campaign's form (JSON of wangge_domain::campaigns::Form): an
-- answer is pinned to the version it was given with, so a form changed while the
-- campaign runs never reinterprets earlier answers.
CREATE TABLE campaign_forms (
    campaign_id  TEXT NOT NULL REFERENCES campaigns(id),
    version      BIGINT NOT NULL,
    form         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, version)
);

-- One target: a household, or one person of it (resident_id). `path` is the
-- household's, so progress groups by grid and a grid member sees their own
-- targets only. The answers are sealed (store::vault).
CREATE TABLE campaign_targets (
    id               TEXT PRIMARY KEY,
    campaign_id      TEXT NOT NULL REFERENCES campaigns(id),
    path             TEXT NOT NULL COLLATE "C",
    household_id     TEXT NOT NULL REFERENCES households(id),
    resident_id      TEXT REFERENCES residents(id),
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    form_version     BIGINT,
    answers_enc      TEXT,
    by_id            TEXT REFERENCES accounts(id),
    by_name          TEXT,
    settled_at       BIGINT,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX campaign_targets_progress ON campaign_targets(campaign_id, path, status);
CREATE INDEX campaign_targets_household ON campaign_targets(household_id);
