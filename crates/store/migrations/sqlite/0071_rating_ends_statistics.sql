-- PostgreSQL learns the statistics of when a closed, unrated item's time to rate
-- ends (../postgres/0071_rating_ends_statistics.sql). SQLite is told which index to
-- read for that count (`INDEXED BY demands_awaiting_rating` in `demands::rates`):
-- nothing changes here. The file keeps the two trees' numbers in step.
SELECT 1;
