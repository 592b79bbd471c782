//! Party building (党建引领, issue 22): the organisations' tree on the community
//! and its grids, the members (ID numbers and phones sealed, one member per ID
//! number per community), the units that register with the community, and the
//! registrations (双报到) of units and in-service members, one per period.
//! `service` keeps the needs list, claims, service records and points;
//! `feedback` computes each unit's report of a period and remembers which were
//! sent. The rules (states, periods, rates, points) are `wangge_domain::party`.
//!
//! Every row carries the path of its place (the grid's, else the community's), so
//! that what lies under an area is one range scan, and every change of a member
//! is written to `party_member_events`.

pub mod access;
pub mod cards;
pub mod feedback;
pub mod joint;
#[cfg(test)]
mod joint_tests;
pub mod life;
#[cfg(test)]
mod life_tests;
pub mod past;
pub mod projects;
pub mod service;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wangge_domain::party::{
    self as rules, MemberEventKind, MemberKind, MemberStatus, OrgKind, Period, PointRules, RegistrationState,
    RegistrationStep,
};
use wangge_domain::{AreaLevel, IdCardNumber, Message, Phone, Vocabulary, msg, new_id, now_millis, text};

use crate::registry::areas::{self, Area};
use crate::vault::Vault;
use crate::{Db, StoreError, StoreResult, Thing, subtree_bounds};

pub use feedback::{Feedback, feedback};

fn bad(m: Message) -> StoreError {
    StoreError::Invalid(m)
}

pub(crate) fn term<V: Vocabulary>(row: &AnyRow, column: &str) -> StoreResult<V> {
    let code: String = row.try_get(column)?;
    V::from_code(&code).ok_or_else(|| StoreError::Invalid(msg!("error.stored_value", what = V::NAME, value = &code)))
}

/// A term of a column that may be empty.
pub(crate) fn term_opt<V: Vocabulary>(row: &AnyRow, column: &str) -> StoreResult<Option<V>> {
    let code: Option<String> = row.try_get(column)?;
    code.map(|c| {
        V::from_code(&c).ok_or_else(|| StoreError::Invalid(msg!("error.stored_value", what = V::NAME, value = &c)))
    })
    .transpose()
}

/// A name or a short line as typed: normalised, not empty, at most `most` characters.
fn line(value: &str, field: &'static str, most: usize) -> StoreResult<String> {
    let v = text::normalize(value);
    if v.is_empty() {
        return Err(bad(msg!("party.error.required").field(field)));
    }
    if v.chars().count() > most {
        return Err(bad(msg!("party.error.too_long", most = most).field(field)));
    }
    Ok(v)
}

/// Free text: trimmed, at most `most` characters.
fn free(value: &str, field: &'static str, most: usize) -> StoreResult<String> {
    let v = value.trim().to_owned();
    if v.chars().count() > most {
        return Err(bad(msg!("party.error.too_long", most = most).field(field)));
    }
    Ok(v)
}

/// Photos as Party records take them (service, meetings): at most `most`, each an
/// image checked as the demands' attachments are; answers each with its type.
fn check_photos(photos: &[Vec<u8>], most: usize) -> StoreResult<Vec<(&'static str, &[u8])>> {
    if photos.len() > most {
        return Err(bad(msg!("party.error.photos", most = most).field("photos")));
    }
    photos
        .iter()
        .map(|p| match crate::demands::attachments::check(p)? {
            kind if kind.starts_with("image/") => Ok((kind, p.as_slice())),
            _ => Err(bad(msg!("party.error.not_photo").field("photos"))),
        })
        .collect()
}

