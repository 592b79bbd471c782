-- The demand ledger filtered by category under an area (docs/benchmarks.md):
-- without it the engine reads every item of the area to find one category.
CREATE INDEX demands_category ON demands(category, path, created_at);
