//! Login sessions and login throttling, in the database so that any app server
//! behind the same database can serve any request.

use sqlx::Row;
use wangge_domain::now_millis;

use crate::security::accounts::{random_secret, secret_hash};
use crate::{Db, StoreResult};

/// A session ends after this long without a request…
pub const IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// …and after this long in any case.
pub const ABSOLUTE_TIMEOUT_MS: i64 = 12 * 60 * 60 * 1000;

/// A session's last request is written down at most this often: every
/// authenticated request would otherwise be a write.
pub const TOUCH_EVERY_MS: i64 = 60 * 1000;

/// Failed logins allowed per account name from one address within the window, then
/// that name is locked from that address — only there: someone guessing elsewhere
/// cannot lock the real user out at their usual desk…
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// …and per address, across all names (a password-spraying client).
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;

pub struct NewSession {
    /// Goes into the cookie; never stored.
    pub secret: String,
    pub csrf_token: String,
}

pub async fn create(db: &Db, account_id: &str, address: Option<&str>) -> StoreResult<NewSession> {
    let secret = random_secret();
    let csrf_token = random_secret();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO sessions (id_hash, account_id, csrf_token, created_at, last_seen_at, expires_at, revoked, address)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
    )
    .bind(secret_hash(&secret))
    .bind(account_id)
    .bind(&csrf_token)
    .bind(now)
    .bind(now)
    .bind(now + ABSOLUTE_TIMEOUT_MS)
    .bind(address)
    .execute(&db.pool)
    .await?;
    Ok(NewSession { secret, csrf_token })
}

/// A live session found by its cookie secret.
pub struct Live {
    pub account_id: String,
    pub csrf_token: String,
}

/// Looks the session up and extends its idle timer (written when the last write is
/// older than [`TOUCH_EVERY_MS`], and best effort: a failed write is logged); `None`
/// when it is unknown, revoked, idle too long or past its absolute end.
pub async fn touch(db: &Db, secret: &str) -> StoreResult<Option<Live>> {
    let now = now_millis();
    let hash = secret_hash(secret);
    let row = sqlx::query(
        "SELECT s.account_id, s.csrf_token, s.last_seen_at FROM sessions s JOIN accounts a ON a.id = s.account_id
         WHERE s.id_hash = $1 AND s.revoked = 0 AND s.expires_at > $2 AND s.last_seen_at > $3 AND a.disabled = 0",
    )
    .bind(&hash)
    .bind(now)
    .bind(now - IDLE_TIMEOUT_MS)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let last_seen: i64 = row.try_get("last_seen_at")?;
    if now - last_seen >= TOUCH_EVERY_MS {
        // Best effort: a session seen a minute ago is as good as one seen now, and a
        // request that only reads must not fail because this write did (a full disk).
        let touched = sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(&hash)
            .execute(&db.pool)
            .await;
        if let Err(e) = touched {
            tracing::warn!(
                "could not record a session's last request (it stays valid): {}",
                crate::StoreError::from(e)
            );
        }
    }
    Ok(Some(Live { account_id: row.try_get("account_id")?, csrf_token: row.try_get("csrf_token")? }))
}

pub async fn revoke(db: &Db, secret: &str) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET revoked = 1 WHERE id_hash = $1")
        .bind(secret_hash(secret))
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn revoke_all(db: &Db, account_id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET revoked = 1 WHERE account_id = $1").bind(account_id).execute(&db.pool).await?;
    Ok(())
}

