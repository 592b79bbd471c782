//! The grid team roster (网格队伍, the "1 + X + N"): per grid, the grid leader, the
//! grid members and the N others who help — Party members, volunteers, building
//! heads, property staff, the police liaison. Each post is a person with a private
//! phone (sealed like residents' phones, see [`crate::vault`]), an optional public
//! duty phone shown on the grid's public face only with their recorded consent, an
//! optional account and resident record, the buildings they look after, and from/to
//! dates. Nobody is deleted: ending a post dates it, and the roster keeps its history.
//!
//! Handler units (community departments, the property company) are organisations in
//! roles, see [`crate::units`]; together the two are whom a demand can be dispatched to.

use crate::Thing;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;
use wangge_domain::{Explain, Phone, TeamPost, Vocabulary, msg, new_id, now_millis, text};

use crate::registry::{areas, buildings};
use crate::vault::Vault;
use crate::{Db, StoreError, StoreResult};

/// The purpose of the phone's blind index (its HMAC key derivation input).
const PHONE: &str = "grid_posts.phone";

fn aad(post_id: &str) -> String {
    format!("grid_posts.phone:{post_id}")
}

/// One post of a grid's team, held by one person over a span of dates.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GridPost {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub grid_id: String,
    pub post: TeamPost,
    pub person_name: Option<String>,
    /// The private phone: in full only for those who manage the team, masked
    /// (`138****5678`) in a masked view, absent for everyone else.
    pub phone: Option<String>,
    /// The public duty phone (值班电话), when there is one.
    pub duty_phone: Option<String>,
    /// When the person agreed to their duty phone being shown on the grid's public
    /// face (Unix ms); without it the duty phone is not shown there.
    pub duty_phone_consent_at: Option<i64>,
    /// What they do for the grid (分工), free text.
    pub duties: String,
    #[schema(format = Uuid)]
    pub account_id: Option<String>,
    #[schema(format = Uuid)]
    pub resident_id: Option<String>,
    /// The buildings they look after.
    pub building_ids: Vec<String>,
    /// `YYYY-MM-DD`.
    pub starts_on: Option<String>,
    /// `YYYY-MM-DD`; a post with an end date in the past is history.
    pub ends_on: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl GridPost {
    /// What anyone who may see the grid sees of a post: no private phone, no resident
    /// record, and the duty phone only with the person's consent.
    pub fn public(mut self) -> Self {
        self.phone = None;
        self.resident_id = None;
        if self.duty_phone_consent_at.is_none() {
            self.duty_phone = None;
        }
        self
    }

    /// Whether the post is held today.
    pub fn current(&self) -> bool {
        self.ends_on.as_deref().is_none_or(|end| end >= today().as_str())
    }
}

/// A post to add, or the new state of one (an edit replaces every field).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct NewPost {
    pub post: Option<String>,
    pub person_name: String,
    /// The private phone; on an edit, empty keeps the stored one.
    #[serde(default)]
    pub phone: Option<String>,
    /// On an edit, `clear_phone` removes the stored private phone.
    #[serde(default)]
    pub clear_phone: bool,
    #[serde(default)]
    pub duty_phone: Option<String>,
    /// The person agreed that the duty phone be shown publicly.
    #[serde(default)]
    pub duty_phone_consent: bool,
    #[serde(default)]
    pub duties: String,
    #[serde(default)]
    #[schema(format = Uuid)]
    pub account_id: Option<String>,
    #[serde(default)]
    #[schema(format = Uuid)]
    pub resident_id: Option<String>,
    #[serde(default)]
    pub building_ids: Vec<String>,
    #[serde(default)]
    pub starts_on: Option<String>,
}

/// How much of the private phones a reader sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phones {
    /// Those who manage the team.
    Full,
    /// Neither the number nor that there is one.
    Hidden,
}

const COLUMNS: &str = "id, grid_id, post, person_name, phone_enc, duty_phone, duty_phone_consent_at, duties, \
    account_id, resident_id, starts_on, ends_on, created_at, updated_at";

pub(crate) fn today() -> String {
    let now = time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(8, 0, 0).expect("UTC+8"));
    format!("{:04}-{:02}-{:02}", now.year(), u8::from(now.month()), now.day())
}

fn optional(v: Option<&str>) -> Option<String> {
    v.map(text::normalize).filter(|s| !s.is_empty())
}