/// Writes checked photos into `table` (`party_service_photos`, `party_meeting_photos`)
/// for the record `owner_id` in `owner_column`, inside the caller's transaction.
async fn store_photos(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    owner_column: &str,
    owner_id: &str,
    photos: &[(&'static str, &[u8])],
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO {table} (id, {owner_column}, content_type, size, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
    );
    for (kind, data) in photos {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(new_id())
            .bind(owner_id)
            .bind(*kind)
            .bind(data.len() as i64)
            .bind(*data)
            .bind(now_millis())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The community an area (the community or one of its grids) belongs to.
pub async fn community_of(db: &Db, area: &Area) -> StoreResult<Area> {
    match area.level {
        AreaLevel::Community => Ok(area.clone()),
        AreaLevel::Grid => areas::get(db, area.parent_id.as_deref().unwrap_or_default()).await,
        _ => Err(bad(msg!("party.error.not_community", area = &area.name).field("area_id"))),
    }
}

// ---- settings ----

/// A community's Party settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Settings {
    /// Months of a registration period: 6 (half-years, the default) or 12; 1 and 3 too.
    pub period_months: u8,
    /// Months between feedback reports to the units: 3 (quarters, the default).
    pub feedback_months: u8,
    /// The yearly service target of a member, in minutes (3000 = 50 h).
    pub yearly_minutes: i64,
    /// The threshold of a unit's rates, in percent (95).
    pub threshold_percent: i64,
    pub points: PointRules,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            period_months: 6,
            feedback_months: 3,
            yearly_minutes: rules::DEFAULT_YEARLY_MINUTES,
            threshold_percent: rules::DEFAULT_THRESHOLD,
            points: PointRules::default(),
        }
    }
}

/// The settings of the community `community_id` (the defaults where none are saved).
pub async fn settings(db: &Db, community_id: &str) -> StoreResult<Settings> {
    let mut out = Settings::default();
    let row = sqlx::query(
        "SELECT period_months, feedback_months, yearly_minutes, threshold_percent FROM party_settings
         WHERE community_id = $1",
    )
    .bind(community_id)
    .fetch_optional(&db.pool)
    .await?;
    if let Some(r) = row {
        out.period_months = u8::try_from(r.try_get::<i64, _>("period_months")?).unwrap_or(6);
        out.feedback_months = u8::try_from(r.try_get::<i64, _>("feedback_months")?).unwrap_or(3);
        out.yearly_minutes = r.try_get("yearly_minutes")?;
        out.threshold_percent = r.try_get("threshold_percent")?;
    }
    let rows = sqlx::query("SELECT rule, points FROM party_point_rules WHERE community_id = $1")
        .bind(community_id)
        .fetch_all(&db.pool)
        .await?;
    for r in rows {
        let points: i64 = r.try_get("points")?;
        match r.try_get::<String, _>("rule")?.as_str() {
            "per_hour" => out.points.per_hour = points,
            "per_activity" => out.points.per_activity = points,
            "per_need" => out.points.per_need = points,
            _ => {}
        }
    }
    Ok(out)
}

/// Saves a community's settings, checked: periods of 1, 3, 6 or 12 months, a
/// yearly target of 1 to 500 hours, a threshold of 1 to 100 %.
pub async fn save_settings(db: &Db, community_id: &str, s: &Settings) -> StoreResult<Settings> {
    for (months, field) in [(s.period_months, "period_months"), (s.feedback_months, "feedback_months")] {
        if !rules::PERIOD_MONTHS.contains(&months) {
            return Err(bad(msg!("party.error.period_months", value = months).field(field)));
        }
    }
    if !(60..=500 * 60).contains(&s.yearly_minutes) {
        return Err(bad(msg!("party.error.yearly_hours").field("yearly_hours")));
    }
    if !(1..=100).contains(&s.threshold_percent) {
        return Err(bad(msg!("party.error.threshold").field("threshold_percent")));
    }
    s.points.check().map_err(bad)?;
    let mut tx = db.pool.begin().await?;
    sqlx::query("DELETE FROM party_settings WHERE community_id = $1").bind(community_id).execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO party_settings (community_id, period_months, feedback_months, yearly_minutes, threshold_percent,
             updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(community_id)
    .bind(i64::from(s.period_months))
    .bind(i64::from(s.feedback_months))
    .bind(s.yearly_minutes)
    .bind(s.threshold_percent)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM party_point_rules WHERE community_id = $1").bind(community_id).execute(&mut *tx).await?;
    for (rule, points) in
        [("per_hour", s.points.per_hour), ("per_activity", s.points.per_activity), ("per_need", s.points.per_need)]
    {
        sqlx::query("INSERT INTO party_point_rules (community_id, rule, points) VALUES ($1, $2, $3)")
            .bind(community_id)
            .bind(rule)
            .bind(points)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    settings(db, community_id).await
}

// ---- organisations ----

/// A Party organisation.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Org {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub community_id: String,
    #[schema(format = Uuid)]
    pub parent_id: Option<String>,
    /// The area it is placed on: the community or one of its grids.
    #[schema(format = Uuid)]
    pub area_id: String,
    pub area_name: String,
    pub path: String,
    pub kind: OrgKind,
    pub name: String,
    pub secretary_name: Option<String>,
    /// The committee members, as typed (names separated by 、 or commas).
    pub committee: String,
    /// Its members on the roll (status active).
    pub members: i64,
}

/// An organisation to add.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewOrg {
    #[schema(format = Uuid)]
    pub parent_id: Option<String>,
    #[schema(format = Uuid)]
    pub area_id: String,
    pub kind: OrgKind,
    pub name: String,
    #[serde(default)]
    pub secretary_name: Option<String>,
    #[serde(default)]
    pub committee: String,
}

const ORG: &str = "SELECT o.id, o.community_id, o.parent_id, o.area_id, a.name AS area_name, o.path, o.kind, o.name,
        o.secretary_name, o.committee,
        (SELECT count(*) FROM party_members m WHERE m.org_id = o.id AND m.status = 'active') AS members
     FROM party_orgs o JOIN areas a ON a.id = o.area_id";

fn org_from(r: &AnyRow) -> StoreResult<Org> {
    Ok(Org {
        id: r.try_get("id")?,
        community_id: r.try_get("community_id")?,
        parent_id: r.try_get("parent_id")?,
        area_id: r.try_get("area_id")?,
        area_name: r.try_get("area_name")?,
        path: r.try_get("path")?,
        kind: term(r, "kind")?,
        name: r.try_get("name")?,
        secretary_name: r.try_get("secretary_name")?,
        committee: r.try_get("committee")?,
        members: r.try_get("members")?,
    })
}

/// One organisation.
pub async fn org(db: &Db, id: &str) -> StoreResult<Org> {
    let sql = format!("{ORG} WHERE o.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    org_from(&row.ok_or_else(|| StoreError::not_found(Thing::PartyOrg, id))?)
}

/// Adds an organisation on the community or one of its grids, under a parent of
/// the same community and of a higher level.
pub async fn add_org(db: &Db, new: NewOrg) -> StoreResult<Org> {
    let area = areas::get(db, &new.area_id).await?;
    let community = community_of(db, &area).await?;
    let name = line(&new.name, "name", 60)?;
    if let Some(parent_id) = &new.parent_id {
        let parent = org(db, parent_id).await?;
        if parent.community_id != community.id || !area.path.starts_with(&parent.path) {
            return Err(bad(msg!("party.error.parent_elsewhere", parent = &parent.name).field("parent_id")));
        }
        if !new.kind.fits_under(parent.kind) {
            return Err(bad(Message::new("party.error.parent_kind")
                .term("kind", new.kind)
                .term("parent", parent.kind)
                .field("kind")));
        }
    }
    let secretary = new.secretary_name.as_deref().map(text::normalize).filter(|s| !s.is_empty());
    let id = new_id();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO party_orgs (id, community_id, parent_id, area_id, path, kind, name, secretary_name, committee,
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(&community.id)
    .bind(&new.parent_id)
    .bind(&area.id)
    .bind(&area.path)
    .bind(new.kind.code())
    .bind(&name)
    .bind(&secretary)
    .bind(free(&new.committee, "committee", 500)?)
    .bind(now)
    .execute(&db.pool)
    .await
    .map_err(|e| StoreError::on_unique(e, || msg!("party.error.org_taken", name = &name).field("name")))?;
    org(db, &id).await
}

/// The organisations at or under `path`, as a tree: each after its parent,
/// siblings by name. Answers each with its depth (0 for a root).
pub async fn orgs_under(db: &Db, path: &str) -> StoreResult<Vec<(usize, Org)>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!("{ORG} WHERE o.path >= $1 AND o.path < $2 ORDER BY o.name, o.id");
    let all: Vec<Org> = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&lo)
        .bind(&hi)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(org_from)
        .collect::<StoreResult<_>>()?;
    // Organisations of a community seen from a grid: those whose parent is out of
    // sight are roots here.
    let ids: std::collections::HashSet<&str> = all.iter().map(|o| o.id.as_str()).collect();
    let mut out = Vec::with_capacity(all.len());
    fn walk(
        all: &[Org],
        parent: Option<&str>,
        depth: usize,
        roots: &dyn Fn(&Org) -> bool,
        out: &mut Vec<(usize, Org)>,
    ) {
        for o in all.iter().filter(|o| match parent {
            Some(p) => o.parent_id.as_deref() == Some(p),
            None => roots(o),
        }) {
            out.push((depth, o.clone()));
            walk(all, Some(&o.id), depth + 1, roots, out);
        }
    }
    let roots = |o: &Org| o.parent_id.as_deref().is_none_or(|p| !ids.contains(p));
    walk(&all, None, 0, &roots, &mut out);
    Ok(out)
}

// ---- members ----

const ID_CARD: &str = "party_members.id_card";
const PHONE: &str = "party_members.phone";

fn aad(column: &str, id: &str) -> String {
    format!("{column}:{id}")
}

/// A member as staff see them: ID number and phone masked.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Member {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub community_id: String,
    #[schema(format = Uuid)]
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    #[schema(format = Uuid)]
    pub unit_id: Option<String>,
    pub unit_name: Option<String>,
    /// The resident record, where the member lives in the community.
    #[schema(format = Uuid)]
    pub resident_id: Option<String>,
    /// The account they claim needs and record service with, if any.
    #[schema(format = Uuid)]
    pub account_id: Option<String>,
    /// Whether that account was opened for them from the Party pages (`access`):
    /// it is disabled when they stop being active, unless bound to a household.
    pub account_opened: bool,
    #[schema(format = Uuid)]
    pub grid_id: Option<String>,
    pub grid_name: Option<String>,
    pub path: String,
    pub kind: MemberKind,
    pub name: String,
    /// Their post (党小组长, 楼道长, a service post).
    pub post: String,
    /// Skills and the kinds of service they offer.
    pub skills: String,
    /// The day they joined the Party, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub joined_on: Option<String>,
    pub status: MemberStatus,
    /// Masked: `370602********1234`.
    pub id_card: String,
    /// Masked: `138****5678`.
    pub phone: Option<String>,
}

