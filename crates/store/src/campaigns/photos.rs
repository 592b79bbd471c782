//! Photos taken at the door for a form's photo questions (`campaign_photos`).
//!
//! The door form is sent page by page and only its last page records the answers,
//! so a photo is stored when its page is sent ([`add`]) and the answers name it by
//! id. When the answers are recorded, the photos they name are kept and the
//! target's others deleted ([`keep`], in the answer's transaction); an id that is
//! not a photo of that target and question is refused ([`foreign`]). A form left
//! half-way leaves photos nobody kept: [`purge_loose`] deletes them a day later
//! (the hourly sweep). When a campaign's retention period ends, its photos go with
//! its answers (`retention::purge`).
//!
//! Like a demand's photos they are kept in the database, so a backup holds them,
//! told to be JPEG, PNG or WebP by their first bytes, at most
//! [`crate::demands::attachments::MAX_BYTES`] each, and served only to those who
//! may work on the target (the web layer checks, and audits each view).

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;
use wangge_domain::campaigns::{AnswerError, Form, QuestionKind};
use wangge_domain::{msg, new_id, now_millis};

use crate::demands::attachments;
use crate::{Db, StoreError, StoreResult, Thing};

/// How long a photo nobody's answers named is kept: a day, time enough to finish a
/// form left on a staircase.
pub const LOOSE_FOR_MS: i64 = 24 * 60 * 60 * 1000;

/// A photo's description (its bytes come from [`content`]).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Photo {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub target_id: String,
    /// The photo question it answers.
    pub question: String,
    pub name: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    pub size: i64,
    pub created_at: i64,
    /// When answers naming it were recorded (none: not yet).
    pub kept_at: Option<i64>,
}

/// Whether `data` may be a campaign photo: a file we accept that is an image.
pub fn check(data: &[u8]) -> StoreResult<&'static str> {
    let kind = attachments::check(data)?;
    if !kind.starts_with("image/") {
        return Err(StoreError::Invalid(msg!("campaigns.error.photo_type").field("file")));
    }
    Ok(kind)
}

/// Stores a photo for photo question `question` of target `target_id` (which the
/// caller has checked they may work on), replacing one sent earlier for the same
/// question and not kept yet (a photo taken again).
pub async fn add(db: &Db, target_id: &str, question: &str, name: &str, data: &[u8]) -> StoreResult<Photo> {
    let content_type = check(data)?;
    let p = Photo {
        id: new_id(),
        target_id: target_id.to_owned(),
        question: question.to_owned(),
        name: clean_name(name),
        content_type: content_type.to_owned(),
        size: data.len() as i64,
        created_at: now_millis(),
        kept_at: None,
    };
    let mut tx = db.pool.begin().await?;
    sqlx::query("DELETE FROM campaign_photos WHERE target_id = $1 AND question = $2 AND kept_at IS NULL")
        .bind(target_id)
        .bind(question)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO campaign_photos (id, target_id, question, name, content_type, size, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&p.id)
    .bind(&p.target_id)
    .bind(&p.question)
    .bind(&p.name)
    .bind(&p.content_type)
    .bind(p.size)
    .bind(data)
    .bind(p.created_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(p)
}

/// A name safe to store and to show: its last path segment, printable, at most 100
/// characters.
fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last.chars().filter(|c| !c.is_control() && !matches!(c, '"' | ';')).take(100).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() { "photo".to_owned() } else { cleaned.to_owned() }
}

fn from_row(r: &sqlx::any::AnyRow) -> StoreResult<Photo> {
    Ok(Photo {
        id: r.try_get("id")?,
        target_id: r.try_get("target_id")?,
        question: r.try_get("question")?,
        name: r.try_get("name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        created_at: r.try_get("created_at")?,
        kept_at: r.try_get("kept_at")?,
    })
}

/// One photo's description.
pub async fn get(db: &Db, id: &str) -> StoreResult<Photo> {
    let row = sqlx::query(
        "SELECT id, target_id, question, name, content_type, size, created_at, kept_at FROM campaign_photos
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    from_row(&row.ok_or_else(|| StoreError::not_found(Thing::CampaignPhoto, id))?)
}

/// A target's photos, oldest first.
pub async fn of_target(db: &Db, target_id: &str) -> StoreResult<Vec<Photo>> {
    let rows = sqlx::query(
        "SELECT id, target_id, question, name, content_type, size, created_at, kept_at FROM campaign_photos
         WHERE target_id = $1 ORDER BY created_at, id",
    )
    .bind(target_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// One photo's bytes.
pub async fn content(db: &Db, id: &str) -> StoreResult<Vec<u8>> {
    let data: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT data FROM campaign_photos WHERE id = $1").bind(id).fetch_optional(&db.pool).await?;
    data.ok_or_else(|| StoreError::not_found(Thing::CampaignPhoto, id))
}

/// The answers to photo questions that do not name a photo sent for that question
/// of that target: one error each.
pub(super) async fn foreign(
    conn: &mut sqlx::AnyConnection,
    target_id: &str,
    form: &Form,
    answers: &BTreeMap<String, String>,
) -> StoreResult<Vec<AnswerError>> {
    let mut errors = Vec::new();
    for q in form.questions.iter().filter(|q| q.kind == QuestionKind::Photo) {
        let Some(id) = answers.get(&q.name) else { continue };
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM campaign_photos WHERE id = $1 AND target_id = $2 AND question = $3")
                .bind(id)
                .bind(target_id)
                .bind(&q.name)
                .fetch_optional(&mut *conn)
                .await?;
        if found.is_none() {
            errors.push(AnswerError { question: q.name.clone(), message: msg!("campaigns.error.photo_unknown") });
        }
    }
    Ok(errors)
}

/// Keeps the photos the recorded answers name and deletes the target's others.
pub(super) async fn keep(
    conn: &mut sqlx::AnyConnection,
    target_id: &str,
    form: &Form,
    answers: &BTreeMap<String, String>,
) -> StoreResult<()> {
    let now = now_millis();
    for q in form.questions.iter().filter(|q| q.kind == QuestionKind::Photo) {
        if let Some(id) = answers.get(&q.name) {
            sqlx::query("UPDATE campaign_photos SET kept_at = $1 WHERE id = $2 AND target_id = $3")
                .bind(now)
                .bind(id)
                .bind(target_id)
                .execute(&mut *conn)
                .await?;
        }
    }
    sqlx::query("DELETE FROM campaign_photos WHERE target_id = $1 AND kept_at IS NULL")
        .bind(target_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes the photos no recorded answers named, sent before `before`
/// (milliseconds). Answers how many went.
pub async fn purge_loose(db: &Db, before: i64) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM campaign_photos WHERE kept_at IS NULL AND created_at < $1")
        .bind(before)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes every photo of a campaign (its retention period ended), on the purge's
/// transaction. Answers how many went.
pub(super) async fn purge_campaign(conn: &mut sqlx::AnyConnection, campaign_id: &str) -> StoreResult<u64> {
    let done = sqlx::query(
        "DELETE FROM campaign_photos WHERE target_id IN (SELECT id FROM campaign_targets WHERE campaign_id = $1)",
    )
    .bind(campaign_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// How many photos a campaign holds (for the purge's dry run).
pub(super) async fn count_of_campaign(db: &Db, campaign_id: &str) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM campaign_photos WHERE target_id IN (SELECT id FROM campaign_targets WHERE campaign_id = $1)",
    )
    .bind(campaign_id)
    .fetch_one(&db.pool)
    .await?;
    Ok(n as u64)
}
