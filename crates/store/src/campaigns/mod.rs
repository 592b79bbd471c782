//! Door-to-door campaigns (排查, issue 20): a short form asked at every household
//! or person in scope, drawn from the registry when the campaign starts; each
//! target's state and its answers, pinned to the form's version; progress per grid
//! as DHIS2 reports it (expected, done, on time) plus those not reachable.
//!
//! The form and its rules are `wangge_domain::campaigns` (a submission is judged by
//! `Form::check` only); this module keeps campaigns, their form versions and their
//! targets, and answers the per-grid questions in one grouped scan of
//! `campaign_targets(campaign_id, path, status, settled_at)`.
//!
//! Answers written back to the registry, with a conflict instead of an overwrite,
//! are [`write_back`]; the retention purge of health answers is [`retention`];
//! photos taken at the door are [`photos`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use time::Date;
use utoipa::ToSchema;
use wangge_domain::campaigns::{Form, TargetKind, TargetStatus};
use wangge_domain::demands::CHINA;
use wangge_domain::{AreaLevel, Message, ResidenceType, Vocabulary, msg, new_id, now_millis};

use crate::{Db, StoreError, StoreResult, Thing, subtree_bounds};

pub mod photos;
pub mod retention;
pub mod templates;
#[cfg(test)]
mod tests;
pub mod write_back;

/// Which households or people of the scope a campaign asks. Empty lists mean
/// "no condition".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TargetFilter {
    /// Grids (area ids) within the scope.
    #[serde(default)]
    pub grids: Vec<String>,
    /// Buildings (ids) within the scope.
    #[serde(default)]
    pub buildings: Vec<String>,
    /// Care tags (codes): a person with one of them (a household with such a person).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Residence types: a person of one of them (a household with such a person).
    #[serde(default)]
    pub residence_types: Vec<ResidenceType>,
    /// Age in whole years on the opening day, inclusive.
    #[serde(default)]
    pub min_age: Option<u8>,
    #[serde(default)]
    pub max_age: Option<u8>,
}

/// A campaign to start.
#[derive(Clone, Debug)]
pub struct NewCampaign {
    /// The scope: a community, or a street or district over its communities.
    pub area_id: String,
    pub title: String,
    pub target_kind: TargetKind,
    pub filter: TargetFilter,
    /// `YYYY-MM-DD`.
    pub opens_on: String,
    pub closes_on: String,
    /// Answers are health data: purged this many days after closing.
    pub retention_days: Option<u16>,
    pub form: Form,
}

/// A campaign as kept.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Campaign {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub area_id: String,
    pub path: String,
    pub title: String,
    pub target_kind: TargetKind,
    pub filter: TargetFilter,
    #[schema(format = Date)]
    pub opens_on: String,
    #[schema(format = Date)]
    pub closes_on: String,
    pub retention_days: Option<u16>,
    /// The form's current version (1 at the start).
    pub form_version: i64,
    pub created_by_name: String,
    pub created_at: i64,
}

/// One target and where it stands.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Target {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub campaign_id: String,
    pub path: String,
    #[schema(format = Uuid)]
    pub household_id: String,
    #[schema(format = Uuid)]
    pub resident_id: Option<String>,
    pub status: TargetStatus,
    /// Visits that found nobody, refused, or settled it.
    pub attempts: i64,
    /// The form version the answers were given with.
    pub form_version: Option<i64>,
    pub by_name: Option<String>,
    pub settled_at: Option<i64>,
    pub updated_at: i64,
}

/// Progress of one grid (or the total): DHIS2's reporting figures, for targets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Progress {
    /// The grid's area id; none for the total.
    #[schema(format = Uuid)]
    pub grid_id: Option<String>,
    pub grid_name: String,
    /// Targets asked (every target but the exempt).
    pub expected: u64,
    /// Answered.
    pub done: u64,
    /// Answered by the end of the closing day (China time).
    pub on_time: u64,
    /// Not at home (in the revisit queue), refused, or no such household.
    pub not_reachable: u64,
    /// Of those, not at home: the revisit queue.
    pub revisit: u64,
    /// Not yet visited.
    pub pending: u64,
}

fn bad(m: Message) -> StoreError {
    StoreError::Invalid(m)
}

fn day(text: &str, field: &'static str) -> StoreResult<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), format).map_err(|_| bad(msg!("campaigns.error.date", value = text).field(field)))
}

