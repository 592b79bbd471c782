-- Party building (党建引领, issue 22): Party organisations placed on the community
-- and its grids, members (sealed ID numbers and phones, one member per ID number
-- per community), units and in-service members registering with the community
-- (双报到) period by period, the community's needs list, claims, service records
-- with photos, point rules, and the feedback runs that send each unit its
-- quarterly report. Every row that belongs to a place carries that place's path.
-- Kept in step with the other engine's 0039 (the migration-trees test checks it).

-- A community's settings: the registration period (6 months: half-years), the
-- feedback period (3 months: quarters), the yearly hours target in minutes
-- (3000 = 50 h) and the threshold of a unit's rates in percent (95). A community
-- without a row has the defaults.
CREATE TABLE party_settings (
    community_id       TEXT PRIMARY KEY REFERENCES areas(id),
    period_months      INTEGER NOT NULL,
    feedback_months    INTEGER NOT NULL,
    yearly_minutes     INTEGER NOT NULL,
    threshold_percent  INTEGER NOT NULL,
    updated_at         BIGINT NOT NULL
);

-- The organisations' tree: committee › general branch › branch › group, each
-- placed on an area (the community or one of its grids).
CREATE TABLE party_orgs (
    id              TEXT PRIMARY KEY,
    community_id    TEXT NOT NULL REFERENCES areas(id),
    parent_id       TEXT REFERENCES party_orgs(id),
    area_id         TEXT NOT NULL REFERENCES areas(id),
    path            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    secretary_name  TEXT,
    committee       TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (community_id, name)
);
CREATE INDEX party_orgs_path ON party_orgs(path);

-- A unit registering with a community (驻区单位 / 报到单位): its Party
-- organisation, contact (phone sealed), what it offers, how many members it
-- declares, and the registry's organisation when one matches.
CREATE TABLE party_units (
    id                TEXT PRIMARY KEY,
    community_id      TEXT NOT NULL REFERENCES areas(id),
    path              TEXT NOT NULL,
    organisation_id   TEXT REFERENCES organisations(id),
    name              TEXT NOT NULL,
    party_org_name    TEXT NOT NULL,
    contact_name      TEXT NOT NULL,
    phone_enc         TEXT,
    phone_hash        TEXT,
    resources         TEXT NOT NULL DEFAULT '',
    declared_members  INTEGER NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (community_id, name)
);
CREATE INDEX party_units_path ON party_units(path);

-- A member: a resident member, an in-service member registered from a unit, a
-- retired or a floating one. ID number and phone sealed with blind indexes; one
-- member per ID number per community. `path`: their grid's, else the community's.
CREATE TABLE party_members (
    id            TEXT PRIMARY KEY,
    community_id  TEXT NOT NULL REFERENCES areas(id),
    org_id        TEXT REFERENCES party_orgs(id),
    unit_id       TEXT REFERENCES party_units(id),
    resident_id   TEXT REFERENCES residents(id),
    account_id    TEXT REFERENCES accounts(id),
    grid_id       TEXT REFERENCES areas(id),
    path          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    post          TEXT NOT NULL DEFAULT '',
    skills        TEXT NOT NULL DEFAULT '',
    joined_on     TEXT,
    status        TEXT NOT NULL,
    id_card_enc   TEXT NOT NULL,
    id_card_hash  TEXT NOT NULL,
    phone_enc     TEXT,
    phone_hash    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (community_id, id_card_hash)
);
CREATE INDEX party_members_path ON party_members(path, status);
CREATE INDEX party_members_unit ON party_members(unit_id);
CREATE INDEX party_members_account ON party_members(account_id);

