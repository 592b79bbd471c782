//! Notices (通知公告): written in an area, reviewed, published at once or at a set
//! time, shown to the residents they target until they expire; read tracking for
//! residents with accounts. The states are `wangge_domain::notices::next`.
//!
//! Who a notice reaches is one SQL fragment ([`AUDIENCE`]): resident accounts whose
//! household lies under the notice's area and, when the notice has targets, whose
//! household matches one (its grid, its building, a tag of someone living in it).
//! The portal, the "has not read" list and the cockpit's reach all use it.

#[cfg(test)]
mod tests;
#[doc(hidden)]
pub mod tests_support;

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use wangge_domain::notices::{NoticeState, NoticeStep, TargetKind, next};
use wangge_domain::{AreaLevel, Vocabulary, msg, new_id, now_millis, text};

use crate::registry::areas;
use crate::{Db, StoreError, StoreResult, Thing, subtree_bounds};

const TITLE_CHARS: usize = 80;
const BODY_CHARS: usize = 5000;

/// A notice as written and to be saved.
#[derive(Clone, Debug, Default)]
pub struct NoticeInput {
    pub title: String,
    pub body: String,
    pub important: bool,
    pub pinned: bool,
    /// When it appears once published (Unix ms); `None`: when published.
    pub publish_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// Empty: everyone in the notice's area.
    pub targets: Vec<(TargetKind, String)>,
}

/// One target with its name.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub kind: TargetKind,
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Notice {
    pub id: String,
    pub area_id: String,
    pub area_name: String,
    pub path: String,
    pub title: String,
    pub body: String,
    pub important: bool,
    pub pinned: bool,
    pub state: NoticeState,
    pub publish_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub author_id: String,
    pub author_name: String,
    pub reviewer_name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub targets: Vec<Target>,
}

impl Notice {
    /// Whether it is shown to residents at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        wangge_domain::notices::is_live(self.state, self.publish_at, self.expires_at, now)
    }
}

const SELECT: &str = "SELECT n.id, n.area_id, a.name AS area_name, n.path, n.title, n.body, n.important, n.pinned,
        n.state, n.publish_at, n.expires_at, n.author_id, n.author_name, n.reviewer_name, n.created_at, n.updated_at
     FROM notices n JOIN areas a ON a.id = n.area_id";

/// `n` is live at `$1`.
const LIVE: &str = "n.state = 'published' AND (n.publish_at IS NULL OR n.publish_at <= $1)
     AND (n.expires_at IS NULL OR n.expires_at > $1)";

/// The household `h` (with building `b`) is reached by notice `n`.
const TARGETED: &str = "(NOT EXISTS (SELECT 1 FROM notice_targets t WHERE t.notice_id = n.id)
     OR EXISTS (SELECT 1 FROM notice_targets t WHERE t.notice_id = n.id AND (
        (t.kind = 'grid' AND t.target_id = b.grid_id) OR (t.kind = 'building' AND t.target_id = b.id)
        OR (t.kind = 'tag' AND t.target_id IN (SELECT rt.tag_id FROM resident_tags rt
            JOIN residents r ON r.id = rt.resident_id WHERE r.household_id = h.id AND r.status = 'active')))))";

/// The resident accounts notice `n` reaches (with `h`, `b` their household and
/// building): under the notice's area, matching its targets.
fn audience() -> String {
    format!(
        "FROM accounts ac JOIN households h ON h.id = ac.household_id JOIN buildings b ON b.id = h.building_id
         WHERE ac.role = 'resident' AND ac.disabled = 0 AND h.path >= n.path AND h.path < {hi} AND {TARGETED}",
        hi = hi_of("n.path")
    )
}

/// The SQL for the upper bound of the subtree of the path column `col`.
fn hi_of(col: &str) -> String {
    format!("substr({col}, 1, length({col}) - 1) || '0'")
}

fn flag(r: &AnyRow, c: &str) -> StoreResult<bool> {
    Ok(r.try_get::<i64, _>(c)? != 0)
}

fn from_row(r: &AnyRow) -> StoreResult<Notice> {
    let state: String = r.try_get("state")?;
    Ok(Notice {
        id: r.try_get("id")?,
        area_id: r.try_get("area_id")?,
        area_name: r.try_get("area_name")?,
        path: r.try_get("path")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        important: flag(r, "important")?,
        pinned: flag(r, "pinned")?,
        state: NoticeState::from_code(&state)
            .ok_or_else(|| StoreError::Invalid(msg!("error.stored_value", what = NoticeState::NAME, value = &state)))?,
        publish_at: r.try_get("publish_at")?,
        expires_at: r.try_get("expires_at")?,
        author_id: r.try_get("author_id")?,
        author_name: r.try_get("author_name")?,
        reviewer_name: r.try_get("reviewer_name")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        targets: Vec::new(),
    })
}

