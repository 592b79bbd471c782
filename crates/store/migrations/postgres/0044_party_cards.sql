-- 亮身份 (issue 23): a member's public card — name, post, grid, a commitment and
-- an optional photo — shown on their grid's public page and board only while their
-- consent stands. Consent is the member's own (on /party/mine) or given on paper and
-- recorded by staff; it is revocable, and a revoked card is gone from every public
-- page at once. One row per member; consenting again after a revocation reuses it.
-- A card is placed by its member's row (their grid, their status), never by itself.
CREATE TABLE party_cards (
    member_id           TEXT PRIMARY KEY REFERENCES party_members(id),
    commitment          TEXT NOT NULL,
    photo_type          TEXT,
    photo               BYTEA,
    consent_at          BIGINT NOT NULL,
    consent_source      TEXT NOT NULL,
    consent_by_name     TEXT NOT NULL,
    revoked_at          BIGINT,
    revoked_by_name     TEXT,
    updated_at          BIGINT NOT NULL
);