fn iso(d: Date) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    d.format(format).expect("a date formats")
}

/// Today in China.
pub fn today() -> Date {
    time::OffsetDateTime::now_utc().to_offset(CHINA).date()
}

/// The last millisecond of `day`, China time: "on time" means settled by then.
fn end_of(day: Date) -> i64 {
    let next = day.next_day().unwrap_or(day).midnight().assume_offset(CHINA);
    (next.unix_timestamp_nanos() / 1_000_000) as i64 - 1
}

/// The day `years` years before `d` (29 February falls back to the 28th).
fn years_before(d: Date, years: u8) -> Date {
    let year = d.year() - i32::from(years);
    Date::from_calendar_date(year, d.month(), d.day())
        .or_else(|_| Date::from_calendar_date(year, d.month(), d.day() - 1))
        .expect("a valid day")
}

/// Starts a campaign: keeps it and its form (version 1) and draws its targets from
/// the registry as it stands, in one transaction. Refuses a grid as scope, grids
/// or buildings outside the scope, and conditions that match nobody.
pub async fn start(db: &Db, new: NewCampaign, by_id: Option<&str>, by_name: &str) -> StoreResult<Campaign> {
    let title = wangge_domain::text::normalize(&new.title);
    if title.is_empty() || title.chars().count() > 60 {
        return Err(bad(msg!("campaigns.error.title").field("title")));
    }
    let opens = day(&new.opens_on, "opens_on")?;
    let closes = day(&new.closes_on, "closes_on")?;
    if closes < opens {
        return Err(bad(msg!("campaigns.error.dates", opens = iso(opens), closes = iso(closes)).field("closes_on")));
    }
    if let (Some(min), Some(max)) = (new.filter.min_age, new.filter.max_age)
        && min > max
    {
        return Err(bad(msg!("campaigns.error.ages", min = min, max = max).field("min_age")));
    }
    let area = crate::registry::areas::get(db, &new.area_id).await?;
    if area.level == AreaLevel::Grid {
        return Err(bad(msg!("campaigns.error.level", area = &area.name).field("area_id")));
    }
    // Grids and buildings named must lie in the scope: their paths are checked here.
    let mut grid_paths = Vec::new();
    for g in &new.filter.grids {
        let grid = crate::registry::areas::get(db, g).await?;
        if grid.level != AreaLevel::Grid || !grid.path.starts_with(&area.path) {
            return Err(bad(msg!("campaigns.error.outside").key_arg("what", Thing::Area.key()).field("grids")));
        }
        grid_paths.push(grid.path);
    }
    for b in &new.filter.buildings {
        let path: Option<String> =
            sqlx::query_scalar("SELECT path FROM buildings WHERE id = $1").bind(b).fetch_optional(&db.pool).await?;
        match path {
            Some(p) if p.starts_with(&area.path) => {}
            Some(_) => {
                return Err(bad(msg!("campaigns.error.outside")
                    .key_arg("what", Thing::Building.key())
                    .field("buildings")));
            }
            None => return Err(StoreError::not_found(Thing::Building, b)),
        }
    }

    new.form.writes_to(new.target_kind).map_err(|m| bad(m.field("form")))?;
    let form_json = serde_json::to_string(&new.form).map_err(|e| StoreError::Invalid(crate::error::operator(e)))?;
    let filter_json = serde_json::to_string(&new.filter).map_err(|e| StoreError::Invalid(crate::error::operator(e)))?;
    let id = new_id();
    let now = now_millis();
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO campaigns (id, area_id, path, title, target_kind, filter, opens_on, closes_on, retention_days,
                                form_version, created_by, created_by_name, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $11, $12, $12)",
    )
    .bind(&id)
    .bind(&area.id)
    .bind(&area.path)
    .bind(&title)
    .bind(new.target_kind.code())
    .bind(&filter_json)
    .bind(iso(opens))
    .bind(iso(closes))
    .bind(new.retention_days.map(i64::from))
    .bind(by_id)
    .bind(by_name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO campaign_forms (campaign_id, version, form, created_at) VALUES ($1, 1, $2, $3)")
        .bind(&id)
        .bind(&form_json)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    // The targets are drawn and written by the database in one statement: a
    // district's 111,000 rows never travel to this process and back (2.1–2.6 s
    // with a bound insert per 256 rows, 1.1–1.3 s so; docs/benchmarks.md).
    let mut c = crate::conditions::Conditions::default();
    let (from, order) = subjects(&mut c, &area.path, &grid_paths, &new, opens);
    let resident = if new.target_kind == TargetKind::Person { "r.id" } else { "NULL" };
    // Each target's id is a UUIDv7: this campaign's prefix (the time now and 26
    // random bits) and, in its last 48 bits, the target's number in walking order
    // (RFC 9562's counter method), so ids still sort by creation. A prefix taken
    // before (two campaigns in one millisecond drawing the same bits) is drawn again.
    let prefix = loop {
        let prefix = id_prefix();
        let taken: Option<String> =
            sqlx::query_scalar("SELECT id FROM campaign_targets WHERE id > $1 AND id < $2 LIMIT 1")
                .bind(&prefix)
                .bind(format!("{prefix}g"))
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_none() {
            break prefix;
        }
    };
    let number = match db.backend {
        crate::Backend::Sqlite => format!("printf('%012x', row_number() OVER (ORDER BY {order}))"),
        crate::Backend::Postgres => format!("lpad(to_hex(row_number() OVER (ORDER BY {order})), 12, '0')"),
    };
    let (prefix, campaign, pending, at) =
        (c.text(prefix), c.text(&id), c.text(TargetStatus::Pending.code()), c.int(now));
    let sql = format!(
        "INSERT INTO campaign_targets (id, campaign_id, path, household_id, resident_id, status, updated_at)
         SELECT {prefix} || {number}, {campaign}, h.path, h.id, {resident}, {pending}, {at}
         {from} ORDER BY {order}"
    );
    if c.query(sql).execute(&mut *tx).await?.rows_affected() == 0 {
        return Err(bad(msg!("campaigns.error.no_targets").field("filter")));
    }
    tx.commit().await?;
    get(db, &id).await
}