/// A member to add.
#[derive(Clone, Debug)]
pub struct NewMember {
    /// The community, or a grid of it (the grid they live in or serve).
    pub area_id: String,
    pub org_id: Option<String>,
    pub unit_id: Option<String>,
    pub kind: MemberKind,
    pub name: String,
    pub post: String,
    pub skills: String,
    pub joined_on: Option<time::Date>,
    pub id_card: IdCardNumber,
    pub phone: Option<Phone>,
    pub account_id: Option<String>,
}

const MEMBER: &str = "SELECT m.id, m.community_id, m.org_id, o.name AS org_name, m.unit_id, u.name AS unit_name,
        m.resident_id, m.account_id, m.account_opened, m.grid_id, g.name AS grid_name, m.path, m.kind, m.name, m.post, m.skills,
        m.joined_on, m.status, m.id_card_enc, m.phone_enc
     FROM party_members m LEFT JOIN party_orgs o ON o.id = m.org_id LEFT JOIN party_units u ON u.id = m.unit_id
        LEFT JOIN areas g ON g.id = m.grid_id";

fn member_from(r: &AnyRow, vault: &Vault) -> StoreResult<Member> {
    let id: String = r.try_get("id")?;
    let id_enc: String = r.try_get("id_card_enc")?;
    let id_card = vault.open(&id_enc, &aad(ID_CARD, &id))?;
    let phone_enc: Option<String> = r.try_get("phone_enc")?;
    let phone = phone_enc.map(|p| vault.open(&p, &aad(PHONE, &id))).transpose()?;
    Ok(Member {
        community_id: r.try_get("community_id")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        unit_id: r.try_get("unit_id")?,
        unit_name: r.try_get("unit_name")?,
        resident_id: r.try_get("resident_id")?,
        account_id: r.try_get("account_id")?,
        account_opened: r.try_get::<i16, _>("account_opened")? != 0,
        grid_id: r.try_get("grid_id")?,
        grid_name: r.try_get("grid_name")?,
        path: r.try_get("path")?,
        kind: term(r, "kind")?,
        name: r.try_get("name")?,
        post: r.try_get("post")?,
        skills: r.try_get("skills")?,
        joined_on: r.try_get("joined_on")?,
        status: term(r, "status")?,
        id_card: IdCardNumber::parse(&id_card).map_or_else(|_| "*".repeat(id_card.len()), |i| i.masked()),
        phone: phone.map(|p| Phone::parse(&p).map_or_else(|_| "*".repeat(p.len()), |p| p.masked())),
        id,
    })
}

/// One member, masked.
pub async fn member(db: &Db, id: &str) -> StoreResult<Member> {
    let sql = format!("{MEMBER} WHERE m.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    member_from(&row.ok_or_else(|| StoreError::not_found(Thing::PartyMember, id))?, &db.vault)
}

/// The member of the community with this ID number, if one.
pub async fn member_by_id_card(db: &Db, community_id: &str, id_card: &IdCardNumber) -> StoreResult<Option<Member>> {
    let sql = format!("{MEMBER} WHERE m.community_id = $1 AND m.id_card_hash = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(community_id)
        .bind(db.vault.blind(ID_CARD, id_card.as_str()))
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| member_from(&r, &db.vault)).transpose()
}

/// The members whose account is `account_id` (one per community at most).
pub async fn members_of_account(db: &Db, account_id: &str) -> StoreResult<Vec<Member>> {
    let sql = format!("{MEMBER} WHERE m.account_id = $1 ORDER BY m.created_at");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account_id).fetch_all(&db.pool).await?;
    rows.iter().map(|r| member_from(r, &db.vault)).collect()
}

