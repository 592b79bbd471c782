//! Buildings (楼栋): residential buildings, bungalows, shops… each in one grid.

use crate::Thing;
use crate::db::Float;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wangge_domain::{AreaLevel, BuildingKind, Vocabulary, msg, new_id, now_millis, text};

use crate::conditions::Conditions;
use crate::registry::areas;
use crate::{Db, Page, PageRequest, StoreError, StoreResult};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Building {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub grid_id: String,
    #[schema(format = Uuid)]
    pub community_id: String,
    pub path: String,
    /// The building number as the community writes it ("12", "12号楼"); unique in the community.
    pub number: String,
    pub address: Option<String>,
    pub kind: BuildingKind,
    pub floors: Option<i64>,
    pub units: Option<i64>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewBuilding {
    #[schema(format = Uuid)]
    pub grid_id: String,
    pub number: String,
    pub address: Option<String>,
    pub kind: BuildingKind,
    pub floors: Option<i64>,
    pub units: Option<i64>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct BuildingUpdate {
    pub number: Option<String>,
    pub address: Option<String>,
    pub kind: Option<BuildingKind>,
    pub floors: Option<i64>,
    pub units: Option<i64>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
}

#[derive(Clone, Debug, Default)]
pub struct BuildingFilter {
    pub under_path: Option<String>,
    pub grid_id: Option<String>,
    pub kind: Option<BuildingKind>,
    /// The start of the building number or part of the address.
    pub q: Option<String>,
}

const COLUMNS: &str =
    "id, grid_id, community_id, path, number, address, kind, floors, units, lat, lng, created_at, updated_at";

fn from_row(row: &AnyRow) -> StoreResult<Building> {
    let kind: String = row.try_get("kind")?;
    Ok(Building {
        id: row.try_get("id")?,
        grid_id: row.try_get("grid_id")?,
        community_id: row.try_get("community_id")?,
        path: row.try_get("path")?,
        number: row.try_get("number")?,
        address: row.try_get("address")?,
        kind: BuildingKind::from_code(&kind).unwrap_or(BuildingKind::Other),
        floors: row.try_get("floors")?,
        units: row.try_get("units")?,
        lat: row.try_get("lat")?,
        lng: row.try_get("lng")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Building> {
    let sql = format!("SELECT {COLUMNS} FROM buildings WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    from_row(&row.ok_or_else(|| StoreError::not_found(Thing::Building, id))?)
}

/// All buildings of a community, for matching the building numbers of an import.
pub async fn of_community(db: &Db, community_id: &str) -> StoreResult<Vec<Building>> {
    let sql = format!("SELECT {COLUMNS} FROM buildings WHERE community_id = $1");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(community_id).fetch_all(&db.pool).await?;
    rows.iter().map(from_row).collect()
}

fn check_number(number: &str) -> StoreResult<String> {
    let number = text::normalize(number);
    if number.is_empty() {
        return Err(StoreError::Invalid(msg!("registry.error.building_number_empty").field("number")));
    }
    Ok(number)
}

fn check_counts(floors: Option<i64>, units: Option<i64>) -> StoreResult<()> {
    for (field, value) in [("floors", floors), ("units", units)] {
        if let Some(v) = value.filter(|v| !(1..=200).contains(v)) {
            return Err(StoreError::Invalid(msg!("registry.error.count_range", value = v).field(field)));
        }
    }
    Ok(())
}

pub async fn create(db: &Db, new: NewBuilding) -> StoreResult<Building> {
    let grid = areas::get(db, &new.grid_id).await?;
    if grid.level != AreaLevel::Grid {
        let m = msg!("registry.error.building_in_grid", code = &grid.code);
        return Err(StoreError::Invalid(m.level("level", grid.level).field("grid_id")));
    }
    check_counts(new.floors, new.units)?;
    let now = now_millis();
    let building = Building {
        id: new_id(),
        community_id: grid.parent_id.clone().expect("a grid has a community"),
        grid_id: grid.id,
        path: grid.path,
        number: check_number(&new.number)?,
        address: new.address.map(|a| text::normalize(&a)).filter(|a| !a.is_empty()),
        kind: new.kind,
        floors: new.floors,
        units: new.units,
        lat: new.lat,
        lng: new.lng,
        created_at: now,
        updated_at: now,
    };
    let sql =
        format!("INSERT INTO buildings ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&building.id)
        .bind(&building.grid_id)
        .bind(&building.community_id)
        .bind(&building.path)
        .bind(&building.number)
        .bind(&building.address)
        .bind(building.kind.code())
        .bind(building.floors)
        .bind(building.units)
        .bind(Float(building.lat))
        .bind(Float(building.lng))
        .bind(now)
        .bind(now)
        .execute(&db.pool)
        .await
        .map_err(|e| {
            StoreError::on_unique(e, || {
                msg!("registry.error.building_exists", number = &building.number).field("number")
            })
        })?;
    Ok(building)
}

pub async fn update(db: &Db, id: &str, update: BuildingUpdate) -> StoreResult<Building> {
    let mut b = get(db, id).await?;
    if let Some(number) = update.number {
        b.number = check_number(&number)?;
    }
    if let Some(address) = update.address {
        b.address = Some(text::normalize(&address)).filter(|a| !a.is_empty());
    }
    b.kind = update.kind.unwrap_or(b.kind);
    b.floors = update.floors.or(b.floors);
    b.units = update.units.or(b.units);
    b.lat = update.lat.or(b.lat);
    b.lng = update.lng.or(b.lng);
    check_counts(b.floors, b.units)?;
    b.updated_at = now_millis();
    sqlx::query(
        "UPDATE buildings SET number = $1, address = $2, kind = $3, floors = $4, units = $5, lat = $6, lng = $7,
         updated_at = $8 WHERE id = $9",
    )
    .bind(&b.number)
    .bind(&b.address)
    .bind(b.kind.code())
    .bind(b.floors)
    .bind(b.units)
    .bind(Float(b.lat))
    .bind(Float(b.lng))
    .bind(b.updated_at)
    .bind(id)
    .execute(&db.pool)
    .await
    .map_err(|e| {
        StoreError::on_unique(e, || msg!("registry.error.building_exists", number = &b.number).field("number"))
    })?;
    Ok(b)
}

pub async fn list(db: &Db, filter: &BuildingFilter, page: PageRequest) -> StoreResult<Page<Building>> {
    let mut c = Conditions::default();
    if let Some(path) = &filter.under_path {
        c.under_path("path", path);
    }
    if let Some(grid) = &filter.grid_id {
        let p = c.text(grid.as_str());
        c.push(format!("grid_id = {p}"));
    }
    if let Some(kind) = filter.kind {
        let p = c.text(kind.code());
        c.push(format!("kind = {p}"));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let (number, address) = (c.text(format!("{q}%")), c.text(format!("%{q}%")));
        c.push(format!("(number LIKE {number} OR address LIKE {address})"));
    }
    let where_clause = c.where_clause();
    let total = c.scalar(format!("SELECT COUNT(*) FROM buildings {where_clause}")).fetch_one(&db.pool).await?;
    // Numbers are text ("2", "10", "平房3"): order by length first so 2 comes before 10.
    let sql = format!(
        "SELECT {COLUMNS} FROM buildings {where_clause} ORDER BY path, LENGTH(number), number LIMIT {} OFFSET {}",
        page.limit(),
        page.offset()
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let items = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::new(items, page, total))
}