/// Moves a session's clock back, for tests of expiry.
pub async fn age(db: &Db, secret: &str, by_ms: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE sessions SET last_seen_at = last_seen_at - $1, created_at = created_at - $1 WHERE id_hash = $2",
    )
    .bind(by_ms)
    .bind(secret_hash(secret))
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The failures of one account name from one address.
fn account_key(username: &str, address: &str) -> String {
    format!("account:{}@{address}", username.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

/// Whether logins for this name from this address, or from this address at all,
/// are throttled now; if so, for how many more minutes. A name is never locked
/// everywhere at once.
pub async fn throttled(db: &Db, username: &str, address: &str) -> StoreResult<Option<i64>> {
    let keys =
        [(account_key(username, address), MAX_FAILURES_PER_ACCOUNT), (address_key(address), MAX_FAILURES_PER_ADDRESS)];
    over_limit(db, "login_failures", &keys, FAILURE_WINDOW_MS).await
}

pub async fn record_failure(db: &Db, username: &str, address: &str) -> StoreResult<()> {
    record_failures(db, "login_failures", &[account_key(username, address), address_key(address)], FAILURE_WINDOW_MS)
        .await
}

/// The throttling mechanism of logins, shared with the tracking page
/// (`demands::tracking`): whether any of `keys` has reached its limit of failures
/// within `window_ms` in `table` (a table of `(key, at)` rows); if so, for how many
/// more minutes.
pub(crate) async fn over_limit(
    db: &Db,
    table: &'static str,
    keys: &[(String, i64)],
    window_ms: i64,
) -> StoreResult<Option<i64>> {
    let now = now_millis();
    for (key, limit) in keys {
        let sql = format!("SELECT COUNT(*) AS n, MIN(at) AS first FROM {table} WHERE key = $1 AND at > $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).bind(now - window_ms).fetch_one(&db.pool).await?;
        let n: i64 = row.try_get("n")?;
        if n >= *limit {
            let first: Option<i64> = row.try_get("first")?;
            let until = first.unwrap_or(now) + window_ms;
            return Ok(Some(((until - now) / 60_000).max(1)));
        }
    }
    Ok(None)
}

/// Records a failure under each of `keys` in `table`, and forgets those older than
/// `window_ms` (they no longer count; the table stays small).
pub(crate) async fn record_failures(db: &Db, table: &'static str, keys: &[String], window_ms: i64) -> StoreResult<()> {
    let now = now_millis();
    for key in keys {
        let sql = format!("INSERT INTO {table} (key, at) VALUES ($1, $2)");
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).bind(now).execute(&db.pool).await?;
    }
    let sql = format!("DELETE FROM {table} WHERE at < $1");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now - window_ms).execute(&db.pool).await?;
    Ok(())
}

/// A successful login clears the account's failures from that address (not the
/// address's own count).
pub async fn clear_failures(db: &Db, username: &str, address: &str) -> StoreResult<()> {
    let key = account_key(username, address);
    sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key).execute(&db.pool).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};

    #[tokio::test]
    async fn a_name_is_locked_from_the_guessing_address_only() {
        testing::all_at(async |t: &TestDb| {
            let db = &t.db;
            for _ in 0..MAX_FAILURES_PER_ACCOUNT {
                record_failure(db, "Wangli", "203.0.113.66").await.unwrap();
            }
            assert!(throttled(db, "wangli", "203.0.113.66").await.unwrap().is_some(), "the guesser is stopped");
            assert_eq!(
                throttled(db, "wangli", "192.168.1.20").await.unwrap(),
                None,
                "the real user at their usual desk is not locked out"
            );
            assert_eq!(throttled(db, "zhaoqiang", "203.0.113.66").await.unwrap(), None, "5 failures < 20 per address");
            for _ in MAX_FAILURES_PER_ACCOUNT..MAX_FAILURES_PER_ADDRESS {
                record_failure(db, "someone-else", "203.0.113.66").await.unwrap();
            }
            assert!(throttled(db, "zhaoqiang", "203.0.113.66").await.unwrap().is_some(), "a spraying address is");
            clear_failures(db, "wangli", "192.168.1.20").await.unwrap();
            assert!(
                throttled(db, "wangli", "203.0.113.66").await.unwrap().is_some(),
                "a login elsewhere clears nothing here"
            );
        })
        .await;
    }
}
