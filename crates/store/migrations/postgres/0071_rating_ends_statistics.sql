-- The planner's statistics of when a closed, unrated item's time to rate ends
-- (`demands::rates`' "still awaiting a rating" count, read through the partial
-- index `demands_awaiting_rating` of 0064). PostgreSQL keeps no statistics of the
-- expressions of a *partial* index, so it guessed a third of the closed unrated
-- items for `COALESCE(rating_due, closed_at + 604800000) >= now` (115,433 where
-- 13,007 were, in a city of 1,000,000 items) and read a district's awaiting
-- items through `demands_path` instead: 30,257 index entries for 730 items, 19 ms
-- a call, 18 calls for the city's page (docs/benchmarks.md). With the expression's
-- own statistics it reads the partial index: 2.5 ms.
CREATE STATISTICS IF NOT EXISTS demands_rating_ends ON (COALESCE(rating_due, closed_at + 604800000)) FROM demands;
-- And a finer histogram of the items' paths: of 1,000,000 items the default 100
-- buckets hold 10,000 each, more than a street's year (4,635), so a street's
-- range was guessed at one row and its overdue items counted through
-- `demands_path` and the table (4,791 pages, 23 ms) instead of the open items'
-- index (0.5 ms). 1,000 buckets: a street is a few of them.
ALTER TABLE demands ALTER COLUMN path SET STATISTICS 1000;
ANALYZE demands;
