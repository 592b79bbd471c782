//! The administrative hierarchy: city › district › street › community › grid.

use crate::Thing;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;
use wangge_domain::{AreaCode, AreaLevel, Explain, Message, msg, new_id, now_millis};

use crate::conditions::Conditions;
use crate::{Db, Page, PageRequest, StoreError, StoreResult};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Area {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub parent_id: Option<String>,
    pub level: AreaLevel,
    /// Statistical division code (12 digits), or for a grid its community's code and 3 digits.
    pub code: String,
    pub name: String,
    /// Materialised path of ancestor codes, e.g. `/370600000000/370602000000/`.
    pub path: String,
    /// GeoJSON geometry of the area (grids), if drawn.
    pub boundary: Option<serde_json::Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewArea {
    /// The parent area; omitted only for a city.
    #[schema(format = Uuid)]
    pub parent_id: Option<String>,
    pub level: AreaLevel,
    pub code: String,
    pub name: String,
    pub boundary: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct AreaUpdate {
    pub name: Option<String>,
    /// A GeoJSON geometry; `null` keeps the current one.
    pub boundary: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default)]
pub struct AreaFilter {
    pub level: Option<AreaLevel>,
    pub parent_id: Option<String>,
    /// Only areas at or under this path.
    pub under_path: Option<String>,
    /// Part of the name, or the start of the code.
    pub q: Option<String>,
}

const COLUMNS: &str = "id, parent_id, level, code, name, path, boundary, created_at, updated_at";

fn from_row(row: &AnyRow) -> StoreResult<Area> {
    let level: String = row.try_get("level")?;
    let boundary: Option<String> = row.try_get("boundary")?;
    Ok(Area {
        id: row.try_get("id")?,
        parent_id: row.try_get("parent_id")?,
        level: AreaLevel::parse(&level)
            .ok_or_else(|| StoreError::Invalid(msg!("error.stored_value", what = "area level", value = &level)))?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        path: row.try_get("path")?,
        boundary: boundary.and_then(|b| serde_json::from_str(&b).ok()),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Area> {
    let sql = format!("SELECT {COLUMNS} FROM areas WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    from_row(&row.ok_or_else(|| StoreError::not_found(Thing::Area, id))?)
}

pub async fn get_by_code(db: &Db, code: &str) -> StoreResult<Area> {
    let sql = format!("SELECT {COLUMNS} FROM areas WHERE code = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(code.trim()).fetch_optional(&db.pool).await?;
    from_row(&row.ok_or_else(|| StoreError::not_found(Thing::Area, code))?)
}

/// The area with `code`, which must be a community.
pub async fn community_by_code(db: &Db, code: &str) -> StoreResult<Area> {
    let area = get_by_code(db, code).await?;
    if area.level != AreaLevel::Community {
        return Err(StoreError::Invalid(
            msg!("registry.error.not_a_community", code = code).level("level", area.level),
        ));
    }
    Ok(area)
}

pub async fn create(db: &Db, new: NewArea) -> StoreResult<Area> {
    let mut conn = db.pool.acquire().await?;
    create_on(&mut conn, new).await
}

pub async fn create_on(conn: &mut AnyConnection, new: NewArea) -> StoreResult<Area> {
    // A city's parent is refused by `plan`, not looked up.
    let parent = match (new.level.parent(), &new.parent_id) {
        (Some(_), Some(parent_id)) => {
            let sql = format!("SELECT {COLUMNS} FROM areas WHERE id = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(parent_id).fetch_optional(&mut *conn).await?;
            Some(from_row(&row.ok_or_else(|| StoreError::not_found(Thing::Area, parent_id))?)?)
        }
        _ => None,
    };
    let area = plan(new, parent.as_ref())?;
    insert_on(conn, &area).await?;
    Ok(area)
}

/// The area `new` would be under `parent` (its id, path and timestamps), checked as
/// [`create_on`] checks it, without writing anything: bulk loaders plan a whole
/// community's areas in memory and insert them with its ledgers. `new.parent_id`
/// must be `parent`'s id.
pub fn plan(new: NewArea, parent: Option<&Area>) -> StoreResult<Area> {
    let code = AreaCode::parse(&new.code, new.level).map_err(|e| StoreError::Invalid(e.message()))?;
    let name = new.name.trim().to_owned();
    if name.is_empty() {
        return Err(StoreError::Invalid(msg!("registry.error.name_empty").field("name")));
    }
    let parent_path = match (new.level.parent(), &new.parent_id) {
        (None, None) => String::from("/"),
        (None, Some(_)) => return Err(StoreError::Invalid(msg!("registry.error.city_parent").field("parent_id"))),
        (Some(parent_level), None) => {
            let m = msg!("registry.error.parent_needed").level("level", new.level).level("parent_level", parent_level);
            return Err(StoreError::Invalid(m.field("parent_id")));
        }
        (Some(parent_level), Some(parent_id)) => {
            let parent = parent.filter(|p| &p.id == parent_id).ok_or_else(|| {
                StoreError::Invalid(msg!("registry.error.parent_missing", id = parent_id).field("parent_id"))
            })?;
            if parent.level != parent_level {
                let m = msg!("registry.error.parent_level", code = &parent.code)
                    .level("level", new.level)
                    .level("parent_level", parent_level)
                    .level("actual", parent.level);
                return Err(StoreError::Invalid(m.field("parent_id")));
            }
            let parent_code =
                AreaCode::parse(&parent.code, parent.level).map_err(|e| StoreError::Invalid(e.message()))?;
            code.check_under(new.level, &parent_code).map_err(|e| StoreError::Invalid(e.message()))?;
            parent.path.clone()
        }
    };
    let now = now_millis();
    Ok(Area {
        id: new_id(),
        parent_id: new.parent_id,
        level: new.level,
        path: format!("{parent_path}{}/", code.as_str()),
        code: code.as_str().to_owned(),
        name,
        boundary: new.boundary,
        created_at: now,
        updated_at: now,
    })
}

/// Inserts an area made by [`plan`].
pub async fn insert_on(conn: &mut AnyConnection, area: &Area) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO areas (id, parent_id, level, code, name, path, boundary, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&area.id)
    .bind(&area.parent_id)
    .bind(area.level.as_str())
    .bind(&area.code)
    .bind(&area.name)
    .bind(&area.path)
    .bind(area.boundary.as_ref().map(|b| b.to_string()))
    .bind(area.created_at)
    .bind(area.updated_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| StoreError::on_unique(e, || already_exists(&area.code)))?;
    Ok(())
}

/// The message of a second area with a code already taken.
pub(crate) fn already_exists(code: &str) -> Message {
    msg!("registry.error.area_exists", code = code).field("code")
}

pub async fn update(db: &Db, id: &str, update: AreaUpdate) -> StoreResult<Area> {
    let mut area = get(db, id).await?;
    if let Some(name) = update.name {
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(StoreError::Invalid(msg!("registry.error.name_empty").field("name")));
        }
        area.name = name;
    }
    if let Some(boundary) = update.boundary {
        area.boundary = Some(boundary);
    }
    area.updated_at = now_millis();
    sqlx::query("UPDATE areas SET name = $1, boundary = $2, updated_at = $3 WHERE id = $4")
        .bind(&area.name)
        .bind(area.boundary.as_ref().map(|b| b.to_string()))
        .bind(area.updated_at)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(area)
}

pub async fn list(db: &Db, filter: &AreaFilter, page: PageRequest) -> StoreResult<Page<Area>> {
    let mut c = Conditions::default();
    if let Some(level) = filter.level {
        let p = c.text(level.as_str());
        c.push(format!("level = {p}"));
    }
    if let Some(parent) = &filter.parent_id {
        let p = c.text(parent.as_str());
        c.push(format!("parent_id = {p}"));
    }
    if let Some(path) = &filter.under_path {
        c.under_path("path", path);
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let (name, code) = (c.text(format!("%{q}%")), c.text(format!("{q}%")));
        c.push(format!("(name LIKE {name} OR code LIKE {code})"));
    }
    let where_clause = c.where_clause();
    let total = c.scalar(format!("SELECT COUNT(*) FROM areas {where_clause}")).fetch_one(&db.pool).await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM areas {where_clause} ORDER BY path LIMIT {} OFFSET {}",
        page.limit(),
        page.offset()
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let items = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::new(items, page, total))
}

/// The direct children of an area, in code order.
pub async fn children(db: &Db, id: &str) -> StoreResult<Vec<Area>> {
    let sql = format!("SELECT {COLUMNS} FROM areas WHERE parent_id = $1 ORDER BY code");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(&db.pool).await?;
    rows.iter().map(from_row).collect()
}

pub async fn get_by_path(db: &Db, path: &str) -> StoreResult<Area> {
    let sql = format!("SELECT {COLUMNS} FROM areas WHERE path = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(path).fetch_optional(&db.pool).await?;
    from_row(&row.ok_or_else(|| StoreError::not_found(Thing::Area, path))?)
}
