-- Home visits (issue 19). Kept in step with the other engine's 0022 (the
-- migration-trees test checks it).

-- A community's cadences: by care tag (tag_id) or, with no tag, every household.
-- `channels` are the visit channels that count, codes joined by commas (a door
-- visit always counts). Nothing is deleted: a cadence no longer kept is inactive.
CREATE TABLE visit_cadences (
    id                TEXT PRIMARY KEY,
    community_id      TEXT NOT NULL REFERENCES areas(id),
    tag_id            TEXT REFERENCES tags(id),
    every_days        BIGINT NOT NULL,
    spell_every_days  BIGINT,
    channels          TEXT NOT NULL,
    active            SMALLINT NOT NULL DEFAULT 1,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX visit_cadences_community ON visit_cadences(community_id, active);

-- One visit to a household, or to one person of it (resident_id). What was found
-- may touch health or family: it is sealed (findings_enc, store::vault) and shown
-- only inside the grid. visited_on is the day (YYYY-MM-DD) the cadences count.
CREATE TABLE visits (
    id              TEXT PRIMARY KEY,
    path            TEXT NOT NULL COLLATE "C",
    household_id    TEXT NOT NULL REFERENCES households(id),
    resident_id     TEXT REFERENCES residents(id),
    channel         TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    visited_on      TEXT NOT NULL,
    purpose         TEXT NOT NULL DEFAULT '',
    findings_enc    TEXT,
    visitor_id      TEXT REFERENCES accounts(id),
    visitor_name    TEXT NOT NULL,
    -- Entered afterwards from a printed due list (a paper round).
    paper           SMALLINT NOT NULL DEFAULT 0,
    demand_id       TEXT REFERENCES demands(id),
    lat             DOUBLE PRECISION,
    lng             DOUBLE PRECISION,
    created_at      BIGINT NOT NULL
);
CREATE INDEX visits_path_on ON visits(path, visited_on);
CREATE INDEX visits_household_on ON visits(household_id, visited_on);
CREATE INDEX visits_resident_on ON visits(resident_id, visited_on);

-- A cadence suspended (every_days NULL: in hospital, away; no end: ended) or
-- shortened for one person or household, with its reason.
CREATE TABLE visit_adjustments (
    id            TEXT PRIMARY KEY,
    path          TEXT NOT NULL COLLATE "C",
    household_id  TEXT REFERENCES households(id),
    resident_id   TEXT REFERENCES residents(id),
    every_days    BIGINT,
    from_on       TEXT NOT NULL,
    to_on         TEXT,
    reason        TEXT NOT NULL,
    by_id         TEXT REFERENCES accounts(id),
    created_at    BIGINT NOT NULL
);
CREATE INDEX visit_adjustments_path ON visit_adjustments(path);

-- A cold or heat spell a community declares: cadences with a spell interval
-- shorten while it lasts.
CREATE TABLE care_spells (
    id            TEXT PRIMARY KEY,
    community_id  TEXT NOT NULL REFERENCES areas(id),
    kind          TEXT NOT NULL,
    from_on       TEXT NOT NULL,
    to_on         TEXT NOT NULL,
    by_id         TEXT REFERENCES accounts(id),
    created_at    BIGINT NOT NULL
);
CREATE INDEX care_spells_community ON care_spells(community_id, to_on);
