-- PostgreSQL counts new items into the demand summaries through one function
-- (../postgres/0075_demand_summaries_add.sql). SQLite keeps its row triggers:
-- nothing changes here. The file keeps the two trees' numbers in step.
SELECT 1;
