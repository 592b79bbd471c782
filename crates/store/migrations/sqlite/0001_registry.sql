-- The registry: the hierarchy of areas and the ledgers of people and places.
-- Kept in step with ../postgres/0001_registry.sql; the two differ only where the
-- engines do (REAL vs DOUBLE PRECISION, the collation of `path`).
--
-- Every ledger row carries `path`, the materialised path of its grid's ancestors
-- ('/370600000000/370602000000/370602003000/370602003015/370602003015001/'), so that
-- "everything under this street" is one range scan on an index:
--   path >= '/…/370602003000/' AND path < '/…/3706020030000'   ('/' + 1 = '0').
-- Timestamps are Unix milliseconds (BIGINT); identifiers are UUIDv7 text.

CREATE TABLE areas (
    id          TEXT PRIMARY KEY,
    parent_id   TEXT REFERENCES areas(id),
    level       TEXT NOT NULL,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    path        TEXT NOT NULL UNIQUE,
    boundary    TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX areas_parent ON areas(parent_id, code);

-- The "1 + X + N" team of a grid: one leader, X members, N others. The team module
-- fills these posts with accounts and people; the registry only holds the slots.
CREATE TABLE grid_posts (
    id           TEXT PRIMARY KEY,
    grid_id      TEXT NOT NULL REFERENCES areas(id),
    post         TEXT NOT NULL,      -- leader | member | party_member | volunteer | building_head | property | police | other
    person_name  TEXT,
    phone        TEXT,
    resident_id  TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX grid_posts_grid ON grid_posts(grid_id);

CREATE TABLE buildings (
    id            TEXT PRIMARY KEY,
    grid_id       TEXT NOT NULL REFERENCES areas(id),
    community_id  TEXT NOT NULL REFERENCES areas(id),
    path          TEXT NOT NULL,
    number        TEXT NOT NULL,
    address       TEXT,
    kind          TEXT NOT NULL,
    floors        BIGINT,
    units         BIGINT,
    lat           REAL,
    lng           REAL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (community_id, number)
);
CREATE INDEX buildings_path ON buildings(path, number);

CREATE TABLE households (
    id            TEXT PRIMARY KEY,
    building_id   TEXT NOT NULL REFERENCES buildings(id),
    path          TEXT NOT NULL,
    unit          TEXT NOT NULL DEFAULT '',
    room          TEXT NOT NULL,
    occupancy     TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (building_id, unit, room)
);
CREATE INDEX households_path ON households(path);

CREATE TABLE residents (
    id                TEXT PRIMARY KEY,
    household_id      TEXT REFERENCES households(id),
    path              TEXT NOT NULL,
    name              TEXT NOT NULL,
    gender            TEXT NOT NULL,
    birth_date        TEXT NOT NULL,
    -- ID card number and phone are protected (store::vault, docs/security.md):
    -- *_enc holds the value sealed with AES-256-GCM, *_hash blind indexes (keyed
    -- HMAC) of the whole value and of its last four characters, for search.
    id_card_enc       TEXT,
    id_card_hash      TEXT,
    id_last4_hash     TEXT,
    phone_enc         TEXT,
    phone_hash        TEXT,
    phone_last4_hash  TEXT,
    residence_type    TEXT NOT NULL,
    relation          TEXT NOT NULL,
    political_status  TEXT NOT NULL,
    ethnicity         TEXT NOT NULL,
    notes             TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    -- When the person was first registered here (YYYY-MM-DD): the first entry of
    -- their history, kept on the row so bulk loads need not write an event each.
    registered_on     TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
-- The secondary indexes of residents are named residents_* so that bulk loads can
-- drop and rebuild them (see store::bulk). Suffix search looks up the last four
-- digits first and the area second: four digits narrow a city to a few hundred rows,
-- while an area range scanned first would visit the whole community.
CREATE UNIQUE INDEX residents_id_card ON residents(id_card_hash);
CREATE INDEX residents_household ON residents(household_id);
CREATE INDEX residents_path_name ON residents(path, name);
CREATE INDEX residents_phone ON residents(phone_hash);
CREATE INDEX residents_phone_last4 ON residents(phone_last4_hash, path);
CREATE INDEX residents_id_last4 ON residents(id_last4_hash, path);

-- Care tags (独居老人, 残疾人, …): a catalogue managed by administrators.
CREATE TABLE tags (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    sensitive   SMALLINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);

CREATE TABLE resident_tags (
    resident_id  TEXT NOT NULL REFERENCES residents(id),
    tag_id       TEXT NOT NULL REFERENCES tags(id),
    PRIMARY KEY (resident_id, tag_id)
);
CREATE INDEX resident_tags_tag ON resident_tags(tag_id);

-- Moving in, moving out, moving house and corrections after registration.
-- Append-only: history is never rewritten.
CREATE TABLE resident_events (
    id                 TEXT PRIMARY KEY,
    resident_id        TEXT NOT NULL REFERENCES residents(id),
    kind               TEXT NOT NULL,     -- moved_in | moved_out | moved_house | updated
    occurred_on        TEXT NOT NULL,     -- the date it happened (YYYY-MM-DD)
    from_household_id  TEXT,
    to_household_id    TEXT,
    note               TEXT NOT NULL DEFAULT '',
    recorded_at        BIGINT NOT NULL
);
CREATE INDEX resident_events_resident ON resident_events(resident_id, recorded_at);

CREATE TABLE organisations (
    id            TEXT PRIMARY KEY,
    grid_id       TEXT NOT NULL REFERENCES areas(id),
    path          TEXT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    address       TEXT,
    contact_name  TEXT,
    phone         TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX organisations_path ON organisations(path, name);

-- The id of the key that seals the protected fields of residents (store::vault), so
-- that opening the database with another key fails at start (Db::check_key) rather
-- than at the first person shown. One row: one key at a time.
CREATE TABLE vault_key (
    id          SMALLINT PRIMARY KEY CHECK (id = 1),
    key_id      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