/// The first 24 characters of a campaign's target ids, `tttttttt-tttt-7rrr-vrrr-`:
/// a UUIDv7's time now, its version and variant, and 26 random bits.
fn id_prefix() -> String {
    let mut bytes = *uuid::Uuid::now_v7().as_bytes();
    let mut random = [0u8; 4];
    getrandom::fill(&mut random).expect("the operating system provides randomness");
    bytes[6] = 0x70 | (random[0] & 0x0f);
    bytes[7] = random[1];
    bytes[8] = 0x80 | (random[2] & 0x3f);
    bytes[9] = random[3];
    uuid::Uuid::from_bytes(bytes).to_string()[..24].to_owned()
}

/// The households (occupied) or people (active, in a household) of the scope that
/// match the filter: the query's `FROM … WHERE …` (households `h`, buildings `b`,
/// people `r`; its values bound in `c`) and its order, grid by grid, each in
/// walking order.
fn subjects(
    c: &mut crate::conditions::Conditions,
    scope: &str,
    grid_paths: &[String],
    new: &NewCampaign,
    opens: Date,
) -> (String, String) {
    let f = &new.filter;
    c.under_path("h.path", scope);
    c.push("h.occupancy <> 'vacant'".to_owned());
    if !grid_paths.is_empty() {
        let any: Vec<String> = grid_paths
            .iter()
            .map(|p| {
                let (lo, hi) = subtree_bounds(p);
                format!("(h.path >= {} AND h.path < {})", c.text(&lo), c.text(&hi))
            })
            .collect();
        c.push(format!("({})", any.join(" OR ")));
    }
    if !f.buildings.is_empty() {
        let ids: Vec<String> = f.buildings.iter().map(|b| c.text(b)).collect();
        c.push(format!("h.building_id IN ({})", ids.join(", ")));
    }
    // Conditions on people: the person themselves (person targets) or someone of
    // the household (household targets).
    let mut person = vec!["r.status = 'active'".to_owned()];
    if !f.tags.is_empty() {
        let codes: Vec<String> = f.tags.iter().map(|t| c.text(t)).collect();
        person.push(format!(
            "EXISTS (SELECT 1 FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
                     WHERE rt.resident_id = r.id AND t.code IN ({}))",
            codes.join(", ")
        ));
    }
    if !f.residence_types.is_empty() {
        let types: Vec<String> = f.residence_types.iter().map(|t| c.text(t.code())).collect();
        person.push(format!("r.residence_type IN ({})", types.join(", ")));
    }
    if let Some(min) = f.min_age {
        person.push(format!("r.birth_date <= {}", c.text(iso(years_before(opens, min)))));
    }
    if let Some(max) = f.max_age {
        // Younger than max + 1 on the opening day: born after that many years before.
        let born_after = years_before(opens, max.saturating_add(1));
        person.push(format!("r.birth_date > {}", c.text(iso(born_after))));
    }
    let on_people = person.len() > 1;
    // Grid by grid (path first): the targets' rows then reach the index
    // `(campaign_id, path, …)` in its order, each insert beside the last, where
    // building order over a whole district put each one somewhere else in it (a
    // district's 111,000 targets: 2.0 s to insert in the `sqlite3` shell, 0.85 s so).
    let order = "h.path, b.number, h.unit, h.room";
    match new.target_kind {
        TargetKind::Household if on_people => (
            format!(
                "FROM households h JOIN buildings b ON b.id = h.building_id
                 {} AND EXISTS (SELECT 1 FROM residents r WHERE r.household_id = h.id AND {})",
                c.where_clause(),
                person.join(" AND ")
            ),
            order.to_owned(),
        ),
        TargetKind::Household => (
            format!("FROM households h JOIN buildings b ON b.id = h.building_id {}", c.where_clause()),
            order.to_owned(),
        ),
        TargetKind::Person => (
            format!(
                "FROM residents r JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id
                 {} AND {}",
                c.where_clause(),
                person.join(" AND ")
            ),
            format!("{order}, r.birth_date"),
        ),
    }
}

