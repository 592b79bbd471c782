//! Organisations located in a grid: enterprises, the property company, social
//! organisations, schools, government units (the "组织" of 人地物事情组织).

use crate::Thing;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wangge_domain::{AreaLevel, Explain, OrganisationKind, Phone, Vocabulary, msg, new_id, now_millis, text};

use crate::conditions::Conditions;
use crate::registry::areas;
use crate::{Db, Page, PageRequest, StoreError, StoreResult};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Organisation {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub grid_id: String,
    pub path: String,
    pub name: String,
    pub kind: OrganisationKind,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewOrganisation {
    #[schema(format = Uuid)]
    pub grid_id: String,
    pub name: String,
    pub kind: OrganisationKind,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct OrganisationUpdate {
    pub name: Option<String>,
    pub kind: Option<OrganisationKind>,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    /// Moves the organisation to another grid.
    #[schema(format = Uuid)]
    pub grid_id: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct OrganisationFilter {
    pub under_path: Option<String>,
    pub kind: Option<OrganisationKind>,
    pub q: Option<String>,
}

const COLUMNS: &str = "id, grid_id, path, name, kind, address, contact_name, phone, created_at, updated_at";

pub(crate) fn from_row(row: &AnyRow) -> StoreResult<Organisation> {
    let kind: String = row.try_get("kind")?;
    Ok(Organisation {
        id: row.try_get("id")?,
        grid_id: row.try_get("grid_id")?,
        path: row.try_get("path")?,
        name: row.try_get("name")?,
        kind: OrganisationKind::from_code(&kind).unwrap_or(OrganisationKind::Other),
        address: row.try_get("address")?,
        contact_name: row.try_get("contact_name")?,
        phone: row.try_get("phone")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Organisation> {
    let sql = format!("SELECT {COLUMNS} FROM organisations WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    from_row(&row.ok_or_else(|| StoreError::not_found(Thing::Organisation, id))?)
}

async fn grid_path(db: &Db, grid_id: &str) -> StoreResult<String> {
    let grid = areas::get(db, grid_id).await?;
    if grid.level != AreaLevel::Grid {
        let m = msg!("registry.error.organisation_in_grid", code = &grid.code);
        return Err(StoreError::Invalid(m.level("level", grid.level).field("grid_id")));
    }
    Ok(grid.path)
}

fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| text::normalize(&v)).filter(|v| !v.is_empty())
}

fn check_phone(phone: Option<String>) -> StoreResult<Option<String>> {
    match clean(phone) {
        None => Ok(None),
        Some(p) => Phone::parse(&p).map(|p| Some(p.as_str().to_owned())).map_err(|e| StoreError::Invalid(e.message())),
    }
}

fn check_name(name: &str) -> StoreResult<String> {
    let name = text::normalize(name);
    if name.is_empty() {
        return Err(StoreError::Invalid(msg!("registry.error.name_empty").field("name")));
    }
    Ok(name)
}

pub async fn create(db: &Db, new: NewOrganisation) -> StoreResult<Organisation> {
    let now = now_millis();
    let org = Organisation {
        id: new_id(),
        path: grid_path(db, &new.grid_id).await?,
        grid_id: new.grid_id,
        name: check_name(&new.name)?,
        kind: new.kind,
        address: clean(new.address),
        contact_name: clean(new.contact_name),
        phone: check_phone(new.phone)?,
        created_at: now,
        updated_at: now,
    };
    let sql = format!("INSERT INTO organisations ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&org.id)
        .bind(&org.grid_id)
        .bind(&org.path)
        .bind(&org.name)
        .bind(org.kind.code())
        .bind(&org.address)
        .bind(&org.contact_name)
        .bind(&org.phone)
        .bind(now)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(org)
}

pub async fn update(db: &Db, id: &str, update: OrganisationUpdate) -> StoreResult<Organisation> {
    let mut org = get(db, id).await?;
    if let Some(grid_id) = update.grid_id {
        org.path = grid_path(db, &grid_id).await?;
        org.grid_id = grid_id;
    }
    if let Some(name) = update.name {
        org.name = check_name(&name)?;
    }
    org.kind = update.kind.unwrap_or(org.kind);
    if update.address.is_some() {
        org.address = clean(update.address);
    }
    if update.contact_name.is_some() {
        org.contact_name = clean(update.contact_name);
    }
    if update.phone.is_some() {
        org.phone = check_phone(update.phone)?;
    }
    org.updated_at = now_millis();
    sqlx::query(
        "UPDATE organisations SET grid_id = $1, path = $2, name = $3, kind = $4, address = $5, contact_name = $6,
         phone = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(&org.grid_id)
    .bind(&org.path)
    .bind(&org.name)
    .bind(org.kind.code())
    .bind(&org.address)
    .bind(&org.contact_name)
    .bind(&org.phone)
    .bind(org.updated_at)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(org)
}

pub async fn list(db: &Db, filter: &OrganisationFilter, page: PageRequest) -> StoreResult<Page<Organisation>> {
    let mut c = Conditions::default();
    if let Some(path) = &filter.under_path {
        c.under_path("path", path);
    }
    if let Some(kind) = filter.kind {
        let p = c.text(kind.code());
        c.push(format!("kind = {p}"));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let p = c.text(format!("%{q}%"));
        c.push(format!("name LIKE {p}"));
    }
    let where_clause = c.where_clause();
    let total = c.scalar(format!("SELECT COUNT(*) FROM organisations {where_clause}")).fetch_one(&db.pool).await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM organisations {where_clause} ORDER BY path, name LIMIT {} OFFSET {}",
        page.limit(),
        page.offset()
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let items = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::new(items, page, total))
}
