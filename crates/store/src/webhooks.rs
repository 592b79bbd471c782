//! Outgoing webhooks, and the log of every delivery attempt: a demand's state
//! changes, and the notices of any module ([`crate::notifications`]) a webhook
//! carries (its `modules`). The web layer sends them; the store keeps who to send
//! to and what happened.

use crate::Thing;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;
use wangge_domain::{Module, Vocabulary, msg, new_id, now_millis};

use crate::vault::Vault;
use crate::{Db, StoreError, StoreResult};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Webhook {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    pub url: String,
    /// `json` (signed, `X-Wangge-Signature: sha256=<hex>`), `wecom` or `dingtalk`
    /// (group-robot markdown messages).
    pub format: String,
    /// Items under this area only.
    pub path: String,
    /// The modules whose events it carries.
    pub modules: Vec<Module>,
    /// Whether a secret is set (the secret itself is never shown again).
    pub signed: bool,
    pub active: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewWebhook {
    pub name: String,
    pub url: String,
    /// `json` (default), `wecom` or `dingtalk`.
    pub format: Option<String>,
    /// The HMAC key of `json` webhooks, or the signing secret of a DingTalk robot.
    pub secret: Option<String>,
    /// Area id or code; default: everything.
    pub area: Option<String>,
    /// The modules whose events it carries; default: demands.
    #[serde(default)]
    pub modules: Vec<Module>,
}

/// The stored list of module codes.
fn modules_text(modules: &[Module]) -> String {
    let list = if modules.is_empty() { &[Module::Demands][..] } else { modules };
    list.iter().map(|m| m.code()).collect::<Vec<_>>().join(",")
}

fn modules_of(text: &str) -> Vec<Module> {
    text.split(',').filter_map(|c| Module::from_code(c.trim())).collect()
}

/// Where and how to send, with the secret opened.
#[derive(Clone, Debug)]
pub struct Target {
    pub id: String,
    pub url: String,
    pub format: String,
    pub secret: Option<String>,
}

fn aad(id: &str) -> String {
    format!("webhooks.secret:{id}")
}

fn from_row(row: &AnyRow) -> StoreResult<Webhook> {
    Ok(Webhook {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        url: row.try_get("url")?,
        format: row.try_get("format")?,
        path: row.try_get("path")?,
        modules: modules_of(&row.try_get::<String, _>("modules")?),
        signed: row.try_get::<Option<String>, _>("secret_enc")?.is_some(),
        active: row.try_get::<i16, _>("active")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

/// Registers a webhook for items under `path` ("/" for everything).
pub async fn create(db: &Db, new: NewWebhook, path: &str) -> StoreResult<Webhook> {
    let format = new.format.as_deref().unwrap_or("json").trim().to_owned();
    if !matches!(format.as_str(), "json" | "wecom" | "dingtalk") {
        return Err(StoreError::Invalid(msg!("security.error.webhook_format", format = &format).field("format")));
    }
    let url = new.url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(StoreError::Invalid(msg!("security.error.webhook_url", url = url).field("url")));
    }
    if new.name.trim().is_empty() {
        return Err(StoreError::Invalid(msg!("security.error.webhook_name").field("name")));
    }
    let id = new_id();
    let secret = new.secret.as_deref().map(str::trim).filter(|s| !s.is_empty());
    sqlx::query(
        "INSERT INTO webhooks (id, name, url, format, secret_enc, path, modules, active, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)",
    )
    .bind(&id)
    .bind(new.name.trim())
    .bind(url)
    .bind(&format)
    .bind(secret.map(|s| db.vault.seal(s, &aad(&id))))
    .bind(path)
    .bind(modules_text(&new.modules))
    .bind(now_millis())
    .execute(&db.pool)
    .await?;
    get(db, &id).await
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Webhook> {
    let row = sqlx::query(
        "SELECT id, name, url, format, secret_enc, path, modules, active, created_at FROM webhooks WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    from_row(&row.ok_or_else(|| StoreError::not_found(Thing::Webhook, id))?)
}

pub async fn list(db: &Db) -> StoreResult<Vec<Webhook>> {
    let rows = sqlx::query(
        "SELECT id, name, url, format, secret_enc, path, modules, active, created_at FROM webhooks ORDER BY created_at",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Stops a webhook; its delivery log stays.
pub async fn deactivate(db: &Db, id: &str) -> StoreResult<Webhook> {
    let done = sqlx::query("UPDATE webhooks SET active = 0 WHERE id = $1").bind(id).execute(&db.pool).await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found(Thing::Webhook, id));
    }
    get(db, id).await
}

/// The active webhooks that carry `module`'s events and cover a subject at `path`.
pub async fn targets_for(db: &Db, module: Module, path: &str) -> StoreResult<Vec<Target>> {
    // Few webhooks exist: read them all and match the prefix here, rather than
    // asking the engine for "stored path is a prefix of this one".
    let rows = sqlx::query("SELECT id, url, format, secret_enc, path, modules FROM webhooks WHERE active = 1")
        .fetch_all(&db.pool)
        .await?;
    let mut out = Vec::new();
    for row in rows {
        let under: String = row.try_get("path")?;
        if !path.starts_with(&under) || !modules_of(&row.try_get::<String, _>("modules")?).contains(&module) {
            continue;
        }
        let id: String = row.try_get("id")?;
        let sealed: Option<String> = row.try_get("secret_enc")?;
        let secret = sealed.map(|s| db.vault.open(&s, &aad(&id))).transpose()?;
        out.push(Target { url: row.try_get("url")?, format: row.try_get("format")?, secret, id });
    }
    Ok(out)
}

/// One attempt to deliver an event.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Delivery {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub webhook_id: String,
    #[schema(format = Uuid)]
    pub demand_id: String,
    #[schema(format = Uuid)]
    pub event_id: String,
    /// 1 for the first try.
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub delivered: bool,
    pub at: i64,
}

pub async fn record_delivery(db: &Db, d: &Delivery) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, webhook_id, demand_id, event_id, attempt, status_code, error, delivered, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&d.id)
    .bind(&d.webhook_id)
    .bind(&d.demand_id)
    .bind(&d.event_id)
    .bind(d.attempt)
    .bind(d.status_code)
    .bind(&d.error)
    .bind(i16::from(d.delivered))
    .bind(d.at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The webhook's delivery log, newest first.
pub async fn deliveries(db: &Db, webhook_id: &str, limit: i64) -> StoreResult<Vec<Delivery>> {
    let rows = sqlx::query(
        "SELECT id, webhook_id, demand_id, event_id, attempt, status_code, error, delivered, at
         FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(webhook_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Delivery {
                id: r.try_get("id")?,
                webhook_id: r.try_get("webhook_id")?,
                demand_id: r.try_get("demand_id")?,
                event_id: r.try_get("event_id")?,
                attempt: r.try_get("attempt")?,
                status_code: r.try_get("status_code")?,
                error: r.try_get("error")?,
                delivered: r.try_get::<i16, _>("delivered")? != 0,
                at: r.try_get("at")?,
            })
        })
        .collect()
}

/// Seals the webhook secrets again under `new` (key rotation).
pub(crate) async fn rekey(conn: &mut AnyConnection, old: &Vault, new: &Vault) -> StoreResult<()> {
    let rows =
        sqlx::query("SELECT id, secret_enc FROM webhooks WHERE secret_enc IS NOT NULL").fetch_all(&mut *conn).await?;
    for row in &rows {
        let id: String = row.try_get("id")?;
        let sealed: String = row.try_get("secret_enc")?;
        let secret = old.open(&sealed, &aad(&id))?;
        sqlx::query("UPDATE webhooks SET secret_enc = $1 WHERE id = $2")
            .bind(new.seal(&secret, &aad(&id)))
            .bind(&id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A fresh delivery record for `attempt` of `event_id`.
pub fn attempt(target: &Target, demand_id: &str, event_id: &str, attempt: i64) -> Delivery {
    Delivery {
        id: new_id(),
        webhook_id: target.id.clone(),
        demand_id: demand_id.to_owned(),
        event_id: event_id.to_owned(),
        attempt,
        status_code: None,
        error: None,
        delivered: false,
        at: now_millis(),
    }
}

/// A send waiting in the outbox (`webhook_outbox`), taken by one server at a time.
#[derive(Clone, Debug)]
pub struct Pending {
    pub id: String,
    pub webhook_id: String,
    pub demand_id: String,
    pub event_id: String,
    pub event_name: String,
    pub body: String,
    /// The number of this try, 1 for the first.
    pub attempt: i64,
}

/// Puts a send in the outbox, due now; returns its id. Written before the first
/// try, so that a restart between tries does not lose it.
pub async fn enqueue(
    db: &Db,
    webhook_id: &str,
    demand_id: &str,
    event_id: &str,
    event_name: &str,
    body: &str,
) -> StoreResult<String> {
    let id = new_id();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO webhook_outbox (id, webhook_id, demand_id, event_id, event_name, body, attempt, next_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8)",
    )
    .bind(&id)
    .bind(webhook_id)
    .bind(demand_id)
    .bind(event_id)
    .bind(event_name)
    .bind(body)
    .bind(now)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(id)
}

/// The sends due at `now`, oldest first, at most `limit`.
pub async fn due(db: &Db, now: i64, limit: i64) -> StoreResult<Vec<String>> {
    let ids = sqlx::query_scalar("SELECT id FROM webhook_outbox WHERE next_at <= $1 ORDER BY next_at, id LIMIT $2")
        .bind(now)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    Ok(ids)
}

/// Takes a due send for `lease_ms`: moves its time forward so that no other server
/// (nor this one's sweep) tries it meanwhile. `None` when it is not due or another
/// has taken it. If the taker dies, the send is due again when the lease ends.
pub async fn take(db: &Db, id: &str, now: i64, lease_ms: i64) -> StoreResult<Option<Pending>> {
    let taken = sqlx::query("UPDATE webhook_outbox SET next_at = $1 WHERE id = $2 AND next_at <= $3")
        .bind(now + lease_ms)
        .bind(id)
        .bind(now)
        .execute(&db.pool)
        .await?;
    if taken.rows_affected() != 1 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT id, webhook_id, demand_id, event_id, event_name, body, attempt FROM webhook_outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(Pending {
            id: r.try_get("id")?,
            webhook_id: r.try_get("webhook_id")?,
            demand_id: r.try_get("demand_id")?,
            event_id: r.try_get("event_id")?,
            event_name: r.try_get("event_name")?,
            body: r.try_get("body")?,
            attempt: r.try_get("attempt")?,
        })
    })
    .transpose()
}

/// After a failed try: the next one, numbered `attempt`, at `next_at`.
pub async fn retry_at(db: &Db, id: &str, attempt: i64, next_at: i64) -> StoreResult<()> {
    sqlx::query("UPDATE webhook_outbox SET attempt = $1, next_at = $2 WHERE id = $3")
        .bind(attempt)
        .bind(next_at)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Delivered, or given up: out of the outbox (the tries stay in the log).
pub async fn finish(db: &Db, id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM webhook_outbox WHERE id = $1").bind(id).execute(&db.pool).await?;
    Ok(())
}

/// How many sends wait in the outbox.
pub async fn pending_count(db: &Db) -> StoreResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM webhook_outbox").fetch_one(&db.pool).await?)
}

/// The active webhook `id`, with its secret opened; `None` once deactivated.
pub async fn target(db: &Db, id: &str) -> StoreResult<Option<Target>> {
    let row = sqlx::query("SELECT id, url, format, secret_enc FROM webhooks WHERE id = $1 AND active = 1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let sealed: Option<String> = row.try_get("secret_enc")?;
    let secret = sealed.map(|s| db.vault.open(&s, &aad(id))).transpose()?;
    Ok(Some(Target { id: id.to_owned(), url: row.try_get("url")?, format: row.try_get("format")?, secret }))
}
