//! The community's needs list (服务需求), members' claims, their service records
//! (with photos) and the points of confirmed service. A record is recorded by the
//! member (or staff), then confirmed — with a rating and the points of the
//! community's rules then in force — or rejected with a reason, once, by the grid
//! member or the organiser (`wangge_domain::party::service_next`).

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::Date;
use utoipa::ToSchema;
use wangge_domain::party::{self as rules, MemberStatus, NeedSource, ServiceState};
use wangge_domain::party_joint::ServiceField;
use wangge_domain::{AreaLevel, Vocabulary, msg, new_id, now_millis};

use super::{bad, free, line, member, term};
use crate::registry::areas;
use crate::{Db, StoreError, StoreResult, Thing, subtree_bounds};

/// Most photos a service record carries.
pub const MAX_PHOTOS: usize = 3;
/// How far ahead a need may be published, in days (the list goes out a month ahead).
pub const AHEAD_DAYS: i64 = 92;

/// A need of the community's list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Need {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub community_id: String,
    #[schema(format = Uuid)]
    pub grid_id: Option<String>,
    /// The grid's name, or the community's.
    pub area_name: String,
    pub path: String,
    pub title: String,
    pub detail: String,
    pub source_kind: NeedSource,
    /// The demand or visit it came from.
    #[schema(format = Uuid)]
    pub source_id: Option<String>,
    /// What it is about, which resources it fits (the three lists); none: not said.
    pub field: Option<ServiceField>,
    #[schema(format = Date)]
    pub needed_on: String,
    /// How many members it needs.
    pub slots: i64,
    /// How many claimed it.
    pub claimed: i64,
    pub created_by_name: String,
    pub created_at: i64,
}

/// A need to publish.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewNeed {
    /// The community or one of its grids.
    #[schema(format = Uuid)]
    pub area_id: String,
    pub title: String,
    #[serde(default)]
    pub detail: String,
    pub source_kind: NeedSource,
    #[serde(default)]
    #[schema(format = Uuid)]
    pub source_id: Option<String>,
    /// What it is about (matched with the resources of the same field).
    #[serde(default)]
    pub field: Option<ServiceField>,
    #[schema(format = Date)]
    pub needed_on: String,
    pub slots: i64,
}

const NEED: &str = "SELECT n.id, n.community_id, n.grid_id, a.name AS area_name, n.path, n.title, n.detail,
        n.source_kind, n.source_id, n.field, n.needed_on, n.slots, n.created_by_name, n.created_at,
        (SELECT count(*) FROM party_claims c WHERE c.need_id = n.id) AS claimed
     FROM party_needs n JOIN areas a ON a.id = COALESCE(n.grid_id, n.community_id)";

fn need_from(r: &AnyRow) -> StoreResult<Need> {
    Ok(Need {
        id: r.try_get("id")?,
        community_id: r.try_get("community_id")?,
        grid_id: r.try_get("grid_id")?,
        area_name: r.try_get("area_name")?,
        path: r.try_get("path")?,
        title: r.try_get("title")?,
        detail: r.try_get("detail")?,
        source_kind: term(r, "source_kind")?,
        source_id: r.try_get("source_id")?,
        field: super::term_opt(r, "field")?,
        needed_on: r.try_get("needed_on")?,
        slots: r.try_get("slots")?,
        claimed: r.try_get("claimed")?,
        created_by_name: r.try_get("created_by_name")?,
        created_at: r.try_get("created_at")?,
    })
}

