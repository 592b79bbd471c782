-- The day-before reminder of an activity (issue 25): when it went out to the
-- sign-up's account, so that it goes out once whichever server sweeps.
ALTER TABLE activity_signups ADD COLUMN reminded_at BIGINT;

-- Photos of an activity, taken by staff, shown to staff and to the residents of
-- its community or grid on the portal.
CREATE TABLE activity_photos (
    id               TEXT PRIMARY KEY,
    activity_id      TEXT NOT NULL REFERENCES activities(id),
    name             TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             BIGINT NOT NULL,
    data             BLOB NOT NULL,
    created_by_name  TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX activity_photos_of ON activity_photos(activity_id, created_at);
