-- A finer histogram of the residents' paths, as 0071 gave the items'. Of a city's
-- 7,000,000 residents the default 100 buckets hold 70,000 each, more than a street
-- (33,265), so a street's range was guessed at one row, and the cockpit's age bands
-- read the street's birthdays of the bands' edge months through the index by place
-- (33,265 entries, 6–31 ms a call) instead of one lookup a birthday in the index
-- by birth date, then place (`residents_born`, 0062: 0.4 ms). 1,000 buckets: a
-- street is a few of them (docs/benchmarks.md).
ALTER TABLE residents ALTER COLUMN path SET STATISTICS 1000;
ANALYZE residents;