/// One need.
pub async fn need(db: &Db, id: &str) -> StoreResult<Need> {
    let sql = format!("{NEED} WHERE n.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    need_from(&row.ok_or_else(|| StoreError::not_found(Thing::PartyNeed, id))?)
}

/// Publishes a need, from `today` up to [`AHEAD_DAYS`] ahead, for 1–50 members.
/// A demand or a visit named as its source must lie in the community.
pub async fn add_need(db: &Db, new: NewNeed, by: &str, today: Date) -> StoreResult<Need> {
    let area = areas::get(db, &new.area_id).await?;
    let community = super::community_of(db, &area).await?;
    let title = line(&new.title, "title", 80)?;
    let detail = free(&new.detail, "detail", 2000)?;
    let day = wangge_domain::parse_date(&new.needed_on)
        .ok_or_else(|| bad(msg!("party.error.date", value = &new.needed_on).field("needed_on")))?;
    if day < today || day > today + time::Duration::days(AHEAD_DAYS) {
        return Err(bad(msg!("party.error.needed_on", days = AHEAD_DAYS).field("needed_on")));
    }
    if !(1..=50).contains(&new.slots) {
        return Err(bad(msg!("party.error.slots").field("slots")));
    }
    let source_id = new.source_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(source) = source_id {
        let table = match new.source_kind {
            NeedSource::Demand => "demands",
            NeedSource::Visit => "visits",
            NeedSource::Plan => return Err(bad(msg!("party.error.plan_source").field("source_id"))),
        };
        let sql = format!("SELECT path FROM {table} WHERE id = $1");
        let path: Option<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(source).fetch_optional(&db.pool).await?;
        if !path.is_some_and(|p| p.starts_with(&community.path)) {
            let what = if new.source_kind == NeedSource::Demand { Thing::Demand } else { Thing::Visit };
            return Err(StoreError::not_found(what, source));
        }
    }
    let grid = (area.level == AreaLevel::Grid).then_some(&area);
    let id = new_id();
    sqlx::query(
        "INSERT INTO party_needs (id, community_id, grid_id, path, title, detail, source_kind, source_id, needed_on,
             slots, created_by_name, created_at, field)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&id)
    .bind(&community.id)
    .bind(grid.map(|g| g.id.clone()))
    .bind(&area.path)
    .bind(&title)
    .bind(&detail)
    .bind(new.source_kind.code())
    .bind(source_id)
    .bind(wangge_domain::format_date(day))
    .bind(new.slots)
    .bind(by)
    .bind(now_millis())
    .bind(new.field.map(|f| f.code()))
    .execute(&db.pool)
    .await?;
    need(db, &id).await
}

/// Says what a need is about (or unsays it), which resources it then fits.
pub async fn set_need_field(db: &Db, need_id: &str, field: Option<ServiceField>) -> StoreResult<Need> {
    let done = sqlx::query("UPDATE party_needs SET field = $1 WHERE id = $2")
        .bind(field.map(|f| f.code()))
        .bind(need_id)
        .execute(&db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found(Thing::PartyNeed, need_id));
    }
    need(db, need_id).await
}

/// The needs that concern the area at `path` — those under it, and those of its
/// community as a whole — from `from` on, by day (at most 500).
pub async fn needs_under(db: &Db, path: &str, from: Date) -> StoreResult<Vec<Need>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!(
        "{NEED} WHERE ((n.path >= $1 AND n.path < $2) OR (n.grid_id IS NULL AND $3 LIKE n.path || '%'))
           AND n.needed_on >= $4 ORDER BY n.needed_on, n.created_at LIMIT 500"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&lo)
        .bind(&hi)
        .bind(path)
        .bind(wangge_domain::format_date(from))
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(need_from).collect()
}

/// A member claims a need of their community (in-service members serve wherever
/// they are needed in it): once, while it has places, if they are on the roll.
pub async fn claim(db: &Db, need_id: &str, member_id: &str) -> StoreResult<Need> {
    let n = need(db, need_id).await?;
    let m = member(db, member_id).await?;
    if m.community_id != n.community_id {
        return Err(bad(msg!("party.error.need_elsewhere", title = &n.title).field("need_id")));
    }
    if m.status != MemberStatus::Active {
        return Err(StoreError::Conflict(
            wangge_domain::Message::new("party.error.not_active").arg("name", &m.name).term("status", m.status),
        ));
    }
    if n.claimed >= n.slots {
        return Err(StoreError::Conflict(msg!("party.error.full", title = &n.title, slots = n.slots)));
    }
    sqlx::query("INSERT INTO party_claims (id, need_id, member_id, path, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(new_id())
        .bind(&n.id)
        .bind(&m.id)
        .bind(&m.path)
        .bind(now_millis())
        .execute(&db.pool)
        .await
        .map_err(|e| StoreError::on_unique(e, || msg!("party.error.claimed_twice", title = &n.title)))?;
    need(db, need_id).await
}

/// Who claimed a need: member ids and names, in the order they claimed.
pub async fn claims(db: &Db, need_id: &str) -> StoreResult<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.name FROM party_claims c JOIN party_members m ON m.id = c.member_id WHERE c.need_id = $1
         ORDER BY c.created_at, c.id",
    )
    .bind(need_id)
    .fetch_all(&db.pool)
    .await?)
}

