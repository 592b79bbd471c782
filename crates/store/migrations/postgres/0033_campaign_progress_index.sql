-- A campaign's progress at the scale of a district (issue 20, docs/benchmarks.md):
-- the per-grid counts, on time included, are read from this index alone, in its
-- order, where the narrower index it replaces sent every target to its row for
-- `settled_at`. It serves everything the old one served (a prefix of it).
-- Kept in step with the other engine's 0033 (the migration-trees test checks it).
DROP INDEX campaign_targets_progress;
CREATE INDEX campaign_targets_progress ON campaign_targets(campaign_id, path, status, settled_at);
