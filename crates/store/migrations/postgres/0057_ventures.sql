-- Micro venture capital (微创投, issue 25): a community's call with a budget and
-- weighted criteria; applications on a template; named judges' scores per
-- criterion; ranking, grade and amount (integer fen); the grant; spending against
-- it (over the grant only with a recorded decision); mid-term and final
-- evaluations; residents' ratings of finished projects.
CREATE TABLE venture_calls (
    id               TEXT PRIMARY KEY,
    community_id     TEXT NOT NULL REFERENCES areas(id),
    path             TEXT NOT NULL,
    title            TEXT NOT NULL,
    intro            TEXT NOT NULL,
    budget_fen       BIGINT NOT NULL,
    weights          TEXT NOT NULL,
    state            TEXT NOT NULL,
    closes_on        TEXT NOT NULL,
    published_at     BIGINT,
    created_by_name  TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX venture_calls_path ON venture_calls(path, created_at);

CREATE TABLE venture_applications (
    id              TEXT PRIMARY KEY,
    call_id         TEXT NOT NULL REFERENCES venture_calls(id),
    path            TEXT NOT NULL,
    unit_id         TEXT REFERENCES organisations(id),
    applicant       TEXT NOT NULL,
    contact         TEXT NOT NULL,
    title           TEXT NOT NULL,
    need            TEXT NOT NULL,
    plan            TEXT NOT NULL,
    requested_fen   BIGINT NOT NULL,
    state           TEXT NOT NULL,
    score_tenths    BIGINT,
    rank_no         BIGINT,
    grade           TEXT,
    amount_fen      BIGINT NOT NULL DEFAULT 0,
    granted_at      BIGINT,
    result          TEXT NOT NULL DEFAULT '',
    submitted_at    BIGINT NOT NULL
);
CREATE INDEX venture_applications_call ON venture_applications(call_id, submitted_at);

CREATE TABLE venture_scores (
    application_id  TEXT NOT NULL REFERENCES venture_applications(id),
    judge           TEXT NOT NULL,
    criterion       TEXT NOT NULL,
    score           BIGINT NOT NULL,
    scored_at       BIGINT NOT NULL,
    PRIMARY KEY (application_id, judge, criterion)
);

CREATE TABLE venture_spending (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES venture_applications(id),
    spent_on        TEXT NOT NULL,
    amount_fen      BIGINT NOT NULL,
    what            TEXT NOT NULL,
    decision        TEXT,
    by_name         TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX venture_spending_of ON venture_spending(application_id, spent_on);

CREATE TABLE venture_evaluations (
    application_id  TEXT NOT NULL REFERENCES venture_applications(id),
    stage           TEXT NOT NULL,
    score           BIGINT NOT NULL,
    text            TEXT NOT NULL,
    by_name         TEXT NOT NULL,
    at              BIGINT NOT NULL,
    PRIMARY KEY (application_id, stage)
);

CREATE TABLE venture_ratings (
    application_id  TEXT NOT NULL REFERENCES venture_applications(id),
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    score           BIGINT NOT NULL,
    comment         TEXT NOT NULL,
    at              BIGINT NOT NULL,
    PRIMARY KEY (application_id, account_id)
);
