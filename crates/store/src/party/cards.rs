//! 亮身份 (bright identity): a member's public card — name, post, grid, their
//! commitment and an optional photo — on their grid's public page and board, only
//! while their consent stands. Consent is given by the member on their own page, or
//! on paper and recorded by staff; either may revoke it, and a revoked card is gone
//! from every public page at once (the public queries read the consent, the
//! member's status and grid at the time of reading; nothing is copied out).

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use wangge_domain::party::{MemberEventKind, MemberStatus};
use wangge_domain::{msg, now_millis};

use super::{bad, event, free, member, term};
use crate::{Db, StoreError, StoreResult, subtree_bounds};

/// Longest commitment, in characters: two lines on a card.
const COMMITMENT_CHARS: usize = 60;

/// Who gave the consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    /// The member, signed in, on their own page.
    Member,
    /// The member on paper, recorded by staff.
    Paper,
}

impl ConsentSource {
    fn code(self) -> &'static str {
        match self {
            ConsentSource::Member => "member",
            ConsentSource::Paper => "paper",
        }
    }
}

/// A card as the public sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Card {
    pub member_id: String,
    pub name: String,
    /// Their post (党小组长, 党员联系户), else their kind (在职党员, 离退休党员).
    pub post: String,
    pub kind: wangge_domain::party::MemberKind,
    pub grid_name: Option<String>,
    pub org_name: Option<String>,
    pub commitment: String,
    pub has_photo: bool,
}

/// A member's consent as staff and the member see it.
#[derive(Clone, Debug, Serialize)]
pub struct Consent {
    pub commitment: String,
    pub has_photo: bool,
    pub consent_at: i64,
    /// `member` or `paper`.
    pub source: String,
    pub by_name: String,
    /// Set when revoked: the card is then shown nowhere.
    pub revoked_at: Option<i64>,
    pub revoked_by_name: Option<String>,
}

const CARD: &str = "SELECT m.id AS member_id, m.name, m.post, m.kind, g.name AS grid_name, o.name AS org_name,
        c.commitment, c.photo_type
     FROM party_cards c JOIN party_members m ON m.id = c.member_id
        LEFT JOIN areas g ON g.id = m.grid_id LEFT JOIN party_orgs o ON o.id = m.org_id
     WHERE c.revoked_at IS NULL AND m.status = 'active'";

fn card_from(r: &AnyRow) -> StoreResult<Card> {
    Ok(Card {
        member_id: r.try_get("member_id")?,
        name: r.try_get("name")?,
        post: r.try_get("post")?,
        kind: term(r, "kind")?,
        grid_name: r.try_get("grid_name")?,
        org_name: r.try_get("org_name")?,
        commitment: r.try_get("commitment")?,
        has_photo: r.try_get::<Option<String>, _>("photo_type")?.is_some(),
    })
}

/// Records a member's consent to show their card, with their commitment and
/// optionally a photo (JPEG, PNG or WebP; `None` keeps the one they gave before,
/// `Some(empty)` removes it). Only an active member; the commitment is required.
pub async fn consent(
    db: &Db,
    member_id: &str,
    commitment: &str,
    photo: Option<&[u8]>,
    source: ConsentSource,
    by: &str,
) -> StoreResult<Consent> {
    let m = member(db, member_id).await?;
    if m.status != MemberStatus::Active {
        return Err(StoreError::Conflict(
            wangge_domain::Message::new("party.error.not_active").arg("name", &m.name).term("status", m.status),
        ));
    }
    let commitment = free(commitment, "commitment", COMMITMENT_CHARS)?;
    if commitment.is_empty() {
        return Err(bad(msg!("party.error.required").field("commitment")));
    }
    let photo = match photo {
        Some([]) => Some(None),
        Some(data) => {
            let kind = crate::demands::attachments::check(data)?;
            if kind == "application/pdf" {
                return Err(bad(msg!("party.error.photo_type").field("photo")));
            }
            Some(Some((kind, data)))
        }
        None => None,
    };
    let now = now_millis();
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO party_cards (member_id, commitment, consent_at, consent_source, consent_by_name, updated_at)
         VALUES ($1, $2, $3, $4, $5, $3)
         ON CONFLICT (member_id) DO UPDATE SET commitment = excluded.commitment, consent_at = excluded.consent_at,
            consent_source = excluded.consent_source, consent_by_name = excluded.consent_by_name,
            revoked_at = NULL, revoked_by_name = NULL, updated_at = excluded.updated_at",
    )
    .bind(member_id)
    .bind(&commitment)
    .bind(now)
    .bind(source.code())
    .bind(by)
    .execute(&mut *tx)
    .await?;
    if let Some(photo) = photo {
        sqlx::query("UPDATE party_cards SET photo_type = $1, photo = $2 WHERE member_id = $3")
            .bind(photo.map(|(kind, _)| kind))
            .bind(photo.map(|(_, data)| data.to_vec()))
            .bind(member_id)
            .execute(&mut *tx)
            .await?;
    }
    let detail = match source {
        ConsentSource::Member => "同意亮身份（本人）",
        ConsentSource::Paper => "同意亮身份（书面，工作人员录入）",
    };
    event(&mut tx, member_id, MemberEventKind::Card, detail, by).await?;
    tx.commit().await?;
    consent_of(db, member_id).await?.ok_or_else(|| StoreError::Conflict(msg!("party.error.changed")))
}

