-- The closed items still within their time to rate (0064's `demands_awaiting_rating`)
-- are counted with every rate of the cockpit and the ledger, for the area and each
-- child. PostgreSQL answers a count from an index alone only when every column the
-- query reads is in it, and for an expression index that means the columns the
-- expression is made of: with `rating_due`, `closed_at`, `status` and `rating` added
-- it no longer reads the table (a district's year: 1,175 pages, 5.7 ms → 0.4 ms).
-- The index holds only closed items not rated, a few days' closings. Kept in step
-- with ../postgres/0066_awaiting_rating_covered.sql (the same text).
DROP INDEX demands_awaiting_rating;
CREATE INDEX demands_awaiting_rating
    ON demands(COALESCE(rating_due, closed_at + 604800000), path, created_at, rating_due, closed_at, status, rating)
    WHERE status = 'closed' AND rating IS NULL;
