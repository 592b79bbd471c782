//! In-app notifications: a line for a handler or a resident when an item of theirs moves.

use serde::Serialize;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;
use wangge_domain::{new_id, now_millis};

use crate::{Db, StoreResult};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Notification {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub demand_id: Option<String>,
    pub message: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Leaves `message` for the account; accounts that no longer exist are skipped.
pub async fn notify(db: &Db, account_id: &str, demand_id: Option<&str>, message: &str) -> StoreResult<()> {
    let mut conn = db.pool.acquire().await?;
    notify_on(&mut conn, account_id, demand_id, message).await
}

pub(crate) async fn notify_on(
    conn: &mut AnyConnection,
    account_id: &str,
    demand_id: Option<&str>,
    message: &str,
) -> StoreResult<()> {
    // INSERT … SELECT: nothing is written for an id that is not an account (a
    // handler named by a free-text id), without a separate lookup.
    sqlx::query(
        "INSERT INTO notifications (id, account_id, demand_id, message, created_at)
         SELECT $1, id, $2, $3, $4 FROM accounts WHERE id = $5",
    )
    .bind(new_id())
    .bind(demand_id)
    .bind(message)
    .bind(now_millis())
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The account's latest notifications, newest first.
pub async fn mine(db: &Db, account_id: &str, limit: i64) -> StoreResult<Vec<Notification>> {
    let rows = sqlx::query(
        "SELECT id, demand_id, message, created_at, read_at FROM notifications
         WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(account_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Notification {
                id: r.try_get("id")?,
                demand_id: r.try_get("demand_id")?,
                message: r.try_get("message")?,
                created_at: r.try_get("created_at")?,
                read_at: r.try_get("read_at")?,
            })
        })
        .collect()
}

/// Marks all of the account's notifications read.
pub async fn mark_read(db: &Db, account_id: &str) -> StoreResult<u64> {
    let done = sqlx::query("UPDATE notifications SET read_at = $1 WHERE account_id = $2 AND read_at IS NULL")
        .bind(now_millis())
        .bind(account_id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}
