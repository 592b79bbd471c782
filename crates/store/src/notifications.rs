//! Notifications of every module: a line in someone's in-app list when something of
//! theirs moves, addressed to one account, to everyone holding a role over a place,
//! or to the members of a unit ([`crate::units`]). An audience is resolved when the
//! notice is sent, into one row per account, so that "my notifications" is one index
//! range whoever it was addressed to, and someone who joins a unit later does not
//! receive what came before.
//!
//! The web layer also sends each notice through the webhooks that carry its module
//! (`wangge_web::webhooks::fire_notice`).

use sqlx::{AnyConnection, Row};
use wangge_domain::{Message, Module, Role, Vocabulary, msg, new_id, now_millis};

use crate::{Db, StoreResult};

/// Who a notice is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// One account; an id that names no account reaches nobody (a handler named by
    /// free text), without an error.
    Account(String),
    /// Every enabled account holding `role` whose scope covers `path`: for example
    /// the community secretaries above a grid.
    Role { role: Role, path: String },
    /// The current members of a unit who have an account.
    Unit(String),
}

/// What a notice says and what it is about.
#[derive(Clone, Debug)]
pub struct Notice {
    pub module: Module,
    /// The record it is about (an item, a signup, …), if one.
    pub subject_id: Option<String>,
    /// The subject's place (its path), for the webhooks that cover only an area.
    pub path: String,
    /// The page to open, relative to the site (`/demands/…`).
    pub link: Option<String>,
    /// What it says, in no language yet: each reader reads it in theirs, and the
    /// webhooks in Chinese. Stored as JSON (`Message`'s stored form).
    pub message: Message,
}

/// A notification as its reader's list holds it.
#[derive(Clone, Debug)]
pub struct Notification {
    pub id: String,
    pub module: Module,
    /// The record it is about, in its module.
    pub subject_id: Option<String>,
    /// The item, for notifications of the demands module (kept for older clients:
    /// the same as `subject_id` there).
    pub demand_id: Option<String>,
    /// The page to open, relative to the site.
    pub link: Option<String>,
    pub message: Message,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Leaves `notice` for everyone in `to`; answers how many accounts it reached.
pub async fn notify(db: &Db, to: &Audience, notice: &Notice) -> StoreResult<u64> {
    let mut conn = db.pool.acquire().await?;
    notify_on(&mut conn, to, notice).await
}

/// [`notify`] on a connection (or a transaction) of the caller's.
pub async fn notify_on(conn: &mut AnyConnection, to: &Audience, notice: &Notice) -> StoreResult<u64> {
    let accounts: Vec<String> = match to {
        Audience::Account(id) => {
            sqlx::query_scalar("SELECT id FROM accounts WHERE id = $1").bind(id).fetch_all(&mut *conn).await?
        }
        // Covered: the notice's path starts with the path of one of the account's
        // scope nodes (materialised paths, see `subtree_bounds`).
        Audience::Role { role, path } => {
            sqlx::query_scalar(
                "SELECT DISTINCT a.id FROM accounts a
                 JOIN account_scopes s ON s.account_id = a.id
                 JOIN areas ar ON ar.id = s.area_id
                 WHERE a.role = $1 AND a.disabled = 0 AND substr(CAST($2 AS TEXT), 1, length(ar.path)) = ar.path",
            )
            .bind(role.code())
            .bind(path)
            .fetch_all(&mut *conn)
            .await?
        }
        Audience::Unit(unit) => {
            sqlx::query_scalar(
                "SELECT DISTINCT m.account_id FROM unit_members m JOIN accounts a ON a.id = m.account_id
                 WHERE m.organisation_id = $1 AND m.left_at IS NULL AND a.disabled = 0",
            )
            .bind(unit)
            .fetch_all(&mut *conn)
            .await?
        }
    };
    let now = now_millis();
    let demand_id = (notice.module == Module::Demands).then_some(notice.subject_id.as_deref()).flatten();
    // Strings and lists only: serialising cannot fail.
    let message = serde_json::to_string(&notice.message).expect("a message serialises");
    let rows: Vec<(String, &String)> = accounts.iter().map(|a| (new_id(), a)).collect();
    const COLUMNS: &str = "id, account_id, module, subject_id, demand_id, link, message, created_at";
    crate::bulk::insert_chunked(conn, "notifications", COLUMNS, &rows, |q, (id, account)| {
        q.bind(id)
            .bind(*account)
            .bind(notice.module.code())
            .bind(&notice.subject_id)
            .bind(demand_id)
            .bind(&notice.link)
            .bind(&message)
            .bind(now)
    })
    .await?;
    Ok(rows.len() as u64)
}

/// The account's latest notifications, newest first.
pub async fn mine(db: &Db, account_id: &str, limit: i64) -> StoreResult<Vec<Notification>> {
    let rows = sqlx::query(
        "SELECT id, module, subject_id, demand_id, link, message, created_at, read_at FROM notifications
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
                module: crate::demands::vocab(r, "module")?,
                subject_id: r.try_get("subject_id")?,
                demand_id: r.try_get("demand_id")?,
                link: r.try_get("link")?,
                message: stored_message(r.try_get("message")?),
                created_at: r.try_get("created_at")?,
                read_at: r.try_get("read_at")?,
            })
        })
        .collect()
}

/// A stored message; a row written before messages were stored as JSON holds its
/// Chinese text, shown as it is.
fn stored_message(text: String) -> Message {
    serde_json::from_str(&text).unwrap_or_else(|_| msg!("notice.text", text = text))
}

/// How many of the account's notifications are unread.
pub async fn unread(db: &Db, account_id: &str) -> StoreResult<i64> {
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE account_id = $1 AND read_at IS NULL")
        .bind(account_id)
        .fetch_one(&db.pool)
        .await?;
    Ok(n)
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
