-- A report waiting for its reporter's answer to "is it one of these?": the typed
-- fields (sealed, as they may hold a call-back phone) and the photos uploaded with
-- them, kept for an hour so that nothing has to be typed or uploaded twice.
CREATE TABLE demand_drafts (
    id           TEXT PRIMARY KEY,
    -- Who may finish it: an account id, or "building-qr:<building id>" for the poster form.
    owner        TEXT NOT NULL,
    building_id  TEXT,
    fields_enc   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX demand_drafts_owner ON demand_drafts(owner, created_at);
CREATE INDEX demand_drafts_created ON demand_drafts(created_at);

CREATE TABLE demand_draft_files (
    id            TEXT PRIMARY KEY,
    draft_id      TEXT NOT NULL REFERENCES demand_drafts(id),
    position      BIGINT NOT NULL,
    name          TEXT NOT NULL,
    data          BYTEA NOT NULL
);
CREATE INDEX demand_draft_files_draft ON demand_draft_files(draft_id, position);

-- The duplicates merged into an item (its page lists them; their reporters follow it).
CREATE INDEX demands_merged_into ON demands(merged_into);