const CAMPAIGN_COLUMNS: &str = "id, area_id, path, title, target_kind, filter, opens_on, closes_on, retention_days, \
    form_version, created_by_name, created_at";

fn vocab<V: Vocabulary>(r: &sqlx::any::AnyRow, column: &str) -> StoreResult<V> {
    let code: String = r.try_get(column)?;
    V::parse(&code).map_err(|e| StoreError::Invalid(crate::error::operator(format!("{column}: {e}"))))
}

fn campaign_from(r: &sqlx::any::AnyRow) -> StoreResult<Campaign> {
    let filter: String = r.try_get("filter")?;
    Ok(Campaign {
        id: r.try_get("id")?,
        area_id: r.try_get("area_id")?,
        path: r.try_get("path")?,
        title: r.try_get("title")?,
        target_kind: vocab(r, "target_kind")?,
        filter: serde_json::from_str(&filter).map_err(|e| StoreError::Invalid(crate::error::operator(e)))?,
        opens_on: r.try_get("opens_on")?,
        closes_on: r.try_get("closes_on")?,
        retention_days: r.try_get::<Option<i64>, _>("retention_days")?.map(|d| d as u16),
        form_version: r.try_get("form_version")?,
        created_by_name: r.try_get("created_by_name")?,
        created_at: r.try_get("created_at")?,
    })
}

/// A campaign by id.
pub async fn get(db: &Db, id: &str) -> StoreResult<Campaign> {
    let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    campaign_from(&row.ok_or_else(|| StoreError::not_found(Thing::Campaign, id))?)
}

/// The campaigns whose scope contains `path` or lies under it (what a grid member
/// or an official of `path` takes part in), newest first.
pub async fn touching(db: &Db, path: &str) -> StoreResult<Vec<Campaign>> {
    let (lo, hi) = subtree_bounds(path);
    // Ancestors of `path` are its prefixes: a handful, listed rather than scanned.
    let mut prefixes: Vec<String> = Vec::new();
    for (i, _) in path.match_indices('/').skip(1) {
        prefixes.push(path[..=i].to_owned());
    }
    let mut c = crate::conditions::Conditions::default();
    let lo = c.text(lo);
    let hi = c.text(hi);
    let ancestors: Vec<String> = prefixes.iter().map(|p| c.text(p)).collect();
    // The whole deployment ("/") has no ancestors.
    let above = if ancestors.is_empty() { String::new() } else { format!(" OR path IN ({})", ancestors.join(", ")) };
    let sql = format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE (path >= {lo} AND path < {hi}){above}
         ORDER BY opens_on DESC, created_at DESC"
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    rows.iter().map(campaign_from).collect()
}

