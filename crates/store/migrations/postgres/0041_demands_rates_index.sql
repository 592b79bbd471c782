-- The rates of a long period at a street's scale (issue 18, docs/benchmarks.md):
-- the rates read, for the items created under a place in a period, their status,
-- deadlines, response, closing and rating. Through `demands_path` (place, day,
-- id) each item's row had to be read as well, and SQLite preferred reading the
-- whole city's items of the period through `demands_created`: a street's year took
-- 0.74 s. This index holds every column the rates read (and `id`, for a past
-- period's states), so the rates are one range of it under the place: 35 ms for
-- that year, 8 ms for a month. It extends `demands_path` (its first three
-- columns), which it replaces for everything that one served (the ledger of one
-- place in order of creation). Kept the same in both engines.
DROP INDEX demands_path;
CREATE INDEX demands_path ON demands(path, created_at, id, status, accept_due, responded_at, closed_at, rating_due,
    rating, rating_source, rated_at);