fn check_date(value: Option<&str>, field: &'static str) -> StoreResult<Option<String>> {
    let Some(v) = optional(value) else { return Ok(None) };
    let ok = v.len() == 10 && time::Date::parse(&v, time::macros::format_description!("[year]-[month]-[day]")).is_ok();
    if ok { Ok(Some(v)) } else { Err(StoreError::Invalid(msg!("team.error.date", value = &v).field(field))) }
}

fn parse_phone(value: &str, field: &'static str) -> StoreResult<Phone> {
    Phone::parse(value).map_err(|e| StoreError::Invalid(e.message().field(field)))
}

fn from_row(row: &AnyRow, vault: &Vault, phones: Phones, buildings: Vec<String>) -> StoreResult<GridPost> {
    let id: String = row.try_get("id")?;
    let code: String = row.try_get("post")?;
    let post = TeamPost::from_code(&code)
        .ok_or_else(|| StoreError::Invalid(msg!("error.stored_value", what = TeamPost::NAME, value = &code)))?;
    let sealed: Option<String> = row.try_get("phone_enc")?;
    let phone = match phones {
        Phones::Full => sealed.map(|s| vault.open(&s, &aad(&id))).transpose()?,
        Phones::Hidden => None,
    };
    Ok(GridPost {
        grid_id: row.try_get("grid_id")?,
        post,
        person_name: row.try_get("person_name")?,
        phone,
        duty_phone: row.try_get("duty_phone")?,
        duty_phone_consent_at: row.try_get("duty_phone_consent_at")?,
        duties: row.try_get("duties")?,
        account_id: row.try_get("account_id")?,
        resident_id: row.try_get("resident_id")?,
        building_ids: buildings,
        starts_on: row.try_get("starts_on")?,
        ends_on: row.try_get("ends_on")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        id,
    })
}

async fn buildings_of(conn: &mut AnyConnection, post_id: &str) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT building_id FROM grid_post_buildings WHERE post_id = $1 ORDER BY building_id")
        .bind(post_id)
        .fetch_all(&mut *conn)
        .await?)
}