/// The form of `version` of a campaign.
pub async fn form(db: &Db, campaign_id: &str, version: i64) -> StoreResult<Form> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT form FROM campaign_forms WHERE campaign_id = $1 AND version = $2")
            .bind(campaign_id)
            .bind(version)
            .fetch_optional(&db.pool)
            .await?;
    let text = text.ok_or_else(|| StoreError::not_found(Thing::Campaign, campaign_id))?;
    serde_json::from_str(&text).map_err(|e| StoreError::Invalid(crate::error::operator(e)))
}

/// Keeps a changed form as the campaign's next version; answers already given
/// stay pinned to theirs.
pub async fn revise_form(db: &Db, campaign_id: &str, form: &Form) -> StoreResult<i64> {
    let campaign = get(db, campaign_id).await?;
    form.writes_to(campaign.target_kind).map_err(|m| bad(m.field("form")))?;
    let version = campaign.form_version + 1;
    let text = serde_json::to_string(form).map_err(|e| StoreError::Invalid(crate::error::operator(e)))?;
    let now = now_millis();
    let mut tx = db.pool.begin().await?;
    // The guard on the old version makes two concurrent revisions fail one.
    let moved =
        sqlx::query("UPDATE campaigns SET form_version = $1, updated_at = $2 WHERE id = $3 AND form_version = $4")
            .bind(version)
            .bind(now)
            .bind(campaign_id)
            .bind(campaign.form_version)
            .execute(&mut *tx)
            .await?;
    if moved.rows_affected() != 1 {
        return Err(StoreError::Conflict(msg!("campaigns.error.version", current = version)));
    }
    sqlx::query("INSERT INTO campaign_forms (campaign_id, version, form, created_at) VALUES ($1, $2, $3, $4)")
        .bind(campaign_id)
        .bind(version)
        .bind(text)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(version)
}

const TARGET_COLUMNS: &str =
    "id, campaign_id, path, household_id, resident_id, status, attempts, form_version, by_name, settled_at, updated_at";

