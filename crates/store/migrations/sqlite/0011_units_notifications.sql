-- Shared mechanisms every module uses (store::notifications, store::units).
-- Kept in step with the other engine's 0011 (the migration-trees test checks it).

-- Notifications of any module: where it comes from, what it is about, where to look.
ALTER TABLE notifications ADD COLUMN module TEXT NOT NULL DEFAULT 'demands';
ALTER TABLE notifications ADD COLUMN subject_id TEXT;
ALTER TABLE notifications ADD COLUMN link TEXT;
UPDATE notifications SET subject_id = demand_id;

-- Which modules' events a webhook carries: a comma-separated list of module codes.
-- Existing webhooks carried demands only, and keep doing so.
ALTER TABLE webhooks ADD COLUMN modules TEXT NOT NULL DEFAULT 'demands';

-- Units (单位): organisations of the registry in the roles the modules give them,
-- each role over the area it serves (its path, for scope).
CREATE TABLE unit_roles (
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    role             TEXT NOT NULL,
    area_id          TEXT NOT NULL REFERENCES areas(id),
    path             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, role)
);
-- "Which units serve this place in this role": by role, then the served path.
CREATE INDEX unit_roles_role ON unit_roles(role, path);

-- The people of a unit: with an account they receive its notifications; without
-- one they are a name and a duty on the list. Nobody is deleted: leaving sets left_at.
CREATE TABLE unit_members (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    account_id       TEXT REFERENCES accounts(id),
    name             TEXT NOT NULL,
    duty             TEXT NOT NULL DEFAULT '',
    joined_at        BIGINT NOT NULL,
    left_at          BIGINT
);
CREATE INDEX unit_members_unit ON unit_members(organisation_id, left_at);
CREATE INDEX unit_members_account ON unit_members(account_id);