fn bad(message: wangge_domain::Message) -> StoreError {
    StoreError::Invalid(message)
}

/// Checks what was written: a title and a body within their lengths, an expiry
/// after the publish time, every target under `area_path`.
async fn checked(db: &Db, area_path: &str, input: &NoticeInput) -> StoreResult<NoticeInput> {
    let title = text::normalize(&input.title);
    if title.is_empty() {
        return Err(bad(msg!("notices.error.required").field("title")));
    }
    if title.chars().count() > TITLE_CHARS {
        return Err(bad(msg!("notices.error.too_long", most = TITLE_CHARS).field("title")));
    }
    let body = input.body.trim().to_owned();
    if body.is_empty() {
        return Err(bad(msg!("notices.error.required").field("body")));
    }
    if body.chars().count() > BODY_CHARS {
        return Err(bad(msg!("notices.error.too_long", most = BODY_CHARS).field("body")));
    }
    if let (Some(from), Some(until)) = (input.publish_at, input.expires_at)
        && until <= from
    {
        return Err(bad(msg!("notices.error.expiry").field("expires_at")));
    }
    for (kind, id) in &input.targets {
        target_name(db, area_path, *kind, id).await?;
    }
    let mut targets = input.targets.clone();
    targets.sort_by(|a, b| (a.0.code(), &a.1).cmp(&(b.0.code(), &b.1)));
    targets.dedup();
    Ok(NoticeInput { title, body, targets, ..input.clone() })
}

/// The name of a target, which must lie under `area_path` (tags are the
/// community's vocabulary and belong to no place).
async fn target_name(db: &Db, area_path: &str, kind: TargetKind, id: &str) -> StoreResult<String> {
    let under = |p: &str| p.starts_with(area_path);
    match kind {
        TargetKind::Grid => match areas::get(db, id).await {
            Ok(a) if a.level == AreaLevel::Grid && under(&a.path) => Ok(a.name),
            Ok(_) | Err(StoreError::NotFound { .. }) => Err(StoreError::not_found(Thing::Area, id)),
            Err(e) => Err(e),
        },
        TargetKind::Building => match crate::registry::buildings::get(db, id).await {
            Ok(b) if under(&b.path) => Ok(b.number),
            Ok(_) | Err(StoreError::NotFound { .. }) => Err(StoreError::not_found(Thing::Building, id)),
            Err(e) => Err(e),
        },
        TargetKind::Tag => {
            let name: Option<String> =
                sqlx::query_scalar("SELECT name_zh FROM tags WHERE id = $1").bind(id).fetch_optional(&db.pool).await?;
            name.ok_or_else(|| StoreError::not_found(Thing::Tag, id))
        }
    }
}