/// The grid's team: current posts first by post, then history (ended posts) when
/// `with_history`.
pub async fn roster(db: &Db, grid_id: &str, phones: Phones, with_history: bool) -> StoreResult<Vec<GridPost>> {
    let sql = format!("SELECT {COLUMNS} FROM grid_posts WHERE grid_id = $1 ORDER BY created_at, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(grid_id).fetch_all(&db.pool).await?;
    let links: Vec<(String, String)> = sqlx::query_as(
        "SELECT b.post_id, b.building_id FROM grid_post_buildings b JOIN grid_posts p ON p.id = b.post_id \
         WHERE p.grid_id = $1 ORDER BY b.building_id",
    )
    .bind(grid_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: String = row.try_get("id")?;
        let mine = links.iter().filter(|(p, _)| *p == id).map(|(_, b)| b.clone()).collect();
        let post = from_row(row, &db.vault, phones, mine)?;
        if with_history || post.current() {
            out.push(post);
        }
    }
    out.sort_by_key(|p| (!p.current(), TeamPost::all().iter().position(|t| *t == p.post), p.created_at));
    Ok(out)
}

pub async fn get(db: &Db, id: &str, phones: Phones) -> StoreResult<GridPost> {
    let mut conn = db.pool.acquire().await?;
    get_on(&mut conn, &db.vault, id, phones).await
}

async fn get_on(conn: &mut AnyConnection, vault: &Vault, id: &str, phones: Phones) -> StoreResult<GridPost> {
    let sql = format!("SELECT {COLUMNS} FROM grid_posts WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *conn).await?;
    let row = row.ok_or_else(|| StoreError::not_found(Thing::TeamPost, id))?;
    let buildings = buildings_of(conn, id).await?;
    from_row(&row, vault, phones, buildings)
}

/// The current posts held by `account_id` (a grid member's own posts).
pub async fn of_account(db: &Db, account_id: &str) -> StoreResult<Vec<GridPost>> {
    let sql = format!("SELECT {COLUMNS} FROM grid_posts WHERE account_id = $1 ORDER BY created_at");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account_id).fetch_all(&db.pool).await?;
    let mut out = Vec::new();
    for row in &rows {
        let post = from_row(row, &db.vault, Phones::Hidden, Vec::new())?;
        if post.current() {
            out.push(post);
        }
    }
    Ok(out)
}

/// The current post that looks after `building_id` in `post` (the building's grid
/// member, say), the earliest appointed first.
pub async fn looking_after(db: &Db, building_id: &str, post: TeamPost) -> StoreResult<Option<GridPost>> {
    let sql = format!(
        "SELECT {} FROM grid_posts p JOIN grid_post_buildings b ON b.post_id = p.id \
         WHERE b.building_id = $1 AND p.post = $2 ORDER BY p.created_at, p.id",
        COLUMNS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ")
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(building_id).bind(post.code()).fetch_all(&db.pool).await?;
    for row in &rows {
        let post = from_row(row, &db.vault, Phones::Hidden, vec![building_id.to_owned()])?;
        if post.current() {
            return Ok(Some(post));
        }
    }
    Ok(None)
}

/// The checked values of a [`NewPost`].
struct Checked {
    post: TeamPost,
    name: String,
    phone: Option<Phone>,
    duty_phone: Option<String>,
    starts_on: Option<String>,
    buildings: Vec<String>,
}

async fn check(db: &Db, grid: &areas::Area, new: &NewPost, existing: Option<TeamPost>) -> StoreResult<Checked> {
    let post = match optional(new.post.as_deref()) {
        Some(p) => TeamPost::parse(&p).map_err(|e| StoreError::Invalid(e.message().field("post")))?,
        None => existing.ok_or_else(|| StoreError::Invalid(msg!("team.error.post_needed").field("post")))?,
    };
    let name = optional(Some(&new.person_name))
        .ok_or_else(|| StoreError::Invalid(msg!("team.error.name_needed").field("person_name")))?;
    let phone = optional(new.phone.as_deref()).map(|p| parse_phone(&p, "phone")).transpose()?;
    let duty_phone =
        optional(new.duty_phone.as_deref()).map(|p| parse_phone(&p, "duty_phone").map(|p| p.as_str().to_owned()));
    let duty_phone = duty_phone.transpose()?;
    let starts_on = check_date(new.starts_on.as_deref(), "starts_on")?;
    let mut building_ids = Vec::new();
    for b in new.building_ids.iter().map(|b| b.trim()).filter(|b| !b.is_empty()) {
        let building = buildings::get(db, b).await?;
        if building.grid_id != grid.id {
            return Err(StoreError::Invalid(
                msg!("team.error.building_elsewhere", building = &building.number).field("building_ids"),
            ));
        }
        if !building_ids.contains(&building.id) {
            building_ids.push(building.id);
        }
    }
    if let Some(account) = optional(new.account_id.as_deref()) {
        crate::security::accounts::get(db, &account).await?;
    }
    if let Some(resident) = optional(new.resident_id.as_deref()) {
        let r = crate::registry::residents::get(db, &resident).await?;
        // A resident of another community is not on this grid's team.
        if !r.path.starts_with(community_path(&grid.path)) {
            return Err(StoreError::not_found(Thing::Resident, resident));
        }
    }
    Ok(Checked { post, name, phone, duty_phone, starts_on, buildings: building_ids })
}

/// The path of a grid's community: the grid's path without its last code.
pub fn community_path(grid_path: &str) -> &str {
    let trimmed = grid_path.trim_end_matches('/');
    trimmed.rfind('/').map_or(grid_path, |i| &grid_path[..=i])
}

async fn set_buildings(conn: &mut AnyConnection, post_id: &str, buildings: &[String]) -> StoreResult<()> {
    sqlx::query("DELETE FROM grid_post_buildings WHERE post_id = $1").bind(post_id).execute(&mut *conn).await?;
    for b in buildings {
        sqlx::query("INSERT INTO grid_post_buildings (post_id, building_id) VALUES ($1, $2)")
            .bind(post_id)
            .bind(b)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Adds a post to a grid's team. The private phone is sealed here, so no caller can
/// store it in plain text.
pub async fn add(db: &Db, grid_id: &str, new: &NewPost) -> StoreResult<GridPost> {
    let grid = grid_of(db, grid_id).await?;
    let c = check(db, &grid, new, None).await?;
    let mut tx = db.pool.begin().await?;
    let id = insert(&mut tx, &db.vault, &grid, &c, new).await?;
    let post = get_on(&mut tx, &db.vault, &id, Phones::Full).await?;
    tx.commit().await?;
    Ok(post)
}

async fn grid_of(db: &Db, grid_id: &str) -> StoreResult<areas::Area> {
    let grid = areas::get(db, grid_id).await?;
    if grid.level != wangge_domain::AreaLevel::Grid {
        return Err(StoreError::Invalid(msg!("team.error.not_a_grid").field("grid_id")));
    }
    Ok(grid)
}

/// Checks a post as [`add`] would, without writing it: how an import finds every
/// bad row before it writes any.
pub async fn check_new(db: &Db, grid_id: &str, new: &NewPost) -> StoreResult<()> {
    let grid = grid_of(db, grid_id).await?;
    check(db, &grid, new, None).await.map(|_| ())
}

/// Adds many posts, each to its grid, in one transaction: all of them or, on the
/// first refusal, none (a roster import).
pub async fn add_all(db: &Db, posts: &[(String, NewPost)]) -> StoreResult<Vec<GridPost>> {
    let mut checked = Vec::with_capacity(posts.len());
    for (grid_id, new) in posts {
        let grid = grid_of(db, grid_id).await?;
        let c = check(db, &grid, new, None).await?;
        checked.push((grid, c, new));
    }
    let mut tx = db.pool.begin().await?;
    let mut out = Vec::with_capacity(posts.len());
    for (grid, c, new) in &checked {
        let id = insert(&mut tx, &db.vault, grid, c, new).await?;
        out.push(get_on(&mut tx, &db.vault, &id, Phones::Full).await?);
    }
    tx.commit().await?;
    Ok(out)
}

async fn insert(
    conn: &mut AnyConnection,
    vault: &Vault,
    grid: &areas::Area,
    c: &Checked,
    new: &NewPost,
) -> StoreResult<String> {
    let id = new_id();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO grid_posts (id, grid_id, post, person_name, phone_enc, phone_hash, duty_phone, \
         duty_phone_consent_at, duties, account_id, resident_id, starts_on, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(&id)
    .bind(&grid.id)
    .bind(c.post.code())
    .bind(&c.name)
    .bind(c.phone.as_ref().map(|p| vault.seal(p.as_str(), &aad(&id))))
    .bind(c.phone.as_ref().map(|p| vault.blind(PHONE, p.as_str())))
    .bind(&c.duty_phone)
    .bind((new.duty_phone_consent && c.duty_phone.is_some()).then_some(now))
    .bind(text::normalize(&new.duties))
    .bind(optional(new.account_id.as_deref()))
    .bind(optional(new.resident_id.as_deref()))
    .bind(c.starts_on.clone().unwrap_or_else(today))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    set_buildings(conn, &id, &c.buildings).await?;
    Ok(id)
}

/// Edits a post (who, phones, duties, buildings). An empty phone keeps the stored
/// one unless `clear_phone`; consent to the duty phone is recorded when first given
/// and withdrawn when not given.
pub async fn update(db: &Db, id: &str, new: &NewPost) -> StoreResult<GridPost> {
    let current = get(db, id, Phones::Hidden).await?;
    let grid = areas::get(db, &current.grid_id).await?;
    let c = check(db, &grid, new, Some(current.post)).await?;
    let now = now_millis();
    let consent = match (new.duty_phone_consent && c.duty_phone.is_some(), current.duty_phone_consent_at) {
        (false, _) => None,
        (true, Some(at)) if current.duty_phone == c.duty_phone => Some(at),
        (true, _) => Some(now),
    };
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "UPDATE grid_posts SET post = $1, person_name = $2, duty_phone = $3, duty_phone_consent_at = $4, \
         duties = $5, account_id = $6, resident_id = $7, starts_on = COALESCE($8, starts_on), updated_at = $9 \
         WHERE id = $10",
    )
    .bind(c.post.code())
    .bind(&c.name)
    .bind(&c.duty_phone)
    .bind(consent)
    .bind(text::normalize(&new.duties))
    .bind(optional(new.account_id.as_deref()))
    .bind(optional(new.resident_id.as_deref()))
    .bind(&c.starts_on)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if let Some(p) = &c.phone {
        sqlx::query("UPDATE grid_posts SET phone_enc = $1, phone_hash = $2, phone = NULL WHERE id = $3")
            .bind(db.vault.seal(p.as_str(), &aad(id)))
            .bind(db.vault.blind(PHONE, p.as_str()))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    } else if new.clear_phone {
        sqlx::query("UPDATE grid_posts SET phone_enc = NULL, phone_hash = NULL, phone = NULL WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    set_buildings(&mut tx, id, &c.buildings).await?;
    let post = get_on(&mut tx, &db.vault, id, Phones::Full).await?;
    tx.commit().await?;
    Ok(post)
}

/// Gives a post its holder's account (or takes it away): the account then sees the
/// items dispatched to the post in its 我的待办.
pub async fn link_account(db: &Db, post_id: &str, account_id: Option<&str>) -> StoreResult<()> {
    let done = sqlx::query("UPDATE grid_posts SET account_id = $1, updated_at = $2 WHERE id = $3")
        .bind(account_id)
        .bind(now_millis())
        .bind(post_id)
        .execute(&db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found(Thing::TeamPost, post_id));
    }
    Ok(())
}

/// Ends a post on `ends_on` (today when absent): the person leaves the team, the
/// post stays in its history.
pub async fn end(db: &Db, id: &str, ends_on: Option<&str>) -> StoreResult<GridPost> {
    let current = get(db, id, Phones::Hidden).await?;
    if let Some(end) = &current.ends_on
        && end.as_str() < today().as_str()
    {
        return Err(StoreError::Conflict(msg!("team.error.already_ended", date = end)));
    }
    let end = check_date(ends_on, "ends_on")?.unwrap_or_else(today);
    if current.starts_on.as_deref().is_some_and(|s| s > end.as_str()) {
        return Err(StoreError::Invalid(msg!("team.error.ends_before_start").field("ends_on")));
    }
    sqlx::query("UPDATE grid_posts SET ends_on = $1, updated_at = $2 WHERE id = $3")
        .bind(&end)
        .bind(now_millis())
        .bind(id)
        .execute(&db.pool)
        .await?;
    get(db, id, Phones::Full).await
}

/// Seals the private phones that an older version stored in plain text (the
/// `phone` column of migration 0001) and clears them. SQL cannot seal, so
/// [`Db::migrate`] runs this after the migrations; it finds nothing to do on every
/// later start. Returns how many phones it sealed.
pub async fn seal_plain_phones(db: &Db) -> StoreResult<usize> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, phone FROM grid_posts WHERE phone IS NOT NULL").fetch_all(&db.pool).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut tx = db.pool.begin().await?;
    for (id, phone) in &rows {
        // A number that does not parse is sealed as it was typed: it is still private.
        let value = Phone::parse(phone).map(|p| p.as_str().to_owned()).unwrap_or_else(|_| phone.trim().to_owned());
        sqlx::query(
            "UPDATE grid_posts SET phone_enc = COALESCE(phone_enc, $1), phone_hash = COALESCE(phone_hash, $2), \
             phone = NULL WHERE id = $3",
        )
        .bind(db.vault.seal(&value, &aad(id)))
        .bind(db.vault.blind(PHONE, &value))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Seals every team phone again under `new`, inside the key rotation's transaction.
pub(crate) async fn rekey(conn: &mut AnyConnection, old: &Vault, new: &Vault) -> StoreResult<usize> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, phone_enc FROM grid_posts WHERE phone_enc IS NOT NULL")
            .fetch_all(&mut *conn)
            .await?;
    for (id, sealed) in &rows {
        let phone = old.open(sealed, &aad(id))?;
        sqlx::query("UPDATE grid_posts SET phone_enc = $1, phone_hash = $2 WHERE id = $3")
            .bind(new.seal(&phone, &aad(id)))
            .bind(new.blind(PHONE, &phone))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(rows.len())
}

/// The sealed phone of a post the bulk loaders write (the demo, `generate`): the
/// only form in which the SQLite loader takes one ([`crate::bulk::seal_posts`]).
pub struct SealedPost {
    pub(crate) phone_enc: Option<String>,
    pub(crate) phone_hash: Option<String>,
}

impl SealedPost {
    pub(crate) fn new(vault: &Vault, post_id: &str, phone: Option<&str>) -> Self {
        Self {
            phone_enc: phone.map(|p| vault.seal(p, &aad(post_id))),
            phone_hash: phone.map(|p| vault.blind(PHONE, p)),
        }
    }
}
