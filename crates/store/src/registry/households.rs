//! Households (户/房屋): a unit and room in a building, and how it is occupied.

use crate::Thing;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wangge_domain::{Occupancy, Vocabulary, msg, new_id, now_millis, text};

use crate::conditions::Conditions;
use crate::registry::buildings;
use crate::{Db, Page, PageRequest, StoreError, StoreResult};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Household {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub building_id: String,
    pub building_number: String,
    pub path: String,
    /// Unit (单元) within the building; empty for bungalows.
    pub unit: String,
    /// Room or door number (房号/门牌号).
    pub room: String,
    pub occupancy: Occupancy,
    /// People currently living here.
    pub residents: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewHousehold {
    #[schema(format = Uuid)]
    pub building_id: String,
    #[serde(default)]
    pub unit: String,
    pub room: String,
    pub occupancy: Occupancy,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct HouseholdUpdate {
    pub unit: Option<String>,
    pub room: Option<String>,
    pub occupancy: Option<Occupancy>,
}

#[derive(Clone, Debug, Default)]
pub struct HouseholdFilter {
    pub under_path: Option<String>,
    pub building_id: Option<String>,
    pub occupancy: Option<Occupancy>,
}

const SELECT: &str = "SELECT h.id, h.building_id, b.number AS building_number, h.path, h.unit, h.room, h.occupancy,
    (SELECT COUNT(*) FROM residents r WHERE r.household_id = h.id) AS residents, h.created_at, h.updated_at
    FROM households h JOIN buildings b ON b.id = h.building_id";

fn from_row(row: &AnyRow) -> StoreResult<Household> {
    let occupancy: String = row.try_get("occupancy")?;
    Ok(Household {
        id: row.try_get("id")?,
        building_id: row.try_get("building_id")?,
        building_number: row.try_get("building_number")?,
        path: row.try_get("path")?,
        unit: row.try_get("unit")?,
        room: row.try_get("room")?,
        occupancy: Occupancy::from_code(&occupancy).unwrap_or(Occupancy::Other),
        residents: row.try_get("residents")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Household> {
    let sql = format!("{SELECT} WHERE h.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    from_row(&row.ok_or_else(|| StoreError::not_found(Thing::Household, id))?)
}

fn check_room(room: &str) -> StoreResult<String> {
    let room = text::normalize(room);
    if room.is_empty() {
        return Err(StoreError::Invalid(msg!("registry.error.room_empty").field("room")));
    }
    Ok(room)
}

pub async fn create(db: &Db, new: NewHousehold) -> StoreResult<Household> {
    let building = buildings::get(db, &new.building_id).await?;
    let (unit, room) = (text::normalize(&new.unit), check_room(&new.room)?);
    let id = new_id();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO households (id, building_id, path, unit, room, occupancy, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(&building.id)
    .bind(&building.path)
    .bind(&unit)
    .bind(&room)
    .bind(new.occupancy.code())
    .bind(now)
    .bind(now)
    .execute(&db.pool)
    .await
    .map_err(|e| {
        StoreError::on_unique(e, || {
            msg!("registry.error.room_exists", building = &building.number, unit = &unit, room = &room).field("room")
        })
    })?;
    get(db, &id).await
}

pub async fn update(db: &Db, id: &str, update: HouseholdUpdate) -> StoreResult<Household> {
    let current = get(db, id).await?;
    let unit = update.unit.map(|u| text::normalize(&u)).unwrap_or(current.unit);
    let room = match update.room {
        Some(room) => check_room(&room)?,
        None => current.room,
    };
    let occupancy = update.occupancy.unwrap_or(current.occupancy);
    sqlx::query("UPDATE households SET unit = $1, room = $2, occupancy = $3, updated_at = $4 WHERE id = $5")
        .bind(&unit)
        .bind(&room)
        .bind(occupancy.code())
        .bind(now_millis())
        .bind(id)
        .execute(&db.pool)
        .await
        .map_err(|e| {
            StoreError::on_unique(e, || {
                msg!("registry.error.room_exists", building = "", unit = &unit, room = &room).field("room")
            })
        })?;
    get(db, id).await
}

pub async fn list(db: &Db, filter: &HouseholdFilter, page: PageRequest) -> StoreResult<Page<Household>> {
    let mut c = Conditions::default();
    if let Some(path) = &filter.under_path {
        c.under_path("h.path", path);
    }
    if let Some(building) = &filter.building_id {
        let p = c.text(building.as_str());
        c.push(format!("h.building_id = {p}"));
    }
    if let Some(occupancy) = filter.occupancy {
        let p = c.text(occupancy.code());
        c.push(format!("h.occupancy = {p}"));
    }
    let where_clause = c.where_clause();
    let total = c.scalar(format!("SELECT COUNT(*) FROM households h {where_clause}")).fetch_one(&db.pool).await?;
    let sql = format!(
        "{SELECT} {where_clause} ORDER BY LENGTH(b.number), b.number, h.unit, LENGTH(h.room), h.room LIMIT {} OFFSET {}",
        page.limit(),
        page.offset()
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let items = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::new(items, page, total))
}

/// What identifies a household within its community, for matching ledger rows.
#[derive(Clone, Debug)]
pub struct HouseholdKey {
    pub id: String,
    pub building_id: String,
    pub unit: String,
    pub room: String,
    pub occupancy: Occupancy,
}

/// Every household at or under `path`, without counts: fast enough for a whole city.
pub async fn keys_under(db: &Db, path: &str) -> StoreResult<Vec<HouseholdKey>> {
    let mut c = Conditions::default();
    c.under_path("path", path);
    let sql = format!("SELECT id, building_id, unit, room, occupancy FROM households {}", c.where_clause());
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    rows.iter()
        .map(|row| {
            let occupancy: String = row.try_get("occupancy")?;
            Ok(HouseholdKey {
                id: row.try_get("id")?,
                building_id: row.try_get("building_id")?,
                unit: row.try_get("unit")?,
                room: row.try_get("room")?,
                occupancy: Occupancy::from_code(&occupancy).unwrap_or(Occupancy::Other),
            })
        })
        .collect()
}
