-- Door-to-door campaigns: the retention purge of health answers (issue 20). Kept in
-- step with the other engine's 0030 (the migration-trees test checks it).

-- When the campaign's answers were deleted under its retention period (none: kept).
ALTER TABLE campaigns ADD COLUMN purged_at BIGINT;

-- What is left of a purged campaign's answers: per question, how many targets gave
-- each answer (a choice's name; `*` for any answer to a question without choices).
CREATE TABLE campaign_counts (
    campaign_id  TEXT NOT NULL REFERENCES campaigns(id),
    question     TEXT NOT NULL,
    value        TEXT NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, question, value)
);
