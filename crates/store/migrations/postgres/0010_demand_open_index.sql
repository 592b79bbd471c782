-- The demand ledger's slow filters (docs/benchmarks.md, run 4).
--
-- Open items with their deadlines: the overdue filter and the open work lists
-- count and take their page from this index alone, without reading rows. Partial:
-- closed items (nine in ten of a ledger's history) are not in it. Status leads, as
-- in demands_status, so that the planner (without statistics) prefers this covering
-- index for the same constraints. The list is DemandStatus::open() in its order,
-- written out the same way by store::demands::conditions: that literal condition in
-- the query is how both engines know the index applies (a test compares the two).
CREATE INDEX demands_open ON demands(status, path, accept_due, resolve_due, created_at, id)
    WHERE status IN ('submitted', 'accepted', 'dispatched', 'in_hand', 'reported_done', 'verified', 'reopened');
-- A category under an area, with or without a status ("rated, in one category"):
-- counted and paged on the index alone.
DROP INDEX demands_category;
CREATE INDEX demands_category ON demands(category, path, status, created_at, id);
