//! The category catalogue and the holiday calendar: what decides an item's handling
//! level and its deadlines.

use crate::Thing;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wangge_domain::{BusinessCalendar, Level, Vocabulary, msg, now_millis, parse_date};

use super::vocab;
use crate::{Db, StoreError, StoreResult};

/// A category of demand with its default handling level and time limits.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Category {
    /// Stable key, e.g. `environment`.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Where an item of this category is handled first.
    pub level: Level,
    /// Business days to accept (受理) an item.
    pub accept_days: i64,
    /// Business days to resolve (办结) an item.
    pub resolve_days: i64,
    /// Offered for new items; retired categories keep their old items.
    #[serde(default = "yes")]
    pub active: bool,
    /// Items of a public category are listed to anyone by Open311 without a key
    /// (category, status, dates, building); those reported after it became public
    /// also with their description and photo. Never the reporter.
    #[serde(default)]
    pub public: bool,
    /// When it became public (Unix ms), set by the store.
    #[serde(default, skip_deserializing)]
    pub public_since: Option<i64>,
}

fn yes() -> bool {
    true
}

fn category_from_row(row: &AnyRow) -> StoreResult<Category> {
    let public_since: Option<i64> = row.try_get("public_since")?;
    Ok(Category {
        code: row.try_get("code")?,
        name_zh: row.try_get("name_zh")?,
        name_en: row.try_get("name_en")?,
        level: vocab(row, "level")?,
        accept_days: row.try_get("accept_days")?,
        resolve_days: row.try_get("resolve_days")?,
        active: row.try_get::<i16, _>("active")? != 0,
        public: public_since.is_some(),
        public_since,
    })
}

const CATEGORY_COLUMNS: &str = "code, name_zh, name_en, level, accept_days, resolve_days, active, public_since";

/// The catalogue (the migration seeds the standard one), by code.
pub async fn categories(db: &Db) -> StoreResult<Vec<Category>> {
    let sql = format!("SELECT {CATEGORY_COLUMNS} FROM demand_categories ORDER BY code");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&db.pool).await?;
    rows.iter().map(category_from_row).collect()
}

/// The category with this code, from the catalogue kept in memory ([`crate::cache`]:
/// emptied by [`save_category`], read again after 10 s for changes made by other
/// processes). A code the cached catalogue lacks is looked up in the database, so a
/// category just added elsewhere is found at once.
pub async fn category(db: &Db, code: &str) -> StoreResult<Category> {
    if let Some(c) = catalogue(db).await?.get(code) {
        return Ok(c.clone());
    }
    let found = category_from_db(db, code).await?;
    db.caches.forget_categories();
    Ok(found)
}