-- A member's history: added, changed, status changed, registered.
CREATE TABLE party_member_events (
    id          TEXT PRIMARY KEY,
    member_id   TEXT NOT NULL REFERENCES party_members(id),
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    by_name     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX party_member_events_of ON party_member_events(member_id, created_at);

-- A registration (报到) of a member or a unit for one period (`2026H1`, `2026`):
-- pending, confirmed, refused (with a reason) or withdrawn. One per member and
-- period, one per unit and period.
CREATE TABLE party_registrations (
    id               TEXT PRIMARY KEY,
    community_id     TEXT NOT NULL REFERENCES areas(id),
    path             TEXT NOT NULL,
    member_id        TEXT REFERENCES party_members(id),
    unit_id          TEXT REFERENCES party_units(id),
    period           TEXT NOT NULL,
    state            TEXT NOT NULL,
    source           TEXT NOT NULL,
    reason           TEXT,
    requested_at     BIGINT NOT NULL,
    decided_at       BIGINT,
    decided_by_name  TEXT,
    UNIQUE (member_id, period),
    UNIQUE (unit_id, period)
);
CREATE INDEX party_registrations_path ON party_registrations(path, period, state);

-- The community's needs list (服务需求): from a demand, a visit or its own plan,
-- on a day, in a grid or the whole community, for so many members.
CREATE TABLE party_needs (
    id               TEXT PRIMARY KEY,
    community_id     TEXT NOT NULL REFERENCES areas(id),
    grid_id          TEXT REFERENCES areas(id),
    path             TEXT NOT NULL,
    title            TEXT NOT NULL,
    detail           TEXT NOT NULL DEFAULT '',
    source_kind      TEXT NOT NULL,
    source_id        TEXT,
    needed_on        TEXT NOT NULL,
    slots            INTEGER NOT NULL,
    created_by_name  TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX party_needs_path ON party_needs(path, needed_on);

-- A member's claim of a need.
CREATE TABLE party_claims (
    id          TEXT PRIMARY KEY,
    need_id     TEXT NOT NULL REFERENCES party_needs(id),
    member_id   TEXT NOT NULL REFERENCES party_members(id),
    path        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (need_id, member_id)
);
CREATE INDEX party_claims_member ON party_claims(member_id);

-- A service record: a member's service on a need or a free activity, at a time
-- (its quarter is read in China time), for so many minutes; recorded, then
-- confirmed (with a rating and the points of the rules then in force) or rejected
-- by the grid member or the organiser.
CREATE TABLE party_service (
    id                 TEXT PRIMARY KEY,
    community_id       TEXT NOT NULL REFERENCES areas(id),
    member_id          TEXT NOT NULL REFERENCES party_members(id),
    need_id            TEXT REFERENCES party_needs(id),
    path               TEXT NOT NULL,
    activity           TEXT NOT NULL,
    served_at          BIGINT NOT NULL,
    minutes            INTEGER NOT NULL,
    state              TEXT NOT NULL,
    rating             SMALLINT,
    points             INTEGER NOT NULL DEFAULT 0,
    reason             TEXT,
    recorded_by_name   TEXT NOT NULL,
    confirmed_by_name  TEXT,
    decided_at         BIGINT,
    created_at         BIGINT NOT NULL
);
CREATE INDEX party_service_path ON party_service(path, served_at);
CREATE INDEX party_service_member ON party_service(member_id, served_at);

CREATE TABLE party_service_photos (
    id            TEXT PRIMARY KEY,
    service_id    TEXT NOT NULL REFERENCES party_service(id),
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    data          BLOB NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX party_service_photos_of ON party_service_photos(service_id);

-- Points from confirmed service, per community: so many per hour, per activity,
-- and for a claimed need. A community without rows has the defaults.
CREATE TABLE party_point_rules (
    community_id  TEXT NOT NULL REFERENCES areas(id),
    rule          TEXT NOT NULL,
    points        INTEGER NOT NULL,
    PRIMARY KEY (community_id, rule)
);

-- A unit's feedback report of one period (`2026Q1`) sent: at most once.
CREATE TABLE party_feedback_runs (
    id          TEXT PRIMARY KEY,
    unit_id     TEXT NOT NULL REFERENCES party_units(id),
    period      TEXT NOT NULL,
    sent_at     BIGINT NOT NULL,
    UNIQUE (unit_id, period)
);
