-- "One core, many parties" (一核多元, issue 23, docs/party.md): joint meetings
-- (联席会议) of the community's Party organisation with the units in its area,
-- their topics and resolutions, and the three lists — resources the units offer
-- (skills, spaces, funds), the needs list (party_needs, now with the field it is
-- about) and projects meeting needs with resources, with their result and the
-- residents' ratings. Every row that belongs to a place carries that place's path.
-- Kept in step with the other engine's 0045 (the migration-trees test checks it).

-- What a need is about (domain::party_joint::ServiceField); none: not said yet,
-- and then it fits no resource.
ALTER TABLE party_needs ADD COLUMN field TEXT;

-- A joint meeting of a community (`path`: the community's), with the units that
-- took part and, in words, anyone else (the property company, a school).
CREATE TABLE party_joint_meetings (
    id                TEXT PRIMARY KEY,
    community_id      TEXT NOT NULL REFERENCES areas(id),
    path              TEXT NOT NULL,
    held_at           BIGINT NOT NULL,
    place             TEXT NOT NULL,
    title             TEXT NOT NULL,
    others            TEXT NOT NULL DEFAULT '',
    minutes           TEXT NOT NULL DEFAULT '',
    recorded_by_name  TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX party_joint_meetings_path ON party_joint_meetings(path, held_at);

CREATE TABLE party_joint_units (
    meeting_id  TEXT NOT NULL REFERENCES party_joint_meetings(id),
    unit_id     TEXT NOT NULL REFERENCES party_units(id),
    PRIMARY KEY (meeting_id, unit_id)
);

-- A topic and what the meeting resolved on it; `outcome` noted, project (the
-- project names it) or instruction (`instruction_id`).
CREATE TABLE party_resolutions (
    id              TEXT PRIMARY KEY,
    meeting_id      TEXT NOT NULL REFERENCES party_joint_meetings(id),
    path            TEXT NOT NULL,
    position        INTEGER NOT NULL,
    topic           TEXT NOT NULL,
    decision        TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    instruction_id  TEXT REFERENCES instructions(id),
    UNIQUE (meeting_id, position)
);

-- A resource a unit (or someone named) offers, on the community or one grid;
-- funds with their amount in fen. Withdrawn resources stay for the projects that
-- used them.
CREATE TABLE party_resources (
    id               TEXT PRIMARY KEY,
    community_id     TEXT NOT NULL REFERENCES areas(id),
    path             TEXT NOT NULL,
    unit_id          TEXT REFERENCES party_units(id),
    offered_by       TEXT NOT NULL,
    kind             TEXT NOT NULL,
    field            TEXT NOT NULL,
    title            TEXT NOT NULL,
    detail           TEXT NOT NULL DEFAULT '',
    amount_fen       BIGINT,
    withdrawn_at     BIGINT,
    created_by_name  TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX party_resources_path ON party_resources(path);

-- A project: from a resolution or on its own, owned by a unit or someone named,
-- with a deadline (a day, China time); planned → doing → done (its result
-- published) or dropped (the reason).
CREATE TABLE party_projects (
    id               TEXT PRIMARY KEY,
    community_id     TEXT NOT NULL REFERENCES areas(id),
    path             TEXT NOT NULL,
    resolution_id    TEXT UNIQUE REFERENCES party_resolutions(id),
    title            TEXT NOT NULL,
    detail           TEXT NOT NULL DEFAULT '',
    field            TEXT NOT NULL,
    owner_unit_id    TEXT REFERENCES party_units(id),
    owner_name       TEXT NOT NULL,
    deadline         TEXT NOT NULL,
    state            TEXT NOT NULL,
    result           TEXT,
    reason           TEXT,
    started_at       BIGINT,
    ended_at         BIGINT,
    created_by_name  TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX party_projects_path ON party_projects(path, state);

CREATE TABLE party_project_needs (
    project_id  TEXT NOT NULL REFERENCES party_projects(id),
    need_id     TEXT NOT NULL REFERENCES party_needs(id),
    PRIMARY KEY (project_id, need_id)
);
CREATE INDEX party_project_needs_need ON party_project_needs(need_id);

CREATE TABLE party_project_resources (
    project_id   TEXT NOT NULL REFERENCES party_projects(id),
    resource_id  TEXT NOT NULL REFERENCES party_resources(id),
    PRIMARY KEY (project_id, resource_id)
);
CREATE INDEX party_project_resources_resource ON party_project_resources(resource_id);

-- A resident's rating of a finished project: 1–5 stars chosen by them, once per
-- account and project.
CREATE TABLE party_project_ratings (
    project_id  TEXT NOT NULL REFERENCES party_projects(id),
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    stars       SMALLINT NOT NULL,
    comment     TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, account_id)
);
