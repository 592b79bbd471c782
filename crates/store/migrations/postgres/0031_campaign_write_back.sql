-- Door-to-door campaigns: answers written back to the registry (issue 20). Kept in
-- step with the other engine's 0031 (the migration-trees test checks it).

-- Dated facts the registry keeps about a household or a person that forms may write
-- (`wangge_domain::campaigns::Fact`: the last gas check, the last vaccination), one
-- row per subject and fact, with who changed it last and from which campaign.
CREATE TABLE registry_facts (
    subject_id       TEXT NOT NULL,
    fact             TEXT NOT NULL,
    value            TEXT NOT NULL,
    path             TEXT NOT NULL,
    updated_at       BIGINT NOT NULL,
    updated_by_name  TEXT NOT NULL,
    campaign_id      TEXT REFERENCES campaigns(id),
    PRIMARY KEY (subject_id, fact)
);

-- An answer that would have overwritten a fact changed since its form was opened:
-- the registry keeps its value until someone who runs the campaign decides.
CREATE TABLE campaign_conflicts (
    id                   TEXT PRIMARY KEY,
    campaign_id          TEXT NOT NULL REFERENCES campaigns(id),
    target_id            TEXT NOT NULL REFERENCES campaign_targets(id),
    path                 TEXT NOT NULL,
    subject_id           TEXT NOT NULL,
    fact                 TEXT NOT NULL,
    answer_value         TEXT NOT NULL,
    registry_value       TEXT NOT NULL,
    registry_changed_at  BIGINT NOT NULL,
    registry_changed_by  TEXT NOT NULL,
    opened_at            BIGINT NOT NULL,
    answered_at          BIGINT NOT NULL,
    resolution           TEXT,
    resolved_by_name     TEXT,
    resolved_at          BIGINT
);
CREATE INDEX campaign_conflicts_open ON campaign_conflicts(campaign_id, resolved_at);