/// The needs a member claimed, newest first.
pub async fn claimed_by(db: &Db, member_id: &str) -> StoreResult<Vec<Need>> {
    let sql = format!(
        "{NEED} WHERE n.id IN (SELECT need_id FROM party_claims WHERE member_id = $1) ORDER BY n.needed_on DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(member_id).fetch_all(&db.pool).await?;
    rows.iter().map(need_from).collect()
}

// ---- service records ----

/// A service record.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Service {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub community_id: String,
    #[schema(format = Uuid)]
    pub member_id: String,
    pub member_name: String,
    /// The member's unit, for in-service members.
    pub unit_name: Option<String>,
    #[schema(format = Uuid)]
    pub need_id: Option<String>,
    pub path: String,
    pub activity: String,
    /// When it was served (Unix ms); its day and quarter are read in China time.
    pub served_at: i64,
    pub minutes: i64,
    pub state: ServiceState,
    /// 1–5, given at confirmation.
    pub rating: Option<i64>,
    pub points: i64,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub recorded_by_name: String,
    pub confirmed_by_name: Option<String>,
    pub decided_at: Option<i64>,
    /// Its photos' ids.
    pub photos: Vec<String>,
}

/// Service to record.
#[derive(Clone, Debug)]
pub struct NewService {
    pub member_id: String,
    /// A need the member claimed, if it served one.
    pub need_id: Option<String>,
    /// What was done (the need's title when empty and a need is given).
    pub activity: String,
    pub served_at: i64,
    pub minutes: i64,
}

const SERVICE: &str = "SELECT s.id, s.community_id, s.member_id, m.name AS member_name, u.name AS unit_name,
        s.need_id, s.path, s.activity, s.served_at, s.minutes, s.state, s.rating, s.points, s.reason,
        s.recorded_by_name, s.confirmed_by_name, s.decided_at
     FROM party_service s JOIN party_members m ON m.id = s.member_id LEFT JOIN party_units u ON u.id = m.unit_id";

fn service_from(r: &AnyRow) -> StoreResult<Service> {
    Ok(Service {
        id: r.try_get("id")?,
        community_id: r.try_get("community_id")?,
        member_id: r.try_get("member_id")?,
        member_name: r.try_get("member_name")?,
        unit_name: r.try_get("unit_name")?,
        need_id: r.try_get("need_id")?,
        path: r.try_get("path")?,
        activity: r.try_get("activity")?,
        served_at: r.try_get("served_at")?,
        minutes: r.try_get("minutes")?,
        state: term(r, "state")?,
        rating: r.try_get::<Option<i64>, _>("rating")?,
        points: r.try_get("points")?,
        reason: r.try_get("reason")?,
        recorded_by_name: r.try_get("recorded_by_name")?,
        confirmed_by_name: r.try_get("confirmed_by_name")?,
        decided_at: r.try_get("decided_at")?,
        photos: Vec::new(),
    })
}

async fn with_photos(db: &Db, mut list: Vec<Service>) -> StoreResult<Vec<Service>> {
    for s in &mut list {
        s.photos = sqlx::query_scalar("SELECT id FROM party_service_photos WHERE service_id = $1 ORDER BY id")
            .bind(&s.id)
            .fetch_all(&db.pool)
            .await?;
    }
    Ok(list)
}

