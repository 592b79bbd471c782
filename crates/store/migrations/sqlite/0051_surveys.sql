-- Surveys (issue 24): a questionnaire of an area, its form a campaigns form kept
-- as JSON (the same question types, required, skip logic, XLSForm). Answers come
-- by link, portal, at the door, by phone or from paper (`channel`, `paper`).
-- Each answer keeps only coarse attributes of its respondent: grid, ten-year age
-- band, residence type. A named survey also keeps who answered (`resident_id`,
-- `account_id`, `entered_by`); an anonymous one never does, its answer ids are
-- random (not time-ordered) and it keeps the day, not the time. Who has answered
-- is a separate table keyed by survey and person, with nothing else in it: it
-- stops a second answer and cannot be joined to an answer.
CREATE TABLE surveys (
    id           TEXT PRIMARY KEY,
    area_id      TEXT NOT NULL REFERENCES areas(id),
    path         TEXT NOT NULL,
    title        TEXT NOT NULL,
    intro        TEXT NOT NULL DEFAULT '',
    form         TEXT NOT NULL,
    anonymous    SMALLINT NOT NULL DEFAULT 0,
    state        TEXT NOT NULL,
    author_name  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX surveys_path ON surveys(path, state);

CREATE TABLE survey_quotas (
    survey_id  TEXT NOT NULL REFERENCES surveys(id),
    grid_id    TEXT NOT NULL REFERENCES areas(id),
    quota      BIGINT NOT NULL,
    PRIMARY KEY (survey_id, grid_id)
);

CREATE TABLE survey_answers (
    id              TEXT PRIMARY KEY,
    survey_id       TEXT NOT NULL REFERENCES surveys(id),
    grid_id         TEXT,
    path            TEXT NOT NULL,
    age_band        TEXT NOT NULL DEFAULT '',
    residence_type  TEXT NOT NULL DEFAULT '',
    channel         TEXT NOT NULL,
    paper           SMALLINT NOT NULL DEFAULT 0,
    answers         TEXT NOT NULL,
    answered_on     TEXT NOT NULL,
    resident_id     TEXT,
    account_id      TEXT,
    entered_by      TEXT
);
CREATE INDEX survey_answers_survey ON survey_answers(survey_id, path);

CREATE TABLE survey_responded (
    survey_id   TEXT NOT NULL REFERENCES surveys(id),
    person_key  TEXT NOT NULL,
    PRIMARY KEY (survey_id, person_key)
);
