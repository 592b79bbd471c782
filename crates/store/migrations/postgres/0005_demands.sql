-- Residents' demands and events (民情诉求), worked to closure.
-- Kept in step with ../sqlite/0005_demands.sql; the two differ only where the
-- engines do (REAL vs DOUBLE PRECISION, BLOB vs BYTEA, the collation of `path`).

-- The category catalogue: who handles what by default, and the time limits in
-- business days for accepting (受理) and for resolving (办结).
CREATE TABLE demand_categories (
    code          TEXT PRIMARY KEY,
    name_zh       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    level         TEXT NOT NULL,          -- grid | community | street | district
    accept_days   BIGINT NOT NULL,
    resolve_days  BIGINT NOT NULL,
    active        SMALLINT NOT NULL DEFAULT 1,
    updated_at    BIGINT NOT NULL
);
INSERT INTO demand_categories (code, name_zh, name_en, level, accept_days, resolve_days, updated_at) VALUES
    ('environment', '环境卫生', 'Environment and sanitation', 'grid', 1, 3, 0),
    ('public_facilities', '公共设施', 'Public facilities', 'community', 1, 7, 0),
    ('neighbour_dispute', '邻里纠纷', 'Neighbour disputes', 'grid', 1, 5, 0),
    ('property', '物业管理', 'Property management', 'community', 1, 5, 0),
    ('safety_hazard', '安全隐患', 'Safety hazards', 'community', 1, 2, 0),
    ('elderly_disabled', '为老助残', 'Elderly and disabled care', 'community', 1, 5, 0),
    ('epidemic', '疫情防控', 'Epidemic prevention', 'community', 1, 1, 0),
    ('policy', '政策咨询', 'Policy consultation', 'community', 1, 3, 0),
    ('social_security', '社会保障', 'Social security and assistance', 'community', 1, 10, 0),
    ('urban_management', '城市管理', 'Urban management', 'street', 2, 10, 0),
    ('other', '其他', 'Other', 'community', 1, 10, 0);

-- Public holidays and the weekend days worked in exchange (调休).
CREATE TABLE holidays (
    day   TEXT PRIMARY KEY,               -- YYYY-MM-DD
    kind  TEXT NOT NULL,                  -- holiday | workday
    name  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE demands (
    id                   TEXT PRIMARY KEY,
    path                 TEXT COLLATE "C" NOT NULL,   -- the place's grid (or area) path, for scope
    area_id              TEXT NOT NULL REFERENCES areas(id),
    building_id          TEXT REFERENCES buildings(id),
    household_id         TEXT REFERENCES households(id),
    resident_id          TEXT REFERENCES residents(id),
    category             TEXT NOT NULL REFERENCES demand_categories(code),
    kind                 TEXT NOT NULL,
    channel              TEXT NOT NULL,
    title                TEXT NOT NULL,
    description          TEXT NOT NULL,
    address              TEXT,
    lat                  DOUBLE PRECISION,
    lng                  DOUBLE PRECISION,
    reporter_name        TEXT,
    -- The call-back phone is protected like residents' (store::vault): sealed, with
    -- a blind index so that "my reports" can be found by number.
    reporter_phone_enc   TEXT,
    reporter_phone_hash  TEXT,
    reporter_account_id  TEXT,
    status               TEXT NOT NULL,
    level                TEXT NOT NULL,
    handler_kind         TEXT,
    handler_id           TEXT,
    handler_name         TEXT,
    merged_into          TEXT REFERENCES demands(id),
    reopened             SMALLINT NOT NULL DEFAULT 0,
    accept_due           BIGINT NOT NULL,
    resolve_due          BIGINT NOT NULL,
    responded_at         BIGINT,          -- first accepted, rejected or answered
    closed_at            BIGINT,
    rating               SMALLINT,
    rating_comment       TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
-- The ledger of an area, newest first: a range scan on path, already in order.
CREATE INDEX demands_path ON demands(path, created_at);
-- Work lists by status (open items, overdue) under an area.
CREATE INDEX demands_status ON demands(status, path, created_at);
-- "My items" of a handler and of a resident.
CREATE INDEX demands_handler ON demands(handler_id, status);
CREATE INDEX demands_reporter ON demands(reporter_account_id, created_at);
CREATE INDEX demands_building ON demands(building_id, created_at);
-- Open311 and the rates select by time over everything a token sees.
CREATE INDEX demands_created ON demands(created_at);

-- The timeline: every step taken, by whom, when, with its note. Append-only.
CREATE TABLE demand_events (
    id           TEXT PRIMARY KEY,
    demand_id    TEXT NOT NULL REFERENCES demands(id),
    step         TEXT NOT NULL,           -- submit, or a domain Step code
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    level        TEXT NOT NULL,
    actor_id     TEXT,
    actor_name   TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    at           BIGINT NOT NULL
);
CREATE INDEX demand_events_demand ON demand_events(demand_id, at);

-- Photos and files, kept in the database so that a backup holds everything.
CREATE TABLE demand_attachments (
    id            TEXT PRIMARY KEY,
    demand_id     TEXT NOT NULL REFERENCES demands(id),
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    data          BYTEA NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX demand_attachments_demand ON demand_attachments(demand_id);

-- In-app notifications for handlers and residents.
CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    demand_id   TEXT REFERENCES demands(id),
    message     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    read_at     BIGINT
);
CREATE INDEX notifications_account ON notifications(account_id, created_at);

-- Outgoing webhooks on state changes: a signed JSON body, or the group-robot message
-- of WeCom or DingTalk. The signing secret is sealed (store::vault).
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    url         TEXT NOT NULL,
    format      TEXT NOT NULL,            -- json | wecom | dingtalk
    secret_enc  TEXT,
    path        TEXT COLLATE "C" NOT NULL,            -- only items under this area
    active      SMALLINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id           TEXT PRIMARY KEY,
    webhook_id   TEXT NOT NULL REFERENCES webhooks(id),
    demand_id    TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    attempt      BIGINT NOT NULL,
    status_code  BIGINT,
    error        TEXT,
    delivered    SMALLINT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, at);
