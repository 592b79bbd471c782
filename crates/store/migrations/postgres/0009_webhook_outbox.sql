-- Webhook sends waiting for their next try, so that retries survive a restart.
-- A row is written when a state change fires, taken (leased) by one server at a
-- time by moving next_at forward, and deleted once delivered or given up; every
-- try is logged in webhook_deliveries.
CREATE TABLE webhook_outbox (
    id           TEXT PRIMARY KEY,
    webhook_id   TEXT NOT NULL REFERENCES webhooks(id),
    demand_id    TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    event_name   TEXT NOT NULL,
    body         TEXT NOT NULL,
    -- The number of the next try, 1 for the first.
    attempt      BIGINT NOT NULL,
    next_at      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(next_at);
