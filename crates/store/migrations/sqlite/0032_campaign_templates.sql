-- Door-to-door campaigns: templates and schedules (issue 20). Kept in step with the
-- other engine's 0032 (the migration-trees test checks it).

-- A campaign saved to be run again: its scope, form (JSON), whom it asks, how long
-- it stays open, its retention, and when it opens next (`every`: never, monthly,
-- quarterly, yearly; `anchor_day`: the day of the month it keeps to).
CREATE TABLE campaign_templates (
    id                  TEXT PRIMARY KEY,
    area_id             TEXT NOT NULL REFERENCES areas(id),
    path                TEXT NOT NULL,
    title               TEXT NOT NULL,
    form                TEXT NOT NULL,
    target_kind         TEXT NOT NULL,
    filter              TEXT NOT NULL,
    days_open           BIGINT NOT NULL,
    retention_days      BIGINT,
    every               TEXT NOT NULL,
    anchor_day          BIGINT,
    next_on             TEXT,
    source_campaign_id  TEXT REFERENCES campaigns(id),
    created_by_name     TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    ended_at            BIGINT
);
CREATE INDEX campaign_templates_path ON campaign_templates(path);
CREATE INDEX campaign_templates_due ON campaign_templates(next_on);

-- The template a campaign was started from (none: started by hand).
ALTER TABLE campaigns ADD COLUMN template_id TEXT REFERENCES campaign_templates(id);