/// What to list.
#[derive(Clone, Debug, Default)]
pub struct MemberFilter {
    pub kind: Option<MemberKind>,
    pub status: Option<MemberStatus>,
    pub unit_id: Option<String>,
    pub org_id: Option<String>,
}

/// The members at or under `path`, by name.
pub async fn members_under(db: &Db, path: &str, f: &MemberFilter) -> StoreResult<Vec<Member>> {
    let (lo, hi) = subtree_bounds(path);
    let mut sql = format!("{MEMBER} WHERE m.path >= $1 AND m.path < $2");
    let mut binds: Vec<String> = vec![lo, hi];
    let mut add = |column: &str, value: String, binds: &mut Vec<String>| {
        binds.push(value);
        sql.push_str(&format!(" AND m.{column} = ${}", binds.len()));
    };
    if let Some(k) = f.kind {
        add("kind", k.code().into(), &mut binds);
    }
    if let Some(s) = f.status {
        add("status", s.code().into(), &mut binds);
    }
    if let Some(u) = &f.unit_id {
        add("unit_id", u.clone(), &mut binds);
    }
    if let Some(o) = &f.org_id {
        add("org_id", o.clone(), &mut binds);
    }
    sql.push_str(" ORDER BY m.name, m.id");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(&db.pool).await?;
    rows.iter().map(|r| member_from(r, &db.vault)).collect()
}

/// Where a member goes: the grid (of the community) or the community itself.
async fn placed(db: &Db, area_id: &str) -> StoreResult<(Area, Option<Area>)> {
    let area = areas::get(db, area_id).await?;
    let community = community_of(db, &area).await?;
    let grid = (area.level == AreaLevel::Grid).then_some(area);
    Ok((community, grid))
}

async fn event(
    conn: &mut sqlx::AnyConnection,
    member_id: &str,
    kind: MemberEventKind,
    detail: &str,
    by: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO party_member_events (id, member_id, kind, detail, by_name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(member_id)
    .bind(kind.code())
    .bind(detail)
    .bind(by)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds a member. The ID number and phone are sealed here; a second member with
/// the same ID number in the community is refused, naming the one on the roll.
/// A resident of the community with that number is linked.
pub async fn add_member(db: &Db, new: NewMember, by: &str) -> StoreResult<Member> {
    let (community, grid) = placed(db, &new.area_id).await?;
    let name = line(&new.name, "name", 40)?;
    if let Some(existing) = member_by_id_card(db, &community.id, &new.id_card).await? {
        return Err(StoreError::Conflict(
            msg!("party.error.member_twice", name = &existing.name, community = &community.name).field("id_card"),
        ));
    }
    if let Some(o) = &new.org_id {
        let o = org(db, o).await?;
        if o.community_id != community.id {
            return Err(bad(msg!("party.error.org_elsewhere", org = &o.name).field("org_id")));
        }
    }
    if let Some(u) = &new.unit_id {
        let u = unit(db, u).await?;
        if u.community_id != community.id {
            return Err(bad(msg!("party.error.unit_elsewhere", unit = &u.name).field("unit_id")));
        }
    }
    let resident = crate::registry::residents::find_active_by_id_card(db, &new.id_card)
        .await?
        .filter(|r| r.path.starts_with(&community.path));
    let path = grid.as_ref().map_or(&community.path, |g| &g.path).clone();
    let id = new_id();
    let now = now_millis();
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO party_members (id, community_id, org_id, unit_id, resident_id, account_id, grid_id, path, kind,
             name, post, skills, joined_on, status, id_card_enc, id_card_hash, phone_enc, phone_hash, created_at,
             updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'active', $14, $15, $16, $17, $18, $18)",
    )
    .bind(&id)
    .bind(&community.id)
    .bind(&new.org_id)
    .bind(&new.unit_id)
    .bind(resident.map(|r| r.id))
    .bind(&new.account_id)
    .bind(grid.as_ref().map(|g| g.id.clone()))
    .bind(&path)
    .bind(new.kind.code())
    .bind(&name)
    .bind(free(&new.post, "post", 60)?)
    .bind(free(&new.skills, "skills", 300)?)
    .bind(new.joined_on.map(wangge_domain::format_date))
    .bind(db.vault.seal(new.id_card.as_str(), &aad(ID_CARD, &id)))
    .bind(db.vault.blind(ID_CARD, new.id_card.as_str()))
    .bind(new.phone.as_ref().map(|p| db.vault.seal(p.as_str(), &aad(PHONE, &id))))
    .bind(new.phone.as_ref().map(|p| db.vault.blind(PHONE, p.as_str())))
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        StoreError::on_unique(e, || {
            msg!("party.error.member_twice", name = &name, community = &community.name).field("id_card")
        })
    })?;
    event(&mut tx, &id, MemberEventKind::Added, new.kind.label_zh(), by).await?;
    tx.commit().await?;
    member(db, &id).await
}

/// What staff change on a member.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct MemberChange {
    /// The community or a grid of it.
    #[schema(format = Uuid)]
    pub area_id: Option<String>,
    #[schema(format = Uuid)]
    pub org_id: Option<String>,
    pub post: Option<String>,
    pub skills: Option<String>,
    pub status: Option<MemberStatus>,
}