/// One record with its photos.
pub async fn service(db: &Db, id: &str) -> StoreResult<Service> {
    let sql = format!("{SERVICE} WHERE s.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    let s = service_from(&row.ok_or_else(|| StoreError::not_found(Thing::PartyService, id))?)?;
    Ok(with_photos(db, vec![s]).await?.remove(0))
}

/// Records service: by a member on the roll, at a time not in the future (`now`),
/// for 1 minute to 24 hours, on a need they claimed or a free activity, with up to
/// [`MAX_PHOTOS`] photos (checked as the demands' attachments are).
pub async fn record(db: &Db, new: NewService, photos: &[Vec<u8>], by: &str, now: i64) -> StoreResult<Service> {
    let m = member(db, &new.member_id).await?;
    if m.status != MemberStatus::Active {
        return Err(StoreError::Conflict(
            wangge_domain::Message::new("party.error.not_active").arg("name", &m.name).term("status", m.status),
        ));
    }
    if new.served_at > now {
        return Err(bad(msg!("party.error.future").field("served_at")));
    }
    if !(1..=24 * 60).contains(&new.minutes) {
        return Err(bad(msg!("party.error.hours", value = rules::hours(new.minutes)).field("hours")));
    }
    let mut activity = new.activity.trim().to_owned();
    if let Some(need_id) = &new.need_id {
        let n = need(db, need_id).await?;
        let claimed: i64 =
            sqlx::query_scalar("SELECT count(*) FROM party_claims WHERE need_id = $1 AND member_id = $2")
                .bind(need_id)
                .bind(&m.id)
                .fetch_one(&db.pool)
                .await?;
        if claimed == 0 {
            return Err(bad(msg!("party.error.not_claimed", title = &n.title).field("need_id")));
        }
        if activity.is_empty() {
            activity = n.title;
        }
    }
    let activity = line(&activity, "activity", 120)?;
    let checked = super::check_photos(photos, MAX_PHOTOS)?;
    let id = new_id();
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO party_service (id, community_id, member_id, need_id, path, activity, served_at, minutes, state,
             recorded_by_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'recorded', $9, $10)",
    )
    .bind(&id)
    .bind(&m.community_id)
    .bind(&m.id)
    .bind(&new.need_id)
    .bind(&m.path)
    .bind(&activity)
    .bind(new.served_at)
    .bind(new.minutes)
    .bind(by)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    super::store_photos(&mut tx, "party_service_photos", "service_id", &id, &checked).await?;
    tx.commit().await?;
    service(db, &id).await
}

/// Confirms (with a rating 1–5, the points of the community's rules) or rejects
/// (with a reason) a recorded service, once: one guarded update.
pub async fn decide(
    db: &Db,
    id: &str,
    confirm: bool,
    rating: Option<i64>,
    reason: Option<&str>,
    by: &str,
) -> StoreResult<Service> {
    let s = service(db, id).await?;
    let to = rules::service_next(s.state, confirm).map_err(StoreError::Conflict)?;
    if rating.is_some_and(|r| !(1..=5).contains(&r)) {
        return Err(bad(msg!("party.error.rating").field("rating")));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if !confirm && reason.is_none() {
        return Err(bad(msg!("party.error.reason").field("reason")));
    }
    let points = if confirm {
        super::settings(db, &s.community_id).await?.points.points(s.minutes, s.need_id.is_some())
    } else {
        0
    };
    let changed = sqlx::query(
        "UPDATE party_service SET state = $1, rating = $2, points = $3, reason = $4, confirmed_by_name = $5,
            decided_at = $6 WHERE id = $7 AND state = $8",
    )
    .bind(to.code())
    .bind(if confirm { rating } else { None })
    .bind(points)
    .bind(reason)
    .bind(by)
    .bind(now_millis())
    .bind(id)
    .bind(s.state.code())
    .execute(&db.pool)
    .await?;
    if changed.rows_affected() != 1 {
        return Err(StoreError::Conflict(msg!("party.error.changed")));
    }
    service(db, id).await
}

/// The records at or under `path`, newest first: those in `state` when given (at
/// most `limit`).
pub async fn services_under(db: &Db, path: &str, state: Option<ServiceState>, limit: i64) -> StoreResult<Vec<Service>> {
    let (lo, hi) = subtree_bounds(path);
    let filter = if state.is_some() { "AND s.state = $4" } else { "AND $4 = $4" };
    let sql = format!("{SERVICE} WHERE s.path >= $1 AND s.path < $2 {filter} ORDER BY s.served_at DESC, s.id LIMIT $3");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&lo)
        .bind(&hi)
        .bind(limit)
        .bind(state.map_or("", |s| s.code()))
        .fetch_all(&db.pool)
        .await?;
    with_photos(db, rows.iter().map(service_from).collect::<StoreResult<_>>()?).await
}

/// A member's records, newest first.
pub async fn services_of(db: &Db, member_id: &str) -> StoreResult<Vec<Service>> {
    let sql = format!("{SERVICE} WHERE s.member_id = $1 ORDER BY s.served_at DESC, s.id LIMIT 500");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(member_id).fetch_all(&db.pool).await?;
    with_photos(db, rows.iter().map(service_from).collect::<StoreResult<_>>()?).await
}

/// A photo: its record's id, its type and its bytes.
pub async fn photo(db: &Db, id: &str) -> StoreResult<(String, String, Vec<u8>)> {
    let row = sqlx::query("SELECT service_id, content_type, data FROM party_service_photos WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Thing::PartyPhoto, id))?;
    Ok((row.try_get("service_id")?, row.try_get("content_type")?, row.try_get("data")?))
}
