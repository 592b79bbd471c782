//! Photos of a visit (`visit_photos`): taken on the visit form, at most
//! [`MAX_PER_VISIT`], JPEG, PNG or WebP told by their first bytes, at most
//! [`crate::demands::attachments::MAX_BYTES`] each, kept in the database (a backup
//! holds them). A photo at a door may show a person or their home: the web layer
//! serves them only inside the community, and audits each view.

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;
use wangge_domain::{msg, new_id, now_millis};

use crate::demands::attachments;
use crate::{Db, StoreError, StoreResult, Thing};

/// Most photos on one visit.
pub const MAX_PER_VISIT: usize = 3;

/// A photo's description (its bytes come from [`content`]).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VisitPhoto {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub visit_id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: i64,
}

/// Whether `data` may be a visit's photo: a file we accept that is an image.
pub fn check(data: &[u8]) -> StoreResult<&'static str> {
    let kind = attachments::check(data)?;
    if !kind.starts_with("image/") {
        return Err(StoreError::Invalid(msg!("visits.error.photo_type").field("photos")));
    }
    Ok(kind)
}

/// Keeps photos of visit `visit_id` (checked by the caller to be theirs to add to),
/// all or none.
pub async fn add(db: &Db, visit_id: &str, photos: &[(String, Vec<u8>)]) -> StoreResult<Vec<VisitPhoto>> {
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM visit_photos WHERE visit_id = $1")
        .bind(visit_id)
        .fetch_one(&db.pool)
        .await?;
    if held as usize + photos.len() > MAX_PER_VISIT {
        return Err(StoreError::Invalid(msg!("visits.error.photos", most = MAX_PER_VISIT).field("photos")));
    }
    let mut out = Vec::new();
    let mut tx = db.pool.begin().await?;
    for (name, data) in photos {
        let content_type = check(data)?;
        let name: String =
            name.rsplit(['/', '\\']).next().unwrap_or("").chars().filter(|c| !c.is_control()).take(100).collect();
        let p = VisitPhoto {
            id: new_id(),
            visit_id: visit_id.to_owned(),
            name: if name.trim().is_empty() { "photo".to_owned() } else { name },
            content_type: content_type.to_owned(),
            size: data.len() as i64,
            created_at: now_millis(),
        };
        sqlx::query(
            "INSERT INTO visit_photos (id, visit_id, name, content_type, size, data, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&p.id)
        .bind(&p.visit_id)
        .bind(&p.name)
        .bind(&p.content_type)
        .bind(p.size)
        .bind(data)
        .bind(p.created_at)
        .execute(&mut *tx)
        .await?;
        out.push(p);
    }
    tx.commit().await?;
    Ok(out)
}

fn from_row(r: &sqlx::any::AnyRow) -> StoreResult<VisitPhoto> {
    Ok(VisitPhoto {
        id: r.try_get("id")?,
        visit_id: r.try_get("visit_id")?,
        name: r.try_get("name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        created_at: r.try_get("created_at")?,
    })
}

/// A visit's photos, oldest first.
pub async fn of_visit(db: &Db, visit_id: &str) -> StoreResult<Vec<VisitPhoto>> {
    let rows = sqlx::query(
        "SELECT id, visit_id, name, content_type, size, created_at FROM visit_photos WHERE visit_id = $1
         ORDER BY created_at, id",
    )
    .bind(visit_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// One photo and its bytes.
pub async fn content(db: &Db, id: &str) -> StoreResult<(VisitPhoto, Vec<u8>)> {
    let row =
        sqlx::query("SELECT id, visit_id, name, content_type, size, created_at, data FROM visit_photos WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Thing::VisitPhoto, id))?;
    Ok((from_row(&row)?, row.try_get("data")?))
}
