-- Organisational life of the Party (三会一课, issue 23, docs/party.md): the
-- meetings an organisation holds with each member's attendance and photos, the
-- frequencies it keeps where they differ from the defaults, its term, and the
-- alerts already sent (a branch behind for a kind and period, a term ending), so
-- that each goes once whichever server sweeps.
-- Kept in step with the other engine's 0043 (the migration-trees test checks it).

-- The current term: its first day (`YYYY-MM-DD`, none when not recorded) and
-- length in years.
ALTER TABLE party_orgs ADD COLUMN term_start TEXT;
ALTER TABLE party_orgs ADD COLUMN term_years INTEGER NOT NULL DEFAULT 5;

-- A frequency set for an organisation: a meeting of `kind` every `months` months
-- (1, 3, 6, 12), 0 when not required. Kinds without a row keep the defaults.
CREATE TABLE party_life_rules (
    org_id      TEXT NOT NULL REFERENCES party_orgs(id),
    kind        TEXT NOT NULL,
    months      INTEGER NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, kind)
);

-- A meeting of an organisation (`path`: the organisation's), held at a time (its
-- month and quarter read in China time).
CREATE TABLE party_meetings (
    id                TEXT PRIMARY KEY,
    community_id      TEXT NOT NULL REFERENCES areas(id),
    org_id            TEXT NOT NULL REFERENCES party_orgs(id),
    path              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    held_at           BIGINT NOT NULL,
    place             TEXT NOT NULL,
    topic             TEXT NOT NULL,
    minutes           TEXT NOT NULL DEFAULT '',
    recorded_by_name  TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX party_meetings_org ON party_meetings(org_id, held_at);
CREATE INDEX party_meetings_path ON party_meetings(path, held_at);

-- A member's attendance: present, excused (with the reason) or absent.
CREATE TABLE party_attendance (
    meeting_id  TEXT NOT NULL REFERENCES party_meetings(id),
    member_id   TEXT NOT NULL REFERENCES party_members(id),
    status      TEXT NOT NULL,
    reason      TEXT,
    PRIMARY KEY (meeting_id, member_id)
);
CREATE INDEX party_attendance_member ON party_attendance(member_id);

CREATE TABLE party_meeting_photos (
    id            TEXT PRIMARY KEY,
    meeting_id    TEXT NOT NULL REFERENCES party_meetings(id),
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    data          BLOB NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX party_meeting_photos_of ON party_meeting_photos(meeting_id);

-- An alert sent: `what` a meeting kind (the organisation had none in `period`,
-- `2026-03` or `2026Q1`) or `term` (`period`: the day the term ends).
CREATE TABLE party_life_alerts (
    id       TEXT PRIMARY KEY,
    org_id   TEXT NOT NULL REFERENCES party_orgs(id),
    what     TEXT NOT NULL,
    period   TEXT NOT NULL,
    sent_at  BIGINT NOT NULL,
    UNIQUE (org_id, what, period)
);