async fn write_targets(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    targets: &[(TargetKind, String)],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM notice_targets WHERE notice_id = $1").bind(id).execute(&mut **tx).await?;
    for (kind, target) in targets {
        sqlx::query("INSERT INTO notice_targets (notice_id, kind, target_id) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(kind.code())
            .bind(target)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Writes a new notice as a draft of `area_id`.
pub async fn create(db: &Db, area_id: &str, input: &NoticeInput, author: (&str, &str)) -> StoreResult<Notice> {
    let area = areas::get(db, area_id).await?;
    let input = checked(db, &area.path, input).await?;
    let id = new_id();
    let now = now_millis();
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO notices (id, area_id, path, title, body, important, pinned, state, publish_at, expires_at,
            author_id, author_name, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $9, $10, $11, $12, $12)",
    )
    .bind(&id)
    .bind(&area.id)
    .bind(&area.path)
    .bind(&input.title)
    .bind(&input.body)
    .bind(i64::from(input.important))
    .bind(i64::from(input.pinned))
    .bind(input.publish_at)
    .bind(input.expires_at)
    .bind(author.0)
    .bind(author.1)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    write_targets(&mut tx, &id, &input.targets).await?;
    tx.commit().await?;
    get(db, &id).await
}

/// Changes a draft (a notice in review or published is not changed: return it first).
pub async fn update(db: &Db, id: &str, input: &NoticeInput) -> StoreResult<Notice> {
    let notice = get(db, id).await?;
    if notice.state != NoticeState::Draft {
        return Err(StoreError::Conflict(msg!("notices.error.not_draft")));
    }
    let input = checked(db, &notice.path, input).await?;
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "UPDATE notices SET title = $1, body = $2, important = $3, pinned = $4, publish_at = $5, expires_at = $6,
            updated_at = $7 WHERE id = $8 AND state = 'draft'",
    )
    .bind(&input.title)
    .bind(&input.body)
    .bind(i64::from(input.important))
    .bind(i64::from(input.pinned))
    .bind(input.publish_at)
    .bind(input.expires_at)
    .bind(now_millis())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    write_targets(&mut tx, id, &input.targets).await?;
    tx.commit().await?;
    get(db, id).await
}

/// Takes `step` on a notice. Publishing records the reviewer; a notice without a
/// publish time is published now.
pub async fn step(db: &Db, id: &str, step: NoticeStep, by: &str) -> StoreResult<Notice> {
    let notice = get(db, id).await?;
    let to = next(notice.state, step).map_err(StoreError::Conflict)?;
    let now = now_millis();
    let changed = if step == NoticeStep::Publish {
        sqlx::query(
            "UPDATE notices SET state = $1, reviewer_name = $2, publish_at = COALESCE(publish_at, $3), updated_at = $3
             WHERE id = $4 AND state = $5",
        )
        .bind(to.code())
        .bind(by)
        .bind(now)
        .bind(id)
        .bind(notice.state.code())
        .execute(&db.pool)
        .await?
    } else {
        sqlx::query("UPDATE notices SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4")
            .bind(to.code())
            .bind(now)
            .bind(id)
            .bind(notice.state.code())
            .execute(&db.pool)
            .await?
    };
    if changed.rows_affected() != 1 {
        return Err(StoreError::Conflict(msg!("notices.error.changed")));
    }
    get(db, id).await
}

/// One notice with its targets.
pub async fn get(db: &Db, id: &str) -> StoreResult<Notice> {
    let sql = format!("{SELECT} WHERE n.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    let mut notice = from_row(&row.ok_or_else(|| StoreError::not_found(Thing::Notice, id))?)?;
    let rows = sqlx::query("SELECT kind, target_id FROM notice_targets WHERE notice_id = $1 ORDER BY kind, target_id")
        .bind(id)
        .fetch_all(&db.pool)
        .await?;
    for r in rows {
        let kind: String = r.try_get("kind")?;
        let Some(kind) = TargetKind::from_code(&kind) else { continue };
        let target: String = r.try_get("target_id")?;
        let name = target_name(db, &notice.path, kind, &target).await.unwrap_or_default();
        notice.targets.push(Target { kind, id: target, name });
    }
    Ok(notice)
}

/// The notices written at or under `path`, newest first (at most 200).
pub async fn list_under(db: &Db, path: &str) -> StoreResult<Vec<Notice>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!("{SELECT} WHERE n.path >= $1 AND n.path < $2 ORDER BY n.created_at DESC, n.id LIMIT 200");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lo).bind(hi).fetch_all(&db.pool).await?;
    rows.iter().map(from_row).collect()
}

/// A notice as a resident sees it in their list.
#[derive(Clone, Debug, Serialize)]
pub struct Shown {
    #[serde(flatten)]
    pub notice: Notice,
    pub read: bool,
}

/// The live notices that reach the household of resident account `account_id`,
/// pinned first, then newest; with whether the account has read each.
pub async fn for_account(db: &Db, account_id: &str, now: i64) -> StoreResult<Vec<Shown>> {
    let sql = format!(
        "{SELECT} WHERE {LIVE} AND EXISTS (SELECT 1 {aud} AND ac.id = $2)
         ORDER BY n.pinned DESC, n.publish_at DESC, n.id",
        aud = audience()
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).bind(account_id).fetch_all(&db.pool).await?;
    let read: Vec<String> = sqlx::query_scalar("SELECT notice_id FROM notice_reads WHERE account_id = $1")
        .bind(account_id)
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            let notice = from_row(r)?;
            Ok(Shown { read: read.contains(&notice.id), notice })
        })
        .collect()
}