fn target_from(r: &sqlx::any::AnyRow) -> StoreResult<Target> {
    Ok(Target {
        id: r.try_get("id")?,
        campaign_id: r.try_get("campaign_id")?,
        path: r.try_get("path")?,
        household_id: r.try_get("household_id")?,
        resident_id: r.try_get("resident_id")?,
        status: vocab(r, "status")?,
        attempts: r.try_get("attempts")?,
        form_version: r.try_get("form_version")?,
        by_name: r.try_get("by_name")?,
        settled_at: r.try_get("settled_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// A target by id.
pub async fn target(db: &Db, id: &str) -> StoreResult<Target> {
    let sql = format!("SELECT {TARGET_COLUMNS} FROM campaign_targets WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    target_from(&row.ok_or_else(|| StoreError::not_found(Thing::CampaignTarget, id))?)
}

fn aad(target_id: &str) -> String {
    format!("campaigns.answers:{target_id}")
}

/// Records the answers for a target, judged by the form version they were given
/// with (`version` must be the campaign's current one: a form that changed while
/// it was open is reopened, never reinterpreted), and writes the registry facts the
/// form names ([`write_back`]): a fact changed after `opened_at` (milliseconds;
/// none: when the campaign started) is held as a conflict instead. Returns the
/// target with what was written and held, or every answer's error.
#[allow(clippy::too_many_arguments)] // each is one thing the answer records
pub async fn answer(
    db: &Db,
    target_id: &str,
    given: &BTreeMap<String, String>,
    version: i64,
    opened_at: Option<i64>,
    by_id: Option<&str>,
    by_name: &str,
    today: Date,
) -> Result<Answered, AnswerOutcome> {
    let t = target(db, target_id).await?;
    let campaign = get(db, &t.campaign_id).await?;
    let opens = day(&campaign.opens_on, "opens_on")?;
    if today < opens {
        return Err(bad(msg!("campaigns.error.not_open", opens = &campaign.opens_on)).into());
    }
    if version != campaign.form_version {
        return Err(StoreError::Conflict(msg!("campaigns.error.version", current = campaign.form_version)).into());
    }
    let form = form(db, &campaign.id, version).await?;
    let kept = form.check(given, &iso(today)).map_err(AnswerOutcome::Answers)?;
    let text = serde_json::to_string(&kept).map_err(|e| StoreError::Invalid(crate::error::operator(e)))?;
    let sealed = db.vault.seal(&text, &aad(&t.id));
    let now = now_millis();
    let mut tx = db.pool.begin().await.map_err(StoreError::from)?;
    // A photo answer names a photo sent for this question of this target, no other.
    let foreign = photos::foreign(&mut tx, &t.id, &form, &kept).await?;
    if !foreign.is_empty() {
        return Err(AnswerOutcome::Answers(foreign));
    }
    photos::keep(&mut tx, &t.id, &form, &kept).await?;
    sqlx::query(
        "UPDATE campaign_targets SET status = 'done', attempts = attempts + 1, form_version = $1, answers_enc = $2,
                by_id = $3, by_name = $4, settled_at = $5, updated_at = $5
         WHERE id = $6",
    )
    .bind(version)
    .bind(sealed)
    .bind(by_id)
    .bind(by_name)
    .bind(now)
    .bind(&t.id)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    let opened_at = opened_at.unwrap_or(campaign.created_at);
    let (written, conflicts) = write_back::apply(&mut tx, &t, &form, &kept, opened_at, by_name).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Answered { target: target(db, &t.id).await?, written, conflicts })
}

/// A target answered: what the registry took, and what it held back.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Answered {
    pub target: Target,
    /// The registry facts the answers wrote.
    pub written: Vec<wangge_domain::campaigns::Fact>,
    /// The answers held back because their fact changed after the form was opened.
    pub conflicts: Vec<write_back::Conflict>,
}

/// Why answers were not recorded: a store error, or the answers' own errors.
#[derive(Debug)]
pub enum AnswerOutcome {
    Store(StoreError),
    Answers(Vec<wangge_domain::campaigns::AnswerError>),
}

impl From<StoreError> for AnswerOutcome {
    fn from(e: StoreError) -> Self {
        AnswerOutcome::Store(e)
    }
}

/// The answers recorded for a target, opened (for those who may read them).
pub async fn answers(db: &Db, target_id: &str) -> StoreResult<Option<BTreeMap<String, String>>> {
    let sealed: Option<Option<String>> = sqlx::query_scalar("SELECT answers_enc FROM campaign_targets WHERE id = $1")
        .bind(target_id)
        .fetch_optional(&db.pool)
        .await?;
    let Some(sealed) = sealed.ok_or_else(|| StoreError::not_found(Thing::CampaignTarget, target_id))? else {
        return Ok(None);
    };
    let text = db.vault.open(&sealed, &aad(target_id)).map_err(|e| StoreError::Invalid(crate::error::operator(e)))?;
    serde_json::from_str(&text).map(Some).map_err(|e| StoreError::Invalid(crate::error::operator(e)))
}

/// Marks a visit that did not end in answers: nobody at home (the target goes to
/// the revisit queue), refused, no such household, or exempt. Each counts an attempt.
pub async fn mark(
    db: &Db,
    target_id: &str,
    status: TargetStatus,
    by_id: Option<&str>,
    by_name: &str,
) -> StoreResult<Target> {
    if matches!(status, TargetStatus::Pending | TargetStatus::Done) {
        return Err(bad(msg!("campaigns.error.mark").field("status")));
    }
    let t = target(db, target_id).await?;
    let now = now_millis();
    let settled = status.is_settled().then_some(now);
    sqlx::query(
        "UPDATE campaign_targets SET status = $1, attempts = attempts + $2, by_id = $3, by_name = $4,
                settled_at = $5, updated_at = $6
         WHERE id = $7",
    )
    .bind(status.code())
    .bind(i64::from(status != TargetStatus::Exempt))
    .bind(by_id)
    .bind(by_name)
    .bind(settled)
    .bind(now)
    .bind(&t.id)
    .execute(&db.pool)
    .await?;
    target(db, &t.id).await
}

/// Progress per grid of the campaign under `path` (the campaign's scope, or a
/// community or grid within it), and the total last.
pub async fn progress(db: &Db, campaign_id: &str, path: &str) -> StoreResult<Vec<Progress>> {
    let campaign = get(db, campaign_id).await?;
    let deadline = end_of(day(&campaign.closes_on, "closes_on")?);
    let (lo, hi) = subtree_bounds(path);
    // Counted from the index alone, (campaign_id, path, status, settled_at) of
    // migration 0033, in its order (no sort), and only then each grid's name looked
    // up once: joining `areas` before grouping looked it up once per target and read
    // every target's row for `settled_at` (0.45 s for a district's 111,000 targets,
    // 0.04 s now; docs/benchmarks.md).
    let rows = sqlx::query(
        "SELECT a.id AS grid_id, a.name AS grid_name, g.status, g.n, g.on_time
         FROM (SELECT t.path, t.status, COUNT(*) AS n,
                      SUM(CASE WHEN t.status = 'done' AND t.settled_at <= $4 THEN 1 ELSE 0 END) AS on_time
               FROM campaign_targets t
               WHERE t.campaign_id = $1 AND t.path >= $2 AND t.path < $3
               GROUP BY t.path, t.status) g
         JOIN areas a ON a.path = g.path
         ORDER BY a.code",
    )
    .bind(campaign_id)
    .bind(lo)
    .bind(hi)
    .bind(deadline)
    .fetch_all(&db.pool)
    .await?;
    let mut grids: Vec<Progress> = Vec::new();
    for r in &rows {
        let grid_id: String = r.try_get("grid_id")?;
        if grids.last().and_then(|g| g.grid_id.as_deref()) != Some(grid_id.as_str()) {
            grids.push(Progress { grid_id: Some(grid_id), grid_name: r.try_get("grid_name")?, ..Default::default() });
        }
        let g = grids.last_mut().expect("pushed above");
        let status: TargetStatus = vocab(r, "status")?;
        let n = r.try_get::<i64, _>("n")? as u64;
        if status != TargetStatus::Exempt {
            g.expected += n;
        }
        match status {
            TargetStatus::Done => {
                g.done += n;
                g.on_time += r.try_get::<Option<i64>, _>("on_time")?.unwrap_or(0) as u64;
            }
            TargetStatus::NotHome => {
                g.not_reachable += n;
                g.revisit += n;
            }
            TargetStatus::Refused | TargetStatus::NoSuchHousehold => g.not_reachable += n,
            TargetStatus::Pending => g.pending += n,
            TargetStatus::Exempt => {}
        }
    }
    let mut total = Progress { grid_id: None, grid_name: String::new(), ..Default::default() };
    for g in &grids {
        total.expected += g.expected;
        total.done += g.done;
        total.on_time += g.on_time;
        total.not_reachable += g.not_reachable;
        total.revisit += g.revisit;
        total.pending += g.pending;
    }
    grids.push(total);
    Ok(grids)
}

/// Where a campaign stands by its dates (China time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Not open yet.
    Upcoming,
    Running,
    /// Past its closing day: answers may still come in late (they count as not on
    /// time), nothing else changes.
    Closed,
}

impl Campaign {
    pub fn phase(&self, today: Date) -> Phase {
        let opens = day(&self.opens_on, "opens_on").unwrap_or(today);
        let closes = day(&self.closes_on, "closes_on").unwrap_or(today);
        if today < opens {
            Phase::Upcoming
        } else if today > closes {
            Phase::Closed
        } else {
            Phase::Running
        }
    }
}

/// A target with the place a grid member walks to and, for a person, their name.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TargetLine {
    #[serde(flatten)]
    pub target: Target,
    pub building: String,
    pub unit: String,
    pub room: String,
    /// The person asked (person targets).
    pub resident_name: Option<String>,
}

/// Which targets a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// Pending first, then the revisit queue (not at home).
    Open,
    /// One status.
    Status(TargetStatus),
    Every,
}