/// Changes a member (their grid, organisation, post, skills, status), with a line
/// of history for each change.
pub async fn change_member(db: &Db, id: &str, c: MemberChange, by: &str) -> StoreResult<Member> {
    let m = member(db, id).await?;
    let mut tx = db.pool.begin().await?;
    let now = now_millis();
    if let Some(area_id) = c.area_id.as_deref().filter(|a| !a.is_empty()) {
        let (community, grid) = placed(db, area_id).await?;
        if community.id != m.community_id {
            return Err(bad(msg!("party.error.other_community").field("area_id")));
        }
        let path = grid.as_ref().map_or(&community.path, |g| &g.path).clone();
        sqlx::query("UPDATE party_members SET grid_id = $1, path = $2, updated_at = $3 WHERE id = $4")
            .bind(grid.as_ref().map(|g| g.id.clone()))
            .bind(&path)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // The account opened for the member is scoped where the member is.
        if let (true, Some(account)) = (m.account_opened, &m.account_id) {
            let area = grid.as_ref().map_or(&community.id, |g| &g.id).clone();
            sqlx::query("DELETE FROM account_scopes WHERE account_id = $1").bind(account).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO account_scopes (account_id, area_id) VALUES ($1, $2)")
                .bind(account)
                .bind(&area)
                .execute(&mut *tx)
                .await?;
        }
        let name = grid.map_or(community.name, |g| g.name);
        event(&mut tx, id, MemberEventKind::Changed, &format!("网格: {name}"), by).await?;
    }
    if let Some(org_id) = c.org_id.as_deref().filter(|a| !a.is_empty()) {
        let o = org(db, org_id).await?;
        if o.community_id != m.community_id {
            return Err(bad(msg!("party.error.org_elsewhere", org = &o.name).field("org_id")));
        }
        sqlx::query("UPDATE party_members SET org_id = $1, updated_at = $2 WHERE id = $3")
            .bind(&o.id)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        event(&mut tx, id, MemberEventKind::Changed, &format!("党组织: {}", o.name), by).await?;
    }
    for (value, column, field, most) in [(&c.post, "post", "post", 60), (&c.skills, "skills", "skills", 300)] {
        if let Some(v) = value {
            let v = free(v, field, most)?;
            let sql = format!("UPDATE party_members SET {column} = $1, updated_at = $2 WHERE id = $3");
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&v).bind(now).bind(id).execute(&mut *tx).await?;
            event(&mut tx, id, MemberEventKind::Changed, &format!("{column}: {v}"), by).await?;
        }
    }
    if let Some(status) = c.status.filter(|s| *s != m.status) {
        sqlx::query("UPDATE party_members SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.code())
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        event(&mut tx, id, MemberEventKind::Status, status.label_zh(), by).await?;
    }
    // A member who stops being active loses the account opened for them (one
    // bound to a household is a resident's own and stays).
    let mut disabled = None;
    if let (Some(status), true, Some(account)) = (c.status, m.account_opened, &m.account_id)
        && m.status == MemberStatus::Active
        && status != MemberStatus::Active
    {
        let done = sqlx::query(
            "UPDATE accounts SET disabled = 1, updated_at = $1 WHERE id = $2 AND household_id IS NULL AND disabled = 0",
        )
        .bind(now)
        .bind(account)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() > 0 {
            event(&mut tx, id, MemberEventKind::Changed, "账号: 已停用", by).await?;
            disabled = Some(account.clone());
        }
    }
    tx.commit().await?;
    if let Some(account) = disabled {
        crate::security::sessions::revoke_all(db, &account).await?;
    }
    member(db, id).await
}

