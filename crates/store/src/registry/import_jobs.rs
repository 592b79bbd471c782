//! Imports started in the browser, kept in the database between the upload, the
//! check, the confirmation and the writing, so that any app server can carry them on.
//! The checking and writing themselves live in `wangge-ledger`; this is only their
//! record: the file, the mapping of its columns, the status, the progress and the
//! report (as JSON, written by the caller).

use crate::Thing;
use sqlx::Row;
use sqlx::any::AnyRow;
use wangge_domain::{msg, new_id, now_millis};

use crate::{Db, StoreError, StoreResult};

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    /// Checked (dry run); waiting for a new mapping or for confirmation.
    Checked,
    /// Being written; `done` of `total` rows so far.
    Running,
    Done,
    /// Writing failed; nothing was written (the import is all-or-nothing).
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Checked => "checked",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> StoreResult<Self> {
        Ok(match s {
            "checked" => Self::Checked,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            other => {
                return Err(StoreError::Invalid(msg!("error.stored_value", what = "import status", value = other)));
            }
        })
    }
}

#[derive(Clone, Debug)]
pub struct ImportJob {
    pub id: String,
    pub account_id: String,
    pub community_id: String,
    pub path: String,
    pub file_name: String,
    /// Header texts of the file mapped to field keys by the user.
    pub mapping: Vec<(String, String)>,
    pub status: JobStatus,
    pub done: i64,
    pub total: i64,
    pub report: Option<String>,
    pub created_at: i64,
}

/// Files larger than this are refused at upload (a community's ledger of 20,000
/// people is about 2 MB as .xlsx).
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;

const COLUMNS: &str = "id, account_id, community_id, path, file_name, mapping, status, done, total, report, created_at";

fn from_row(row: &AnyRow) -> StoreResult<ImportJob> {
    let mapping: String = row.try_get("mapping")?;
    Ok(ImportJob {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        community_id: row.try_get("community_id")?,
        path: row.try_get("path")?,
        file_name: row.try_get("file_name")?,
        mapping: serde_json::from_str(&mapping).unwrap_or_default(),
        status: JobStatus::parse(&row.try_get::<String, _>("status")?)?,
        done: row.try_get("done")?,
        total: row.try_get("total")?,
        report: row.try_get("report")?,
        created_at: row.try_get("created_at")?,
    })
}

pub struct NewJob<'a> {
    pub account_id: &'a str,
    pub community_id: &'a str,
    pub path: &'a str,
    pub file_name: &'a str,
    pub content: &'a [u8],
}

pub async fn create(db: &Db, new: NewJob<'_>) -> StoreResult<ImportJob> {
    if new.content.len() > MAX_FILE_BYTES {
        return Err(StoreError::TooLarge(msg!("error.file_too_large", mb = MAX_FILE_BYTES >> 20)));
    }
    let (id, now) = (new_id(), now_millis());
    sqlx::query(
        "INSERT INTO import_jobs (id, account_id, community_id, path, file_name, content, mapping, status,
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, '[]', 'checked', $7, $8)",
    )
    .bind(&id)
    .bind(new.account_id)
    .bind(new.community_id)
    .bind(new.path)
    .bind(new.file_name)
    .bind(new.content.to_vec())
    .bind(now)
    .bind(now)
    .execute(&db.pool)
    .await?;
    get(db, &id).await
}

pub async fn get(db: &Db, id: &str) -> StoreResult<ImportJob> {
    let sql = format!("SELECT {COLUMNS} FROM import_jobs WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Thing::Import, id))?;
    from_row(&row)
}

/// The uploaded file.
pub async fn content(db: &Db, id: &str) -> StoreResult<Vec<u8>> {
    let row = sqlx::query("SELECT content FROM import_jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Thing::Import, id))?;
    Ok(row.try_get("content")?)
}

/// Records a check (dry run) with the mapping it used.
pub async fn checked(db: &Db, id: &str, mapping: &[(String, String)], report: &str) -> StoreResult<()> {
    sqlx::query(
        "UPDATE import_jobs SET mapping = $1, report = $2, status = 'checked', updated_at = $3
         WHERE id = $4 AND status = 'checked'",
    )
    .bind(serde_json::to_string(mapping).unwrap_or_else(|_| "[]".into()))
    .bind(report)
    .bind(now_millis())
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Moves a checked job to running; false when it was not waiting (confirmed twice,
/// or by two people at once), so that a file is never written twice.
pub async fn start(db: &Db, id: &str, total: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE import_jobs SET status = 'running', done = 0, total = $1, updated_at = $2
         WHERE id = $3 AND status = 'checked'",
    )
    .bind(total)
    .bind(now_millis())
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn progress(db: &Db, id: &str, done: i64, total: i64) -> StoreResult<()> {
    sqlx::query("UPDATE import_jobs SET done = $1, total = $2, updated_at = $3 WHERE id = $4 AND status = 'running'")
        .bind(done)
        .bind(total)
        .bind(now_millis())
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Ends a running job with its report.
pub async fn finish(db: &Db, id: &str, status: JobStatus, report: &str) -> StoreResult<()> {
    sqlx::query("UPDATE import_jobs SET status = $1, report = $2, done = total, updated_at = $3 WHERE id = $4")
        .bind(status.as_str())
        .bind(report)
        .bind(now_millis())
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
