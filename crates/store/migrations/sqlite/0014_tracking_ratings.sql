-- Every reporter follows their report; ratings that tell the truth (issue 16).
-- Kept in step with ../postgres/0014_tracking_ratings.sql.

-- The tracking number a person can read over the phone: 7 random digits and a Damm
-- check digit (wangge_domain::TrackingNumber), unique in the deployment. NULL only
-- for items recorded before this migration.
ALTER TABLE demands ADD COLUMN tracking_no TEXT;
CREATE UNIQUE INDEX demands_tracking_no ON demands(tracking_no);
-- The blind index of the last four digits of the reporter's phone (store::vault):
-- the public tracking page checks it, and the ledger searches by it.
ALTER TABLE demands ADD COLUMN reporter_phone_last4_hash TEXT;
CREATE INDEX demands_phone_last4 ON demands(reporter_phone_last4_hash, created_at);
-- Who gave the rating: `resident` (portal, tracking page) or `staff` (recorded
-- after a call-back, with who called and when). Counted apart in the method.
ALTER TABLE demands ADD COLUMN rating_source TEXT;
ALTER TABLE demands ADD COLUMN rated_at BIGINT;
ALTER TABLE demands ADD COLUMN rating_called_by TEXT;
ALTER TABLE demands ADD COLUMN rating_called_at BIGINT;
-- The end of the time to rate, set when the item is closed (its community's
-- rating_days after closing). Not rated by then: "not rated", never satisfied.
ALTER TABLE demands ADD COLUMN rating_due BIGINT;

-- Per community: the days a closed item may be rated in (NULL: the default, 7).
ALTER TABLE areas ADD COLUMN rating_days BIGINT;

-- Wrong guesses of the tracking page (a number with the wrong phone digits), per
-- address and per number, as login_failures are for logins.
CREATE TABLE tracking_failures (
    key  TEXT NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX tracking_failures_key ON tracking_failures(key, at);