/// Links a member to the account they sign in with (at most one member per
/// account and community).
pub async fn set_account(db: &Db, member_id: &str, account_id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE party_members SET account_id = $1, updated_at = $2 WHERE id = $3")
        .bind(account_id)
        .bind(now_millis())
        .bind(member_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// A member's ID number or phone in full (the caller audits the reveal).
pub async fn reveal(db: &Db, id: &str, phone: bool) -> StoreResult<Option<String>> {
    let row = sqlx::query("SELECT id_card_enc, phone_enc FROM party_members WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Thing::PartyMember, id))?;
    if phone {
        let sealed: Option<String> = row.try_get("phone_enc")?;
        Ok(sealed.map(|s| db.vault.open(&s, &aad(PHONE, id))).transpose()?)
    } else {
        let sealed: String = row.try_get("id_card_enc")?;
        Ok(Some(db.vault.open(&sealed, &aad(ID_CARD, id))?))
    }
}

/// The phone of a member, for the feedback to reach them (never shown).
async fn phone_of_unit(db: &Db, unit_id: &str) -> StoreResult<Option<String>> {
    let sealed: Option<String> = sqlx::query_scalar("SELECT phone_enc FROM party_units WHERE id = $1")
        .bind(unit_id)
        .fetch_optional(&db.pool)
        .await?
        .flatten();
    Ok(sealed.map(|s| db.vault.open(&s, &aad(UNIT_PHONE, unit_id))).transpose()?)
}

/// A line of a member's history.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MemberEvent {
    pub kind: MemberEventKind,
    pub detail: String,
    pub by_name: String,
    pub created_at: i64,
}

/// A member's history, oldest first.
pub async fn history(db: &Db, member_id: &str) -> StoreResult<Vec<MemberEvent>> {
    let rows = sqlx::query(
        "SELECT kind, detail, by_name, created_at FROM party_member_events WHERE member_id = $1
         ORDER BY created_at, id",
    )
    .bind(member_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MemberEvent {
                kind: term(r, "kind")?,
                detail: r.try_get("detail")?,
                by_name: r.try_get("by_name")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

// ---- units ----

const UNIT_PHONE: &str = "party_units.phone";

/// A unit registered with a community.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Unit {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub community_id: String,
    pub path: String,
    /// The registry's organisation of the same name in the community, if one.
    #[schema(format = Uuid)]
    pub organisation_id: Option<String>,
    pub name: String,
    /// Its Party organisation (机关党支部 …).
    pub party_org_name: String,
    pub contact_name: String,
    /// Masked.
    pub phone: Option<String>,
    /// What it offers the community (venues, skills, funds).
    pub resources: String,
    /// How many members it declares.
    pub declared_members: i64,
    /// Its members on the community's roll.
    pub members: i64,
}

/// A unit to register.
#[derive(Clone, Debug)]
pub struct NewUnit {
    pub community_id: String,
    pub name: String,
    pub party_org_name: String,
    pub contact_name: String,
    pub phone: Option<Phone>,
    pub resources: String,
    pub declared_members: i64,
}

const UNIT: &str = "SELECT u.id, u.community_id, u.path, u.organisation_id, u.name, u.party_org_name, u.contact_name,
        u.phone_enc, u.resources, u.declared_members,
        (SELECT count(*) FROM party_members m WHERE m.unit_id = u.id AND m.status = 'active') AS members
     FROM party_units u";

fn unit_from(r: &AnyRow, vault: &Vault) -> StoreResult<Unit> {
    let id: String = r.try_get("id")?;
    let phone: Option<String> = r.try_get("phone_enc")?;
    let phone = phone.map(|p| vault.open(&p, &aad(UNIT_PHONE, &id))).transpose()?;
    Ok(Unit {
        community_id: r.try_get("community_id")?,
        path: r.try_get("path")?,
        organisation_id: r.try_get("organisation_id")?,
        name: r.try_get("name")?,
        party_org_name: r.try_get("party_org_name")?,
        contact_name: r.try_get("contact_name")?,
        phone: phone.map(|p| Phone::parse(&p).map_or_else(|_| "*".repeat(p.len()), |p| p.masked())),
        resources: r.try_get("resources")?,
        declared_members: r.try_get("declared_members")?,
        members: r.try_get("members")?,
        id,
    })
}

/// One unit.
pub async fn unit(db: &Db, id: &str) -> StoreResult<Unit> {
    let sql = format!("{UNIT} WHERE u.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    unit_from(&row.ok_or_else(|| StoreError::not_found(Thing::PartyUnit, id))?, &db.vault)
}

/// The unit of the community with this name, if one.
pub async fn unit_named(db: &Db, community_id: &str, name: &str) -> StoreResult<Option<Unit>> {
    let sql = format!("{UNIT} WHERE u.community_id = $1 AND u.name = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(community_id)
        .bind(text::normalize(name))
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| unit_from(&r, &db.vault)).transpose()
}

/// The units at or under `path` (a unit's path is its community's), by name.
pub async fn units_under(db: &Db, path: &str) -> StoreResult<Vec<Unit>> {
    let (lo, hi) = subtree_bounds(path);
    // A grid's viewer sees its community's units: they serve the whole community.
    let sql = format!("{UNIT} WHERE (u.path >= $1 AND u.path < $2) OR $3 LIKE u.path || '%' ORDER BY u.name, u.id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&lo).bind(&hi).bind(path).fetch_all(&db.pool).await?;
    rows.iter().map(|r| unit_from(r, &db.vault)).collect()
}

/// Registers a unit with a community (its contact's phone sealed); linked to the
/// registry's organisation of the same name in the community when there is one.
/// A second unit of the same name in the community is refused.
pub async fn add_unit(db: &Db, new: NewUnit) -> StoreResult<Unit> {
    let community = areas::get(db, &new.community_id).await?;
    let community = community_of(db, &community).await?;
    let name = line(&new.name, "name", 80)?;
    let party_org_name = line(&new.party_org_name, "party_org_name", 80)?;
    let contact_name = line(&new.contact_name, "contact_name", 40)?;
    if !(1..=100_000).contains(&new.declared_members) {
        return Err(bad(msg!("party.error.declared").field("declared_members")));
    }
    let organisation_id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM organisations WHERE name = $1 AND path >= $2 AND path < $3 ORDER BY id LIMIT 1",
    )
    .bind(&name)
    .bind(subtree_bounds(&community.path).0)
    .bind(subtree_bounds(&community.path).1)
    .fetch_optional(&db.pool)
    .await?;
    let id = new_id();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO party_units (id, community_id, path, organisation_id, name, party_org_name, contact_name,
             phone_enc, phone_hash, resources, declared_members, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(&id)
    .bind(&community.id)
    .bind(&community.path)
    .bind(&organisation_id)
    .bind(&name)
    .bind(&party_org_name)
    .bind(&contact_name)
    .bind(new.phone.as_ref().map(|p| db.vault.seal(p.as_str(), &aad(UNIT_PHONE, &id))))
    .bind(new.phone.as_ref().map(|p| db.vault.blind(UNIT_PHONE, p.as_str())))
    .bind(free(&new.resources, "resources", 500)?)
    .bind(new.declared_members)
    .bind(now)
    .execute(&db.pool)
    .await
    .map_err(|e| StoreError::on_unique(e, || msg!("party.error.unit_taken", name = &name).field("name")))?;
    unit(db, &id).await
}

/// The unit's contact phone in full, for the feedback's delivery (never shown).
pub async fn unit_phone(db: &Db, unit_id: &str) -> StoreResult<Option<String>> {
    phone_of_unit(db, unit_id).await
}

// ---- registrations ----

/// A registration (报到) of a member or a unit for one period.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Registration {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub community_id: String,
    pub community_name: String,
    pub path: String,
    #[schema(format = Uuid)]
    pub member_id: Option<String>,
    #[schema(format = Uuid)]
    pub unit_id: Option<String>,
    /// The member's or the unit's name.
    pub name: String,
    /// For a member: their unit's name.
    pub unit_name: Option<String>,
    /// `2026H1`, `2026`.
    pub period: String,
    pub state: RegistrationState,
    /// `form` (the public form) or `staff` (entered at the counter).
    pub source: String,
    /// Why it was refused.
    pub reason: Option<String>,
    pub requested_at: i64,
    pub decided_at: Option<i64>,
    pub decided_by_name: Option<String>,
}

/// Who registers.
#[derive(Clone, Debug)]
pub enum Registrant {
    Member(String),
    Unit(String),
}

const REGISTRATION: &str = "SELECT r.id, r.community_id, c.name AS community_name, r.path, r.member_id, r.unit_id,
        COALESCE(m.name, u.name) AS name, mu.name AS unit_name, r.period, r.state, r.source, r.reason,
        r.requested_at, r.decided_at, r.decided_by_name
     FROM party_registrations r JOIN areas c ON c.id = r.community_id
        LEFT JOIN party_members m ON m.id = r.member_id LEFT JOIN party_units u ON u.id = r.unit_id
        LEFT JOIN party_units mu ON mu.id = m.unit_id";

fn registration_from(r: &AnyRow) -> StoreResult<Registration> {
    Ok(Registration {
        id: r.try_get("id")?,
        community_id: r.try_get("community_id")?,
        community_name: r.try_get("community_name")?,
        path: r.try_get("path")?,
        member_id: r.try_get("member_id")?,
        unit_id: r.try_get("unit_id")?,
        name: r.try_get("name")?,
        unit_name: r.try_get("unit_name")?,
        period: r.try_get("period")?,
        state: term(r, "state")?,
        source: r.try_get("source")?,
        reason: r.try_get("reason")?,
        requested_at: r.try_get("requested_at")?,
        decided_at: r.try_get("decided_at")?,
        decided_by_name: r.try_get("decided_by_name")?,
    })
}

/// One registration.
pub async fn registration(db: &Db, id: &str) -> StoreResult<Registration> {
    let sql = format!("{REGISTRATION} WHERE r.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    registration_from(&row.ok_or_else(|| StoreError::not_found(Thing::PartyRegistration, id))?)
}

/// The registration period of the community holding `millis` (Unix ms).
pub async fn period_at(db: &Db, community_id: &str, millis: i64) -> StoreResult<Period> {
    Ok(Period::at(millis, settings(db, community_id).await?.period_months))
}

/// Registers a member or a unit for `period`. A member who withdrew (or left) is
/// refused; a second registration of the same member or unit in the same period
/// is refused, naming the first — unless the first was refused, which is then
/// sent again.
pub async fn register(db: &Db, who: &Registrant, period: Period, source: &str, by: &str) -> StoreResult<Registration> {
    let (community_id, path, name, member_id, unit_id) = match who {
        Registrant::Member(id) => {
            let m = member(db, id).await?;
            if m.status != MemberStatus::Active {
                return Err(StoreError::Conflict(
                    Message::new("party.error.not_active").arg("name", &m.name).term("status", m.status),
                ));
            }
            (m.community_id, m.path, m.name, Some(m.id), None)
        }
        Registrant::Unit(id) => {
            let u = unit(db, id).await?;
            (u.community_id, u.path, u.name, None, Some(u.id))
        }
    };
    let label = period.label();
    let column = if member_id.is_some() { "member_id" } else { "unit_id" };
    let key = member_id.clone().or(unit_id.clone()).unwrap_or_default();
    let sql = format!("SELECT id, state FROM party_registrations WHERE {column} = $1 AND period = $2");
    let existing = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&key).bind(&label).fetch_optional(&db.pool).await?;
    let now = now_millis();
    if let Some(row) = existing {
        let id: String = row.try_get("id")?;
        let state: RegistrationState = term(&row, "state")?;
        if state != RegistrationState::Refused {
            return Err(StoreError::Conflict(
                Message::new("party.error.registered_twice")
                    .arg("name", &name)
                    .arg("period", &label)
                    .term("state", state),
            ));
        }
        let to = rules::next(state, RegistrationStep::Resubmit).map_err(|e| StoreError::Conflict(e.message()))?;
        sqlx::query(
            "UPDATE party_registrations SET state = $1, source = $2, reason = NULL, requested_at = $3,
                decided_at = NULL, decided_by_name = NULL WHERE id = $4 AND state = $5",
        )
        .bind(to.code())
        .bind(source)
        .bind(now)
        .bind(&id)
        .bind(state.code())
        .execute(&db.pool)
        .await?;
        return registration(db, &id).await;
    }
    let id = new_id();
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO party_registrations (id, community_id, path, member_id, unit_id, period, state, source,
             requested_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)",
    )
    .bind(&id)
    .bind(&community_id)
    .bind(&path)
    .bind(&member_id)
    .bind(&unit_id)
    .bind(&label)
    .bind(source)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        StoreError::on_unique(e, || {
            Message::new("party.error.registered_twice")
                .arg("name", &name)
                .arg("period", &label)
                .term("state", RegistrationState::Pending)
        })
    })?;
    if let Some(m) = &member_id {
        event(&mut tx, m, MemberEventKind::Registered, &label, by).await?;
    }
    tx.commit().await?;
    registration(db, &id).await
}

/// Takes a step on a registration: one guarded update, so two people deciding at
/// once cannot both win. A refusal needs its reason.
pub async fn step(
    db: &Db,
    id: &str,
    step: RegistrationStep,
    reason: Option<&str>,
    by: &str,
) -> StoreResult<Registration> {
    let r = registration(db, id).await?;
    let to = rules::next(r.state, step).map_err(|e| StoreError::Conflict(e.message()))?;
    let reason = reason.map(str::trim).filter(|s| !s.is_empty());
    if step == RegistrationStep::Refuse && reason.is_none() {
        return Err(bad(msg!("party.error.reason").field("reason")));
    }
    let changed = sqlx::query(
        "UPDATE party_registrations SET state = $1, reason = $2, decided_at = $3, decided_by_name = $4
         WHERE id = $5 AND state = $6",
    )
    .bind(to.code())
    .bind(reason)
    .bind(now_millis())
    .bind(by)
    .bind(id)
    .bind(r.state.code())
    .execute(&db.pool)
    .await?;
    if changed.rows_affected() != 1 {
        return Err(StoreError::Conflict(msg!("party.error.changed")));
    }
    registration(db, id).await
}

/// What to list.
#[derive(Clone, Debug, Default)]
pub struct RegistrationFilter {
    pub period: Option<String>,
    pub state: Option<RegistrationState>,
    pub unit_id: Option<String>,
}

/// The registrations at or under `path`, newest first (at most 1000).
pub async fn registrations_under(db: &Db, path: &str, f: &RegistrationFilter) -> StoreResult<Vec<Registration>> {
    let (lo, hi) = subtree_bounds(path);
    // A grid's viewer sees the units of its community too (their path is the community's).
    let mut sql = format!(
        "{REGISTRATION} WHERE ((r.path >= $1 AND r.path < $2) OR (r.unit_id IS NOT NULL AND $3 LIKE r.path || '%'))"
    );
    let mut binds: Vec<String> = vec![lo, hi, path.to_owned()];
    if let Some(p) = &f.period {
        binds.push(p.clone());
        sql.push_str(&format!(" AND r.period = ${}", binds.len()));
    }
    if let Some(s) = f.state {
        binds.push(s.code().into());
        sql.push_str(&format!(" AND r.state = ${}", binds.len()));
    }
    if let Some(u) = &f.unit_id {
        binds.push(u.clone());
        sql.push_str(&format!(" AND (r.unit_id = ${n} OR m.unit_id = ${n})", n = binds.len()));
    }
    sql.push_str(" ORDER BY r.requested_at DESC, r.id LIMIT 1000");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        q = q.bind(b);
    }
    q.fetch_all(&db.pool).await?.iter().map(registration_from).collect()
}

/// What the public form (or the counter) gives for an in-service member.
#[derive(Clone, Debug)]
pub struct MemberForm {
    /// The grid they live in (or the community).
    pub area_id: String,
    pub name: String,
    pub id_card: IdCardNumber,
    pub phone: Option<Phone>,
    /// Their unit, registered with the community.
    pub unit_id: Option<String>,
    pub skills: String,
}

/// An in-service member registering for the period of `now`: deduplicated by ID
/// number (a member already on the community's roll registers as themself; their
/// unit, grid and skills are updated), added otherwise; then registered (refused
/// when withdrawn, or twice in a period).
pub async fn register_member(
    db: &Db,
    form: MemberForm,
    now: i64,
    source: &str,
    by: &str,
) -> StoreResult<(Member, Registration)> {
    let (community, _) = placed(db, &form.area_id).await?;
    if let Some(u) = &form.unit_id {
        let u = unit(db, u).await?;
        if u.community_id != community.id {
            return Err(bad(msg!("party.error.unit_elsewhere", unit = &u.name).field("unit_id")));
        }
    }
    let member = match member_by_id_card(db, &community.id, &form.id_card).await? {
        Some(m) => {
            if m.status == MemberStatus::Active {
                let change = MemberChange {
                    area_id: Some(form.area_id.clone()),
                    skills: Some(form.skills.clone()).filter(|s| !s.trim().is_empty()),
                    ..Default::default()
                };
                if let Some(u) = &form.unit_id {
                    sqlx::query("UPDATE party_members SET unit_id = $1 WHERE id = $2")
                        .bind(u)
                        .bind(&m.id)
                        .execute(&db.pool)
                        .await?;
                }
                change_member(db, &m.id, change, by).await?
            } else {
                m
            }
        }
        None => {
            let new = NewMember {
                area_id: form.area_id.clone(),
                org_id: None,
                unit_id: form.unit_id.clone(),
                kind: MemberKind::InService,
                name: form.name.clone(),
                post: String::new(),
                skills: form.skills.clone(),
                joined_on: None,
                id_card: form.id_card.clone(),
                phone: form.phone.clone(),
                account_id: None,
            };
            add_member(db, new, by).await?
        }
    };
    let period = period_at(db, &community.id, now).await?;
    let r = register(db, &Registrant::Member(member.id.clone()), period, source, by).await?;
    Ok((member, r))
}

/// A unit registering for the period of `now`: the community's unit of that name
/// if there is one (deduplicated by name), added otherwise.
pub async fn register_unit(
    db: &Db,
    new: NewUnit,
    now: i64,
    source: &str,
    by: &str,
) -> StoreResult<(Unit, Registration)> {
    let u = match unit_named(db, &new.community_id, &new.name).await? {
        Some(u) => u,
        None => add_unit(db, new).await?,
    };
    let period = period_at(db, &u.community_id, now).await?;
    let r = register(db, &Registrant::Unit(u.id.clone()), period, source, by).await?;
    Ok((u, r))
}

/// Seals every Party ID number and phone again under `new`, inside the key
/// rotation's transaction.
pub(crate) async fn rekey(conn: &mut sqlx::AnyConnection, old: &Vault, new: &Vault) -> StoreResult<usize> {
    let rows: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT id, id_card_enc, phone_enc FROM party_members").fetch_all(&mut *conn).await?;
    for (id, id_enc, phone_enc) in &rows {
        let id_card = old.open(id_enc, &aad(ID_CARD, id))?;
        let phone = phone_enc.as_ref().map(|p| old.open(p, &aad(PHONE, id))).transpose()?;
        sqlx::query(
            "UPDATE party_members SET id_card_enc = $1, id_card_hash = $2, phone_enc = $3, phone_hash = $4 WHERE id = $5",
        )
        .bind(new.seal(&id_card, &aad(ID_CARD, id)))
        .bind(new.blind(ID_CARD, &id_card))
        .bind(phone.as_ref().map(|p| new.seal(p, &aad(PHONE, id))))
        .bind(phone.as_ref().map(|p| new.blind(PHONE, p)))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    let units: Vec<(String, String)> =
        sqlx::query_as("SELECT id, phone_enc FROM party_units WHERE phone_enc IS NOT NULL")
            .fetch_all(&mut *conn)
            .await?;
    for (id, sealed) in &units {
        let phone = old.open(sealed, &aad(UNIT_PHONE, id))?;
        sqlx::query("UPDATE party_units SET phone_enc = $1, phone_hash = $2 WHERE id = $3")
            .bind(new.seal(&phone, &aad(UNIT_PHONE, id)))
            .bind(new.blind(UNIT_PHONE, &phone))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(rows.len() + units.len())
}