/// The targets of a campaign under `path` in walking order (building, unit, door),
/// with their place; at most `limit`.
pub async fn lines(db: &Db, campaign_id: &str, path: &str, which: Which, limit: i64) -> StoreResult<Vec<TargetLine>> {
    let (lo, hi) = subtree_bounds(path);
    let (filter, order) = match which {
        Which::Open => {
            ("AND t.status IN ('pending', 'not_home')".to_owned(), "CASE WHEN t.status = 'pending' THEN 0 ELSE 1 END, ")
        }
        Which::Status(s) => (format!("AND t.status = '{}'", s.code()), ""),
        Which::Every => (String::new(), ""),
    };
    let sql = format!(
        "SELECT {}, b.number AS building, h.unit AS unit, h.room AS room, r.name AS resident_name
         FROM campaign_targets t JOIN households h ON h.id = t.household_id
         JOIN buildings b ON b.id = h.building_id LEFT JOIN residents r ON r.id = t.resident_id
         WHERE t.campaign_id = $1 AND t.path >= $2 AND t.path < $3 {filter}
         ORDER BY {order}b.number, h.unit, h.room, r.birth_date, t.id LIMIT $4",
        TARGET_COLUMNS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ")
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(campaign_id)
        .bind(lo)
        .bind(hi)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(TargetLine {
                target: target_from(r)?,
                building: r.try_get("building")?,
                unit: r.try_get("unit")?,
                room: r.try_get("room")?,
                resident_name: r.try_get("resident_name")?,
            })
        })
        .collect()
}

