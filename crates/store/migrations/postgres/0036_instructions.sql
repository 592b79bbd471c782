-- Instructions down, reports up (issue 21). An instruction is sent by an area (a
-- street, a community, a district) to areas below it; each receiver holds a
-- receipt, which a receiver may pass further down (`parent_id`: the receipt whose
-- area passed it, and which reviews it). A receipt is read, reported (text and the
-- figures of the sender's table, as JSON), returned with a reason, or accepted —
-- then locked. Files: the sender's attachments (`receipt_id` NULL) and the photos
-- of a report. A receipt still open is reminded once the day before it is due and
-- once when it is late (`reminded_*_at`, claimed by a guarded update).
-- Kept in step with the other engine's 0036 (the migration-trees test checks it).
CREATE TABLE instructions (
    id             TEXT PRIMARY KEY,
    area_id        TEXT NOT NULL REFERENCES areas(id),
    path           TEXT NOT NULL,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    due_on         TEXT NOT NULL,
    figures_table  TEXT,
    campaign_id    TEXT REFERENCES campaigns(id),
    sent_by_id     TEXT,
    sent_by_name   TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX instructions_path ON instructions(path, created_at);

CREATE TABLE instruction_receipts (
    id                TEXT PRIMARY KEY,
    instruction_id    TEXT NOT NULL REFERENCES instructions(id),
    parent_id         TEXT REFERENCES instruction_receipts(id),
    area_id           TEXT NOT NULL REFERENCES areas(id),
    path              TEXT NOT NULL,
    state             TEXT NOT NULL,
    read_at           BIGINT,
    read_by_name      TEXT,
    reported_at       BIGINT,
    reported_on       TEXT,
    reported_by_name  TEXT,
    report_text       TEXT,
    figures           TEXT,
    returns           INTEGER NOT NULL DEFAULT 0,
    returned_reason   TEXT,
    returned_at       BIGINT,
    returned_by_name  TEXT,
    accepted_at       BIGINT,
    accepted_by_name  TEXT,
    reminded_soon_at  BIGINT,
    reminded_late_at  BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (instruction_id, area_id)
);
CREATE INDEX instruction_receipts_path ON instruction_receipts(path, state);
CREATE INDEX instruction_receipts_parent ON instruction_receipts(instruction_id, parent_id);

CREATE TABLE instruction_files (
    id              TEXT PRIMARY KEY,
    instruction_id  TEXT NOT NULL REFERENCES instructions(id),
    receipt_id      TEXT REFERENCES instruction_receipts(id),
    name            TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            BIGINT NOT NULL,
    data            BYTEA NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX instruction_files_of ON instruction_files(instruction_id, receipt_id);