/// A live notice that reaches `account_id`, marked read by it (the first read is
/// kept). Not live or not for them: not found.
pub async fn open(db: &Db, id: &str, account_id: &str, now: i64) -> StoreResult<Notice> {
    let sql = format!(
        "SELECT 1 FROM notices n WHERE n.id = $3 AND {LIVE} AND EXISTS (SELECT 1 {} AND ac.id = $2)",
        audience()
    );
    let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(account_id)
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    if found.is_none() {
        return Err(StoreError::not_found(Thing::Notice, id));
    }
    sqlx::query(
        "INSERT INTO notice_reads (notice_id, account_id, read_at) VALUES ($1, $2, $3)
         ON CONFLICT (notice_id, account_id) DO NOTHING",
    )
    .bind(id)
    .bind(account_id)
    .bind(now)
    .execute(&db.pool)
    .await?;
    get(db, id).await
}

/// The live notices for everyone on a grid's public page: written at or above the
/// grid, for everyone or for this grid (building- and tag-targeted notices are not
/// public). Pinned first.
pub async fn public_of_grid(db: &Db, grid: &areas::Area, now: i64) -> StoreResult<Vec<Notice>> {
    let ancestors = ancestors(&grid.path);
    let marks: Vec<String> = (0..ancestors.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "{SELECT} WHERE {LIVE} AND n.path IN ({}) AND NOT EXISTS (SELECT 1 FROM notice_targets t
            WHERE t.notice_id = n.id AND NOT (t.kind = 'grid' AND t.target_id = $2))
         ORDER BY n.pinned DESC, n.publish_at DESC, n.id LIMIT 50",
        marks.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).bind(&grid.id);
    for a in &ancestors {
        q = q.bind(a);
    }
    q.fetch_all(&db.pool).await?.iter().map(from_row).collect()
}

/// `/a/b/c/` → `/a/`, `/a/b/`, `/a/b/c/`.
fn ancestors(path: &str) -> Vec<String> {
    path.char_indices().filter(|&(i, c)| c == '/' && i > 0).map(|(i, _)| path[..=i].to_owned()).collect()
}

/// How many resident accounts a notice reaches, and how many of them have read it.
pub async fn reach(db: &Db, id: &str) -> StoreResult<(i64, i64)> {
    let sql = format!(
        "SELECT count(*) AS reached, count(rd.account_id) AS read FROM notices n CROSS JOIN accounts ac
            JOIN households h ON h.id = ac.household_id JOIN buildings b ON b.id = h.building_id
            LEFT JOIN notice_reads rd ON rd.account_id = ac.id AND rd.notice_id = $1
         WHERE n.id = $1 AND ac.role = 'resident' AND ac.disabled = 0 AND h.path >= n.path AND h.path < {}
            AND {TARGETED}",
        hi_of("n.path")
    );
    let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&db.pool).await?;
    Ok((r.try_get("reached")?, r.try_get("read")?))
}

/// A resident who has not read an important notice meant for them.
#[derive(Clone, Debug, Serialize)]
pub struct Unread {
    pub notice_id: String,
    pub title: String,
    pub account_name: String,
    pub household_id: String,
    pub building: String,
    pub unit: String,
    pub room: String,
}

/// Residents with accounts in households under `path` who have not read a live
/// important notice that reaches them, by building and room: the grid member's
/// list for their visits.
pub async fn unread_important(db: &Db, path: &str, now: i64) -> StoreResult<Vec<Unread>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!(
        "SELECT n.id AS notice_id, n.title, ac.display_name, h.id AS household_id, b.number, h.unit, h.room
         FROM notices n CROSS JOIN accounts ac JOIN households h ON h.id = ac.household_id JOIN buildings b ON b.id = h.building_id
         WHERE {LIVE} AND n.important = 1 AND ac.role = 'resident' AND ac.disabled = 0
            AND h.path >= $2 AND h.path < $3 AND h.path >= n.path AND h.path < {hi} AND {TARGETED}
            AND NOT EXISTS (SELECT 1 FROM notice_reads rd WHERE rd.notice_id = n.id AND rd.account_id = ac.id)
         ORDER BY b.number, h.unit, h.room, ac.display_name, n.publish_at
         LIMIT 1000",
        hi = hi_of("n.path")
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).bind(lo).bind(hi).fetch_all(&db.pool).await?;
    rows.iter()
        .map(|r| {
            Ok(Unread {
                notice_id: r.try_get("notice_id")?,
                title: r.try_get("title")?,
                account_name: r.try_get("display_name")?,
                household_id: r.try_get("household_id")?,
                building: r.try_get("number")?,
                unit: r.try_get("unit")?,
                room: r.try_get("room")?,
            })
        })
        .collect()
}