/// Revokes a member's consent: their card is shown nowhere from now on. Revoking
/// what is not given is refused.
pub async fn revoke(db: &Db, member_id: &str, by: &str) -> StoreResult<Consent> {
    let now = now_millis();
    let mut tx = db.pool.begin().await?;
    let changed = sqlx::query(
        "UPDATE party_cards SET revoked_at = $1, revoked_by_name = $2, updated_at = $1
         WHERE member_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(by)
    .bind(member_id)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() != 1 {
        return Err(StoreError::Conflict(msg!("party.error.no_consent")));
    }
    event(&mut tx, member_id, MemberEventKind::Card, "撤回亮身份同意", by).await?;
    tx.commit().await?;
    consent_of(db, member_id).await?.ok_or_else(|| StoreError::Conflict(msg!("party.error.changed")))
}

/// A member's consent, given or revoked, if they ever gave one.
pub async fn consent_of(db: &Db, member_id: &str) -> StoreResult<Option<Consent>> {
    let row = sqlx::query(
        "SELECT commitment, photo_type, consent_at, consent_source, consent_by_name, revoked_at, revoked_by_name
         FROM party_cards WHERE member_id = $1",
    )
    .bind(member_id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(Consent {
            commitment: r.try_get("commitment")?,
            has_photo: r.try_get::<Option<String>, _>("photo_type")?.is_some(),
            consent_at: r.try_get("consent_at")?,
            source: r.try_get("consent_source")?,
            by_name: r.try_get("consent_by_name")?,
            revoked_at: r.try_get("revoked_at")?,
            revoked_by_name: r.try_get("revoked_by_name")?,
        })
    })
    .transpose()
}

/// The cards shown under `path` (a grid's public page): active members with their
/// consent standing, by name.
pub async fn shown_under(db: &Db, path: &str) -> StoreResult<Vec<Card>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!("{CARD} AND m.path >= $1 AND m.path < $2 ORDER BY m.post = '', m.name, m.id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lo).bind(hi).fetch_all(&db.pool).await?;
    rows.iter().map(card_from).collect()
}

/// A shown card's photo (type, bytes): none once the consent is revoked or the
/// member is no longer active.
pub async fn shown_photo(db: &Db, member_id: &str) -> StoreResult<Option<(String, Vec<u8>, String)>> {
    let row = sqlx::query(
        "SELECT c.photo_type, c.photo, m.path FROM party_cards c JOIN party_members m ON m.id = c.member_id
         WHERE c.member_id = $1 AND c.revoked_at IS NULL AND m.status = 'active' AND c.photo_type IS NOT NULL",
    )
    .bind(member_id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| Ok((r.try_get("photo_type")?, r.try_get("photo")?, r.try_get("path")?))).transpose()
}

/// Of the grids under `path`, how many have at least one card shown, and how many
/// grids there are: the cockpit's share of grids whose members show their identity.
pub async fn grids_showing(db: &Db, path: &str) -> StoreResult<(i64, i64)> {
    let (lo, hi) = subtree_bounds(path);
    let showing: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT m.grid_id) FROM party_cards c JOIN party_members m ON m.id = c.member_id
         WHERE c.revoked_at IS NULL AND m.status = 'active' AND m.grid_id IS NOT NULL
            AND m.path >= $1 AND m.path < $2",
    )
    .bind(&lo)
    .bind(&hi)
    .fetch_one(&db.pool)
    .await?;
    let grids: i64 = sqlx::query_scalar("SELECT count(*) FROM areas WHERE level = 'grid' AND path >= $1 AND path < $2")
        .bind(&lo)
        .bind(&hi)
        .fetch_one(&db.pool)
        .await?;
    Ok((showing, grids))
}
