//! Break the glass: an official who sees only figures may take time-limited access to
//! the names under one area, for a stated reason. The grant is recorded here and in
//! the audit log, and lapses by itself.

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;
use wangge_domain::{msg, new_id, now_millis};

use crate::registry::areas::Area;
use crate::{Db, StoreError, StoreResult};

/// The longest a grant may last.
pub const MAX_HOURS: u32 = 8;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Grant {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub area_id: String,
    pub path: String,
    pub reason: String,
    pub granted_at: i64,
    pub expires_at: i64,
}

pub async fn create(db: &Db, actor_id: &str, area: &Area, reason: &str, hours: u32) -> StoreResult<Grant> {
    let reason = reason.trim();
    if reason.chars().count() < 4 {
        return Err(StoreError::Invalid(msg!("security.error.grant_reason").field("reason")));
    }
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(StoreError::Invalid(msg!("security.error.grant_hours", most = MAX_HOURS).field("hours")));
    }
    let now = now_millis();
    let grant = Grant {
        id: new_id(),
        area_id: area.id.clone(),
        path: area.path.clone(),
        reason: reason.to_owned(),
        granted_at: now,
        expires_at: now + i64::from(hours) * 3_600_000,
    };
    sqlx::query(
        "INSERT INTO access_grants (id, actor_id, area_id, path, reason, granted_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&grant.id)
    .bind(actor_id)
    .bind(&grant.area_id)
    .bind(&grant.path)
    .bind(&grant.reason)
    .bind(grant.granted_at)
    .bind(grant.expires_at)
    .execute(&db.pool)
    .await?;
    // Tokens are remembered with their grants (crate::cache).
    db.caches.forget_tokens();
    Ok(grant)
}

/// The paths under which `actor_id` may see names right now.
pub async fn active_paths(db: &Db, actor_id: &str) -> StoreResult<Vec<String>> {
    Ok(active(db, actor_id).await?.into_iter().map(|(path, _)| path).collect())
}

/// The live grants of `actor_id`: each path with its expiry (Unix ms).
pub(crate) async fn active(db: &Db, actor_id: &str) -> StoreResult<Vec<(String, i64)>> {
    let rows = sqlx::query("SELECT path, expires_at FROM access_grants WHERE actor_id = $1 AND expires_at > $2")
        .bind(actor_id)
        .bind(now_millis())
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("path")?, r.try_get("expires_at")?))).collect()
}

/// Ends a grant early (or, in tests, makes it lapse).
pub async fn expire(db: &Db, id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE access_grants SET expires_at = $1 WHERE id = $2")
        .bind(now_millis() - 1)
        .bind(id)
        .execute(&db.pool)
        .await?;
    db.caches.forget_tokens();
    Ok(())
}
