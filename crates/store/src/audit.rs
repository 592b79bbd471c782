//! The audit log: who did what, when, from where, to which record, and why.
//! Append-only: nothing in the application updates or deletes an entry.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wangge_domain::{new_id, now_millis};

use crate::conditions::Conditions;
use crate::{Db, Page, PageRequest, StoreResult};

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct Entry {
    #[schema(format = Uuid)]
    pub id: String,
    /// Unix milliseconds.
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub address: Option<String>,
    /// e.g. `login`, `login_failed`, `reveal`, `export`, `import`, `resident.update`, `account.create`.
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    /// The hierarchy path of the target: the log is scoped like the data.
    pub path: Option<String>,
    pub reason: Option<String>,
    /// JSON of the record before and after a change.
    pub before: Option<String>,
    pub after: Option<String>,
    /// `ok`, `denied` or `failed`.
    pub outcome: String,
}

pub async fn record(db: &Db, e: Entry) -> StoreResult<()> {
    let mut conn = db.pool.acquire().await?;
    record_on(&mut conn, e).await
}

/// [`record`] on a connection or in a transaction: the entry commits (or not) with
/// the change it describes.
pub async fn record_on(conn: &mut sqlx::AnyConnection, e: Entry) -> StoreResult<()> {
    let e = e.stamped(now_millis());
    let sql =
        format!("INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
    bind(sqlx::query(sqlx::AssertSqlSafe(sql)), &e).execute(&mut *conn).await?;
    Ok(())
}

/// The columns an entry is written in, in [`bind`]'s order.
pub(crate) const COLUMNS: &str =
    "id, at, actor_id, actor_name, address, action, target_kind, target_id, path, reason, before, after, outcome";

impl Entry {
    /// The entry as it is written: a fresh id, the time `at`, and `ok` unless an
    /// outcome is said.
    pub(crate) fn stamped(mut self, at: i64) -> Self {
        self.id = new_id();
        self.at = at;
        if self.outcome.is_empty() {
            self.outcome = "ok".into();
        }
        self
    }
}

/// Binds an entry's values in [`COLUMNS`] order (one row of an insert).
pub(crate) fn bind<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    e: &'q Entry,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(&e.id)
        .bind(e.at)
        .bind(&e.actor_id)
        .bind(&e.actor_name)
        .bind(&e.address)
        .bind(&e.action)
        .bind(&e.target_kind)
        .bind(&e.target_id)
        .bind(&e.path)
        .bind(&e.reason)
        .bind(&e.before)
        .bind(&e.after)
        .bind(&e.outcome)
}

#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Entries about records under these paths (any of them), plus the entries
    /// of `actor_ids`. `None` means the whole log (platform administrators).
    pub under_paths: Option<Vec<String>>,
    pub action: Option<String>,
    pub actor_name: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

fn from_row(r: &AnyRow) -> StoreResult<Entry> {
    Ok(Entry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor_id: r.try_get("actor_id")?,
        actor_name: r.try_get("actor_name")?,
        address: r.try_get("address")?,
        action: r.try_get("action")?,
        target_kind: r.try_get("target_kind")?,
        target_id: r.try_get("target_id")?,
        path: r.try_get("path")?,
        reason: r.try_get("reason")?,
        before: r.try_get("before")?,
        after: r.try_get("after")?,
        outcome: r.try_get("outcome")?,
    })
}

pub async fn search(db: &Db, filter: &AuditFilter, page: PageRequest) -> StoreResult<Page<Entry>> {
    let mut c = Conditions::default();
    if let Some(paths) = &filter.under_paths {
        let mut any = Vec::new();
        for p in paths {
            let (lo, hi) = crate::subtree_bounds(p);
            let (lo, hi) = (c.text(lo), c.text(hi));
            any.push(format!("(path >= {lo} AND path < {hi})"));
        }
        c.push(if any.is_empty() { "1 = 0".into() } else { format!("({})", any.join(" OR ")) });
    }
    if let Some(action) = filter.action.as_deref().filter(|a| !a.is_empty()) {
        let p = c.text(action);
        c.push(format!("action = {p}"));
    }
    if let Some(actor) = filter.actor_name.as_deref().filter(|a| !a.is_empty()) {
        let p = c.text(actor);
        c.push(format!("actor_name = {p}"));
    }
    if let Some(since) = filter.since {
        let p = c.text(since.to_string());
        c.push(format!("at >= CAST({p} AS BIGINT)"));
    }
    if let Some(until) = filter.until {
        let p = c.text(until.to_string());
        c.push(format!("at < CAST({p} AS BIGINT)"));
    }
    let w = c.where_clause();
    let total = c.scalar(format!("SELECT COUNT(*) FROM audit_log {w}")).fetch_one(&db.pool).await?;
    let sql = format!(
        "SELECT * FROM audit_log {w} ORDER BY at DESC, id DESC LIMIT {} OFFSET {}",
        page.limit(),
        page.offset()
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let items = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::new(items, page, total))
}