/// One target with its place.
pub async fn line(db: &Db, target_id: &str) -> StoreResult<TargetLine> {
    let t = target(db, target_id).await?;
    let row = sqlx::query(
        "SELECT b.number AS building, h.unit AS unit, h.room AS room, r.name AS resident_name
         FROM households h JOIN buildings b ON b.id = h.building_id LEFT JOIN residents r ON r.id = $2
         WHERE h.id = $1",
    )
    .bind(&t.household_id)
    .bind(&t.resident_id)
    .fetch_one(&db.pool)
    .await?;
    Ok(TargetLine {
        building: row.try_get("building")?,
        unit: row.try_get("unit")?,
        room: row.try_get("room")?,
        resident_name: row.try_get("resident_name")?,
        target: t,
    })
}

/// The running campaigns with open targets under `path` (a grid member's grid),
/// and how many each has there: what 今日 lists.
pub async fn open_here(db: &Db, path: &str, today: Date) -> StoreResult<Vec<(Campaign, i64)>> {
    let mut out = Vec::new();
    let (lo, hi) = subtree_bounds(path);
    for c in touching(db, path).await? {
        if c.phase(today) != Phase::Running {
            continue;
        }
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM campaign_targets
             WHERE campaign_id = $1 AND path >= $2 AND path < $3 AND status IN ('pending', 'not_home')",
        )
        .bind(&c.id)
        .bind(&lo)
        .bind(&hi)
        .fetch_one(&db.pool)
        .await?;
        if n > 0 {
            out.push((c, n));
        }
    }
    Ok(out)
}

/// A target settled in the past, for the demo's history: written as it would have
/// been then (no audit entry: nobody did it on this server).
#[derive(Clone, Debug)]
pub struct PastSettle {
    pub target_id: String,
    pub status: TargetStatus,
    /// The answers (done targets), sealed as live ones are.
    pub answers: Option<BTreeMap<String, String>>,
    pub attempts: i64,
    pub by_name: String,
    /// When it was settled (or last marked), milliseconds.
    pub at: i64,
}

/// Writes past settlements of a campaign's targets with form version `version`, in
/// one transaction, and the registry facts their answers name (a later fact stays).
pub async fn record_past(db: &Db, campaign_id: &str, version: i64, rows: &[PastSettle]) -> StoreResult<()> {
    let form = form(db, campaign_id, version).await?;
    // The targets whose answers write facts, read before the transaction begins.
    let mut writers = BTreeMap::new();
    if form.write_backs().next().is_some() {
        for r in rows.iter().filter(|r| r.answers.is_some()) {
            writers.insert(r.target_id.clone(), target(db, &r.target_id).await?);
        }
    }
    let mut tx = db.pool.begin().await?;
    for r in rows {
        if let (Some(answers), Some(t)) = (&r.answers, writers.get(&r.target_id)) {
            write_back::apply_past(&mut tx, t, &form, answers, r.at, &r.by_name).await?;
        }
        let sealed = match &r.answers {
            Some(a) => {
                let text = serde_json::to_string(a).map_err(|e| StoreError::Invalid(crate::error::operator(e)))?;
                Some(db.vault.seal(&text, &aad(&r.target_id)))
            }
            None => None,
        };
        let settled = r.status.is_settled().then_some(r.at);
        sqlx::query(
            "UPDATE campaign_targets SET status = $1, attempts = $2, form_version = $3, answers_enc = $4, by_name = $5,
                    settled_at = $6, updated_at = $7
             WHERE id = $8",
        )
        .bind(r.status.code())
        .bind(r.attempts)
        .bind(sealed.is_some().then_some(version))
        .bind(sealed)
        .bind(&r.by_name)
        .bind(settled)
        .bind(r.at)
        .bind(&r.target_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