/// Per grid under `path`: resident accounts reached by the live notices, and reads
/// of them (one pair per notice and account): the cockpit's notice reach.
pub async fn reach_by_grid(db: &Db, path: &str, now: i64) -> StoreResult<Vec<(String, i64, i64)>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!(
        "SELECT g.name, count(*) AS reached, count(rd.account_id) AS read
         FROM notices n CROSS JOIN accounts ac JOIN households h ON h.id = ac.household_id JOIN buildings b ON b.id = h.building_id
            JOIN areas g ON g.id = b.grid_id
            LEFT JOIN notice_reads rd ON rd.account_id = ac.id AND rd.notice_id = n.id
         WHERE {LIVE} AND ac.role = 'resident' AND ac.disabled = 0
            AND h.path >= $2 AND h.path < $3 AND h.path >= n.path AND h.path < {hi} AND {TARGETED}
         GROUP BY g.name ORDER BY g.name",
        hi = hi_of("n.path")
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).bind(lo).bind(hi).fetch_all(&db.pool).await?;
    rows.iter().map(|r| Ok((r.try_get("name")?, r.try_get("reached")?, r.try_get("read")?))).collect()
}

/// An attachment of a notice (its bytes come from [`file`]).
#[derive(Clone, Debug, Serialize)]
pub struct NoticeFile {
    pub id: String,
    pub notice_id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: i64,
}

/// Most attachments on one notice.
pub const MAX_FILES: i64 = 5;

fn file_from(r: &AnyRow) -> StoreResult<NoticeFile> {
    Ok(NoticeFile {
        id: r.try_get("id")?,
        notice_id: r.try_get("notice_id")?,
        name: r.try_get("name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Attaches a file (an image or a PDF, the demands' rules of type and size) to a
/// draft notice; at most [`MAX_FILES`].
pub async fn add_file(db: &Db, notice_id: &str, name: &str, data: &[u8]) -> StoreResult<NoticeFile> {
    let content_type = crate::demands::attachments::check(data)?;
    let notice = get(db, notice_id).await?;
    if notice.state != NoticeState::Draft {
        return Err(StoreError::Conflict(msg!("notices.error.not_draft")));
    }
    let mut tx = db.pool.begin().await?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notice_files WHERE notice_id = $1")
        .bind(notice_id)
        .fetch_one(&mut *tx)
        .await?;
    if count >= MAX_FILES {
        return Err(bad(msg!("notices.error.too_many_files", max = MAX_FILES).field("file")));
    }
    let name: String = text::normalize(name).chars().take(120).collect();
    let name = if name.is_empty() { "file".to_owned() } else { name };
    let id = new_id();
    sqlx::query(
        "INSERT INTO notice_files (id, notice_id, name, content_type, size, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(notice_id)
    .bind(&name)
    .bind(content_type)
    .bind(data.len() as i64)
    .bind(data)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(file(db, &id).await?.0)
}

/// A notice's attachments, oldest first.
pub async fn files(db: &Db, notice_id: &str) -> StoreResult<Vec<NoticeFile>> {
    let rows = sqlx::query(
        "SELECT id, notice_id, name, content_type, size, created_at FROM notice_files
         WHERE notice_id = $1 ORDER BY created_at, id",
    )
    .bind(notice_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(file_from).collect()
}

/// An attachment with its bytes.
pub async fn file(db: &Db, id: &str) -> StoreResult<(NoticeFile, Vec<u8>)> {
    let row =
        sqlx::query("SELECT id, notice_id, name, content_type, size, created_at, data FROM notice_files WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Thing::NoticeFile, id))?;
    Ok((file_from(&row)?, row.try_get("data")?))
}

/// Removes an attachment of a draft notice.
pub async fn remove_file(db: &Db, id: &str) -> StoreResult<NoticeFile> {
    let (f, _) = file(db, id).await?;
    let notice = get(db, &f.notice_id).await?;
    if notice.state != NoticeState::Draft {
        return Err(StoreError::Conflict(msg!("notices.error.not_draft")));
    }
    sqlx::query("DELETE FROM notice_files WHERE id = $1").bind(id).execute(&db.pool).await?;
    Ok(f)
}

/// An attachment of a live notice that reaches `account_id` (opening it marks the
/// notice read, as opening the notice does). Otherwise not found, named as the file.
pub async fn file_for_account(db: &Db, id: &str, account_id: &str, now: i64) -> StoreResult<(NoticeFile, Vec<u8>)> {
    let (f, data) = file(db, id).await?;
    match open(db, &f.notice_id, account_id, now).await {
        Ok(_) => Ok((f, data)),
        Err(StoreError::NotFound { .. }) => Err(StoreError::not_found(Thing::NoticeFile, id)),
        Err(e) => Err(e),
    }
}
