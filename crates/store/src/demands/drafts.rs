//! Pending reports: a report whose reporter is being asked "is it one of these?"
//! before it is recorded. The typed fields (opaque to the store, sealed like other
//! personal data, as they may hold a call-back phone) and the photos uploaded with
//! them wait here for [`LIFETIME_MS`], so that the answer needs one tap, not a
//! second upload. [`super::create_with`] removes the draft in the transaction that
//! records the item.

use sqlx::{AnyConnection, Row};
use wangge_domain::{msg, new_id, now_millis};

use super::NewFile;
use super::attachments;
use crate::{Db, StoreError, StoreResult};

/// How long a pending report waits for its answer: an hour.
pub const LIFETIME_MS: i64 = 3600 * 1000;
/// Most pending reports one owner (an account, or one building's poster) may have.
pub const MAX_PENDING: i64 = 20;

/// A pending report, opened.
#[derive(Clone, Debug)]
pub struct Draft {
    pub id: String,
    pub owner: String,
    pub building_id: Option<String>,
    /// What the form had typed, as the caller stored it (JSON, say).
    pub fields: String,
    pub files: Vec<NewFile>,
    pub created_at: i64,
}

fn aad(id: &str) -> String {
    format!("demand_drafts.fields:{id}")
}

/// Forgets pending reports older than their lifetime.
async fn purge(db: &Db, now: i64) -> StoreResult<()> {
    let before = now - LIFETIME_MS;
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "DELETE FROM demand_draft_files WHERE draft_id IN (SELECT id FROM demand_drafts WHERE created_at < $1)",
    )
    .bind(before)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM demand_drafts WHERE created_at < $1").bind(before).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Keeps a pending report for `owner`; answers its id. The files are checked as an
/// item's would be, so that a refusal comes now, not after the answer.
pub async fn save(
    db: &Db,
    owner: &str,
    building_id: Option<&str>,
    fields: &str,
    files: &[NewFile],
) -> StoreResult<String> {
    if files.len() as i64 > attachments::MAX_PER_ITEM {
        return Err(StoreError::Invalid(
            msg!("demands.error.too_many_files", most = attachments::MAX_PER_ITEM).field("files"),
        ));
    }
    for f in files {
        attachments::check(&f.data)?;
    }
    let now = now_millis();
    purge(db, now).await?;
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM demand_drafts WHERE owner = $1")
        .bind(owner)
        .fetch_one(&db.pool)
        .await?;
    if pending >= MAX_PENDING {
        return Err(StoreError::Conflict(msg!("demands.error.drafts_full")));
    }
    let id = new_id();
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO demand_drafts (id, owner, building_id, fields_enc, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(owner)
    .bind(building_id)
    .bind(db.vault.seal(fields, &aad(&id)))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for (position, f) in files.iter().enumerate() {
        sqlx::query("INSERT INTO demand_draft_files (id, draft_id, position, name, data) VALUES ($1, $2, $3, $4, $5)")
            .bind(new_id())
            .bind(&id)
            .bind(position as i64)
            .bind(&f.name)
            .bind(&f.data)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// The pending report `id` if it belongs to `owner` and has not expired.
pub async fn get(db: &Db, id: &str, owner: &str) -> StoreResult<Option<Draft>> {
    let row = sqlx::query(
        "SELECT id, owner, building_id, fields_enc, created_at FROM demand_drafts WHERE id = $1 AND owner = $2",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let created_at: i64 = row.try_get("created_at")?;
    if created_at < now_millis() - LIFETIME_MS {
        return Ok(None);
    }
    let sealed: String = row.try_get("fields_enc")?;
    let files = sqlx::query("SELECT name, data FROM demand_draft_files WHERE draft_id = $1 ORDER BY position")
        .bind(id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| Ok(NewFile { name: r.try_get("name")?, data: r.try_get("data")? }))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some(Draft {
        fields: db.vault.open(&sealed, &aad(id))?,
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        building_id: row.try_get("building_id")?,
        files,
        created_at,
    }))
}

/// Removes draft `id` inside the transaction that records its item; a draft already
/// gone (the button tapped twice) fails the whole transaction.
pub(crate) async fn remove_on(conn: &mut AnyConnection, id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM demand_draft_files WHERE draft_id = $1").bind(id).execute(&mut *conn).await?;
    let removed = sqlx::query("DELETE FROM demand_drafts WHERE id = $1").bind(id).execute(&mut *conn).await?;
    if removed.rows_affected() != 1 {
        return Err(StoreError::Conflict(msg!("demands.error.draft_sent")));
    }
    Ok(())
}

/// Every pending report, gone (the key rotation: they were sealed under the old key).
pub(crate) async fn clear_on(conn: &mut AnyConnection) -> StoreResult<()> {
    sqlx::query("DELETE FROM demand_draft_files").execute(&mut *conn).await?;
    sqlx::query("DELETE FROM demand_drafts").execute(&mut *conn).await?;
    Ok(())
}
