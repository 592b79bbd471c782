-- Home visits, the rest of issue 19. Kept in step with the other engine's 0026
-- (the migration-trees test checks it).

-- Per community: for how many days after its day a visit may still be edited
-- (none: the default, 7). After that it is locked.
ALTER TABLE areas ADD COLUMN visit_lock_days BIGINT;

-- When a visit was last edited (none: never).
ALTER TABLE visits ADD COLUMN updated_at BIGINT;
-- The demand a visit's finding became: the demand's page links back through it.
CREATE INDEX visits_demand ON visits(demand_id);

-- A correction of a person's registry entry proposed at a visit: the changes
-- (a residents::ResidentUpdate as JSON, sealed: it may hold a phone or an ID
-- number), proposed by whoever visited, confirmed (and then applied, audited
-- before/after like any registry edit) or declined by whoever may edit the registry
-- there. status: proposed, confirmed, declined.
CREATE TABLE registry_corrections (
    id                TEXT PRIMARY KEY,
    path              TEXT NOT NULL,
    resident_id       TEXT NOT NULL REFERENCES residents(id),
    visit_id          TEXT REFERENCES visits(id),
    changes_enc       TEXT NOT NULL,
    note              TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    proposed_by_id    TEXT REFERENCES accounts(id),
    proposed_by_name  TEXT NOT NULL,
    decided_by_name   TEXT,
    decided_at        BIGINT,
    created_at        BIGINT NOT NULL
);
CREATE INDEX registry_corrections_path ON registry_corrections(path, status);

-- Reminders sent to a grid's members about one subject's due date (kind: soon,
-- missed), so that the sweep sends each at most once.
CREATE TABLE visit_reminders (
    subject    TEXT NOT NULL,
    due_on     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    sent_at    BIGINT NOT NULL,
    PRIMARY KEY (subject, due_on, kind)
);
