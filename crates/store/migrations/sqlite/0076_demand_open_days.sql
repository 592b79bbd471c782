-- Open items by the day of their deadline and of their creation, at every level
-- (../postgres/0076_demand_open_days.sql), are kept on PostgreSQL only. Kept here
-- by row triggers like SQLite's other roll-ups, they cost intake as much as
-- `demand_days` does (an insert of 20,000 items: 1.25 s without them, 1.60 s
-- with), and summary upkeep would pass 10 % of intake's rate
-- (docs/benchmarks.md); an SQLite office's open items (a street's few thousand)
-- are counted from their own index (`demands_open`, 0010) in a few milliseconds,
-- as before. So here `demand_open_days` is a view of the items themselves, for
-- `wangge figures verify` and the same names on both engines, and no reader of
-- figures reads it (`cockpit::demands::open_and_overdue`, `demands::list`). The
-- queue gets the column PostgreSQL's has, so that both trees have the same tables
-- (nothing writes it here).
ALTER TABLE demand_summary_queue ADD COLUMN resolve_due BIGINT;

CREATE VIEW demand_open_days AS
SELECT a.ancestor AS path,
       (CASE WHEN d.status = 'submitted' THEN d.accept_due ELSE d.resolve_due END + 28800000) / 86400000 AS due_day,
       (d.created_at + 28800000) / 86400000 AS created_day,
       COUNT(*) AS n
FROM demands d JOIN area_ancestors a ON a.path = d.path
WHERE d.status IN ('submitted', 'accepted', 'dispatched', 'in_hand', 'reported_done', 'verified', 'reopened')
GROUP BY 1, 2, 3;

CREATE VIEW demand_open_days_live AS SELECT path, due_day, created_day, n FROM demand_open_days;