async fn category_from_db(db: &Db, code: &str) -> StoreResult<Category> {
    let sql = format!("SELECT {CATEGORY_COLUMNS} FROM demand_categories WHERE code = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(&db.pool).await?;
    category_from_row(&row.ok_or_else(|| StoreError::not_found(Thing::Category, code))?)
}

/// The whole catalogue by code, from memory when fresh.
async fn catalogue(db: &Db) -> StoreResult<Arc<HashMap<String, Category>>> {
    let generation = match db.caches.categories() {
        Ok(cached) => return Ok(cached),
        Err(generation) => generation,
    };
    let read_at = Instant::now();
    let all: HashMap<String, Category> = categories(db).await?.into_iter().map(|c| (c.code.clone(), c)).collect();
    let all = Arc::new(all);
    db.caches.put_categories(generation, read_at, Arc::clone(&all));
    Ok(all)
}

fn check_category(c: &Category) -> StoreResult<()> {
    let code_ok =
        !c.code.is_empty() && c.code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !code_ok {
        return Err(StoreError::Invalid(msg!("demands.error.category_code", code = &c.code).field("code")));
    }
    if c.name_zh.trim().is_empty() {
        return Err(StoreError::Invalid(msg!("demands.error.category_name").field("name_zh")));
    }
    for (field, days) in [("accept_days", c.accept_days), ("resolve_days", c.resolve_days)] {
        if !(0..=365).contains(&days) {
            return Err(StoreError::Invalid(msg!("demands.error.days_range", days = days).field(field)));
        }
    }
    Ok(())
}

/// Adds a category, or replaces the one with the same code. Made public, it is
/// public from now on (items reported before keep their words to themselves);
/// already public, it stays so since when it became so.
pub async fn save_category(db: &Db, c: Category) -> StoreResult<Category> {
    check_category(&c)?;
    let before = match category_from_db(db, &c.code).await {
        Ok(before) => before.public_since,
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let now = now_millis();
    let public_since = if c.public { Some(before.unwrap_or(now)) } else { None };
    // Update, then insert when there was nothing to update: the same text on both
    // engines, where an upsert would need two dialects. Items refer to the code.
    let updated = sqlx::query(
        "UPDATE demand_categories SET name_zh = $1, name_en = $2, level = $3, accept_days = $4, resolve_days = $5,
         active = $6, updated_at = $7, public_since = $9 WHERE code = $8",
    )
    .bind(c.name_zh.trim())
    .bind(c.name_en.trim())
    .bind(c.level.code())
    .bind(c.accept_days)
    .bind(c.resolve_days)
    .bind(i16::from(c.active))
    .bind(now)
    .bind(&c.code)
    .bind(public_since)
    .execute(&db.pool)
    .await?;
    if updated.rows_affected() == 0 {
        sqlx::query(
            "INSERT INTO demand_categories (code, name_zh, name_en, level, accept_days, resolve_days, active, updated_at,
             public_since) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&c.code)
        .bind(c.name_zh.trim())
        .bind(c.name_en.trim())
        .bind(c.level.code())
        .bind(c.accept_days)
        .bind(c.resolve_days)
        .bind(i16::from(c.active))
        .bind(now)
        .bind(public_since)
        .execute(&db.pool)
        .await
        .map_err(|e| StoreError::on_unique(e, || msg!("demands.error.category_exists", code = &c.code).field("code")))?;
    }
    db.caches.forget_categories();
    category_from_db(db, &c.code).await
}

/// A day off, or a weekend day worked in exchange (调休).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Holiday {
    #[schema(format = Date)]
    pub day: String,
    /// `holiday` (a weekday off) or `workday` (a weekend day worked).
    pub kind: String,
    #[serde(default)]
    pub name: String,
}

pub async fn holidays(db: &Db) -> StoreResult<Vec<Holiday>> {
    let rows = sqlx::query("SELECT day, kind, name FROM holidays ORDER BY day").fetch_all(&db.pool).await?;
    rows.iter()
        .map(|r| Ok(Holiday { day: r.try_get("day")?, kind: r.try_get("kind")?, name: r.try_get("name")? }))
        .collect()
}

/// Records a holiday or make-up working day (replacing what that day was).
pub async fn set_holiday(db: &Db, h: Holiday) -> StoreResult<Holiday> {
    let day =
        parse_date(&h.day).ok_or_else(|| StoreError::Invalid(msg!("error.not_a_date", value = &h.day).field("day")))?;
    if !matches!(h.kind.as_str(), "holiday" | "workday") {
        return Err(StoreError::Invalid(msg!("demands.error.holiday_kind", kind = &h.kind).field("kind")));
    }
    let day = wangge_domain::format_date(day);
    let mut tx = db.pool.begin().await?;
    sqlx::query("DELETE FROM holidays WHERE day = $1").bind(&day).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO holidays (day, kind, name) VALUES ($1, $2, $3)")
        .bind(&day)
        .bind(&h.kind)
        .bind(h.name.trim())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    db.caches.forget_calendar();
    Ok(Holiday { day, kind: h.kind, name: h.name.trim().to_owned() })
}

/// The working calendar deadlines are counted in, from memory when fresh
/// ([`crate::cache`]: emptied by [`set_holiday`], read again after 10 s for changes
/// made by other processes).
pub async fn calendar(db: &Db) -> StoreResult<Arc<BusinessCalendar>> {
    let generation = match db.caches.calendar() {
        Ok(cached) => return Ok(cached),
        Err(generation) => generation,
    };
    let read_at = Instant::now();
    let cal = Arc::new(calendar_from_db(db).await?);
    db.caches.put_calendar(generation, read_at, Arc::clone(&cal));
    Ok(cal)
}

async fn calendar_from_db(db: &Db) -> StoreResult<BusinessCalendar> {
    let mut cal = BusinessCalendar::default();
    for h in holidays(db).await? {
        let Some(day) = parse_date(&h.day) else { continue };
        if h.kind == "workday" {
            cal.workdays.insert(day);
        } else {
            cal.holidays.insert(day);
        }
    }
    Ok(cal)
}
