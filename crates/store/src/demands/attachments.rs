//! Photos and files attached to an item, kept in the database (`demand_attachments`)
//! so that a backup holds everything.
//!
//! Limits: [`MAX_BYTES`] each, [`MAX_PER_ITEM`] per item, and only JPEG, PNG, WebP
//! and PDF — told by the file's first bytes, not by its name or the type the client
//! claims, so that nothing else is ever served back under an image's type.

use crate::Thing;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;
use wangge_domain::{msg, new_id, now_millis};

use crate::{Db, StoreError, StoreResult};

/// Largest file accepted: 5 MB.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Most files on one item.
pub const MAX_PER_ITEM: i64 = 5;

/// A file's description (its bytes come from [`content`]).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Attachment {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub demand_id: String,
    pub name: String,
    /// `image/jpeg`, `image/png`, `image/webp` or `application/pdf`.
    pub content_type: String,
    pub size: i64,
    pub created_at: i64,
}

/// The type of a file by its first bytes, if it is one we accept.
pub fn sniff(data: &[u8]) -> Option<&'static str> {
    match data {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        [b'%', b'P', b'D', b'F', b'-', ..] => Some("application/pdf"),
        _ => None,
    }
}

/// A file name safe to store and to send back in a header: its last path segment,
/// without control characters or quotes, at most 100 characters.
fn clean_name(name: &str, content_type: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String =
        last.chars().filter(|c| !c.is_control() && !matches!(c, '"' | ';')).take(100).collect::<String>();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() {
        let ext = match content_type {
            "image/jpeg" => "jpg",
            "image/png" => "png",
            "image/webp" => "webp",
            _ => "pdf",
        };
        format!("attachment.{ext}")
    } else {
        cleaned
    }
}

/// Whether `data` may be attached: not empty, at most [`MAX_BYTES`], and of a type
/// we accept (by its first bytes). Answers that type.
pub fn check(data: &[u8]) -> StoreResult<&'static str> {
    if data.is_empty() {
        return Err(StoreError::Invalid(msg!("demands.error.file_empty").field("file")));
    }
    if data.len() > MAX_BYTES {
        let size = format!("{:.1}", data.len() as f64 / 1_048_576.0);
        return Err(StoreError::TooLarge(
            msg!("demands.error.file_large", size = size, most = MAX_BYTES >> 20).field("file"),
        ));
    }
    sniff(data).ok_or_else(|| StoreError::Invalid(msg!("demands.error.file_type").field("file")))
}

/// Attaches a file to item `demand_id` (which the caller has checked exists and may
/// be changed by them).
pub async fn add(db: &Db, demand_id: &str, name: &str, data: &[u8]) -> StoreResult<Attachment> {
    let content_type = check(data)?;
    let mut tx = db.pool.begin().await?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM demand_attachments WHERE demand_id = $1")
        .bind(demand_id)
        .fetch_one(&mut *tx)
        .await?;
    if count >= MAX_PER_ITEM {
        return Err(StoreError::Conflict(msg!("demands.error.files_full", most = MAX_PER_ITEM)));
    }
    let a = insert_on(&mut tx, demand_id, name, content_type, data).await?;
    tx.commit().await?;
    Ok(a)
}

/// Writes one checked file of `content_type` on `conn` (inside the caller's transaction).
pub(crate) async fn insert_on(
    conn: &mut sqlx::AnyConnection,
    demand_id: &str,
    name: &str,
    content_type: &'static str,
    data: &[u8],
) -> StoreResult<Attachment> {
    let a = Attachment {
        id: new_id(),
        demand_id: demand_id.to_owned(),
        name: clean_name(name, content_type),
        content_type: content_type.to_owned(),
        size: data.len() as i64,
        created_at: now_millis(),
    };
    sqlx::query(
        "INSERT INTO demand_attachments (id, demand_id, name, content_type, size, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&a.id)
    .bind(&a.demand_id)
    .bind(&a.name)
    .bind(&a.content_type)
    .bind(a.size)
    .bind(data)
    .bind(a.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(a)
}

fn from_row(r: &sqlx::any::AnyRow) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: r.try_get("id")?,
        demand_id: r.try_get("demand_id")?,
        name: r.try_get("name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        created_at: r.try_get("created_at")?,
    })
}

/// An item's files, oldest first.
pub async fn list(db: &Db, demand_id: &str) -> StoreResult<Vec<Attachment>> {
    let rows = sqlx::query(
        "SELECT id, demand_id, name, content_type, size, created_at FROM demand_attachments
         WHERE demand_id = $1 ORDER BY created_at, id",
    )
    .bind(demand_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The first photo of each of `demand_ids` that has one: item id → attachment id.
pub async fn first_photos(db: &Db, demand_ids: &[&str]) -> StoreResult<std::collections::HashMap<String, String>> {
    let mut first = std::collections::HashMap::new();
    // In slices, to stay under SQLite's limit on bound values per statement.
    for chunk in demand_ids.chunks(500) {
        let mut c = crate::conditions::Conditions::default();
        let list: Vec<String> = chunk.iter().map(|id| c.text(*id)).collect();
        let sql = format!(
            "SELECT demand_id, id FROM demand_attachments WHERE demand_id IN ({}) AND content_type LIKE 'image/%'
             ORDER BY created_at DESC, id DESC",
            list.join(", ")
        );
        // Newest first, so the oldest photo of each item is the one left standing.
        for row in c.query(sql).fetch_all(&db.pool).await? {
            first.insert(row.try_get("demand_id")?, row.try_get("id")?);
        }
    }
    Ok(first)
}

/// One file's description.
pub async fn get(db: &Db, id: &str) -> StoreResult<Attachment> {
    let row =
        sqlx::query("SELECT id, demand_id, name, content_type, size, created_at FROM demand_attachments WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    from_row(&row.ok_or_else(|| StoreError::not_found(Thing::Attachment, id))?)
}

/// One file's bytes.
pub async fn content(db: &Db, id: &str) -> StoreResult<Vec<u8>> {
    let data: Option<Vec<u8>> = sqlx::query_scalar("SELECT data FROM demand_attachments WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    data.ok_or_else(|| StoreError::not_found(Thing::Attachment, id))
}
