-- The demand ledger filtered by category under an area (docs/benchmarks.md):
-- without it the engine reads every item of the area to find one category.
CREATE INDEX demands_category ON demands(category, path, created_at);
-- A page of the ledger: its ids come from the index alone (path range, then the
-- newest first), and only the page's rows are read.
DROP INDEX demands_path;
CREATE INDEX demands_path ON demands(path, created_at, id);
