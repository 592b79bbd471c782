//! Home visits (走访, issue 19): visits recorded against a household or one of its
//! people, the community's cadences (by care tag, or every household), spells and
//! per-subject adjustments, and from them the due list of a grid in walking order
//! and the coverage of any subtree. The rules themselves (what counts, when someone
//! is due) are `wangge_domain::visits`; this module reads what they need in a few
//! range scans on the `(path, …)` indexes and asks them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use time::{Date, Duration};
use utoipa::ToSchema;
use wangge_domain::visits::{Adjustment, Cadence, Contact, DEFAULT_CADENCES, Period, Standing, standing};
use wangge_domain::{Message, VisitChannel, VisitOutcome, Vocabulary, msg, new_id, now_millis};

use crate::{Db, StoreError, StoreResult, Thing, subtree_bounds};

pub mod corrections;
pub mod figures;
pub mod photos;
pub mod reminders;
#[cfg(test)]
mod tests;

/// A community's cadence, as kept.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CadenceRule {
    #[schema(format = Uuid)]
    pub id: String,
    /// The care tag it follows (`elderly_alone`); none: every household.
    pub tag: Option<String>,
    #[serde(flatten)]
    pub cadence: Cadence,
}

/// A visit to record.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewVisit {
    #[schema(format = Uuid)]
    pub household_id: String,
    /// The person met, when the visit was to one person (a call, a chance meeting).
    #[schema(format = Uuid)]
    pub resident_id: Option<String>,
    pub channel: VisitChannel,
    pub outcome: VisitOutcome,
    /// The day of the visit, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub visited_on: String,
    #[serde(default)]
    pub purpose: String,
    /// What was found; sealed at rest, shown only inside the grid.
    #[serde(default)]
    pub findings: String,
    /// Entered afterwards from a printed due list.
    #[serde(default)]
    pub paper: bool,
    /// Where it happened, as the visitor writes it (小区南门, 活动室), when not at
    /// the household: a call or a chance meeting. At most 60 characters.
    #[serde(default)]
    pub location: String,
}

/// A recorded visit. What was found is sealed at rest and never read in a list:
/// `findings` is filled only by [`reveal_findings`] (audited by the caller) and
/// for the visitor who just wrote it; `findings_recorded` says whether there is any.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Visit {
    #[schema(format = Uuid)]
    pub id: String,
    pub path: String,
    #[schema(format = Uuid)]
    pub household_id: String,
    #[schema(format = Uuid)]
    pub resident_id: Option<String>,
    pub channel: VisitChannel,
    pub outcome: VisitOutcome,
    #[schema(format = Date)]
    pub visited_on: String,
    pub purpose: String,
    pub findings: Option<String>,
    pub findings_recorded: bool,
    /// The account that recorded it (none: through an API token).
    #[schema(format = Uuid)]
    pub visitor_id: Option<String>,
    pub visitor_name: String,
    pub paper: bool,
    /// Where it happened, when the visitor said (see [`NewVisit::location`]).
    pub location: Option<String>,
    /// The demand its finding became.
    #[schema(format = Uuid)]
    pub demand_id: Option<String>,
    pub created_at: i64,
    /// When it was last edited (none: never).
    pub updated_at: Option<i64>,
}

/// Who a due entry is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    Household,
    Person {
        #[schema(format = Uuid)]
        resident_id: String,
        name: String,
    },
}

/// One line of a due list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DueEntry {
    pub subject: Subject,
    #[schema(format = Uuid)]
    pub household_id: String,
    pub building: String,
    pub unit: String,
    pub room: String,
    #[schema(format = Uuid)]
    pub cadence_id: String,
    /// The care tag of the cadence; none for the every-household one.
    pub tag: Option<String>,
    /// The channels that count for it.
    pub channels: Vec<VisitChannel>,
    /// Its interval in days.
    pub every_days: u16,
    #[schema(format = Date)]
    pub due_on: String,
    pub overdue_days: i64,
}

/// Visits over a subtree and a window of days ending today.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Coverage {
    /// Occupied households (not vacant) in the subtree.
    pub households: u64,
    /// Of them, met in the window through any channel.
    pub visited: u64,
    /// Of them, met at the door in the window.
    pub visited_at_door: u64,
    /// Not met at all in the window (the seed's "rarely visited").
    pub not_visited: u64,
    pub days: u16,
}

impl Coverage {
    /// The share of households not visited in the window, in per cent (one decimal).
    pub fn not_visited_percent(&self) -> f64 {
        if self.households == 0 {
            0.0
        } else {
            (self.not_visited as f64 * 1000.0 / self.households as f64).round() / 10.0
        }
    }
}

fn bad(m: Message) -> StoreError {
    StoreError::Invalid(m)
}

fn day(text: &str, field: &'static str) -> StoreResult<Date> {
    Date::parse(text, &time::format_description::well_known::Iso8601::DATE)
        .map_err(|_| bad(msg!("visits.error.date", value = text).field(field)))
}

fn iso(d: Date) -> String {
    d.to_string()
}

/// The community's active cadences; a community that has none yet gets the
/// defaults ([`DEFAULT_CADENCES`]) for the standard tags it knows.
pub async fn cadences(db: &Db, community_id: &str) -> StoreResult<Vec<CadenceRule>> {
    let read = async || -> StoreResult<Vec<CadenceRule>> {
        let rows = sqlx::query(
            "SELECT c.id, t.code AS tag, c.every_days, c.spell_every_days, c.channels
             FROM visit_cadences c LEFT JOIN tags t ON t.id = c.tag_id
             WHERE c.community_id = $1 AND c.active = 1 ORDER BY c.every_days, c.created_at",
        )
        .bind(community_id)
        .fetch_all(&db.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let every: i64 = r.try_get("every_days")?;
                let spell: Option<i64> = r.try_get("spell_every_days")?;
                let channels: String = r.try_get("channels")?;
                Ok(CadenceRule {
                    id: r.try_get("id")?,
                    tag: r.try_get("tag")?,
                    cadence: Cadence {
                        every_days: every as u16,
                        spell_every_days: spell.map(|s| s as u16),
                        channels: Cadence::parse_channels(&channels),
                    },
                })
            })
            .collect()
    };
    let found = read().await?;
    if !found.is_empty() {
        return Ok(found);
    }
    let any: Option<String> = sqlx::query_scalar("SELECT id FROM visit_cadences WHERE community_id = $1 LIMIT 1")
        .bind(community_id)
        .fetch_optional(&db.pool)
        .await?;
    if any.is_some() {
        return Ok(found); // every cadence switched off on purpose
    }
    let now = now_millis();
    // The tags are read before the transaction: on SQLite a transaction that reads
    // first and writes after fails at once ("database is locked") when another
    // connection wrote in between (the server's start, writing its schedules' rows,
    // made the reminders' first sweep fail so on every `wangge demo`); one whose first
    // statement writes waits its turn.
    let mut defaults = Vec::new();
    for (tag, every, spell, channels) in DEFAULT_CADENCES {
        let tag_id: Option<String> = match tag {
            Some(code) => {
                let id: Option<String> = sqlx::query_scalar("SELECT id FROM tags WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&db.pool)
                    .await?;
                match id {
                    Some(id) => Some(id),
                    None => continue,
                }
            }
            None => None,
        };
        defaults.push((tag_id, Cadence::new(every, spell, channels).map_err(bad)?));
    }
    let mut tx = db.pool.begin().await?;
    for (tag_id, cadence) in defaults {
        sqlx::query(
            "INSERT INTO visit_cadences (id, community_id, tag_id, every_days, spell_every_days, channels, active, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)",
        )
        .bind(new_id())
        .bind(community_id)
        .bind(tag_id)
        .bind(i64::from(cadence.every_days))
        .bind(cadence.spell_every_days.map(i64::from))
        .bind(cadence.channel_codes())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    read().await
}

/// Changes one of the community's cadences (its interval, its interval during a
/// spell, the channels that count) or switches it off (`active` false).
pub async fn save_cadence(db: &Db, community_id: &str, id: &str, cadence: &Cadence, active: bool) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE visit_cadences SET every_days = $1, spell_every_days = $2, channels = $3, active = $4, updated_at = $5
         WHERE id = $6 AND community_id = $7",
    )
    .bind(i64::from(cadence.every_days))
    .bind(cadence.spell_every_days.map(i64::from))
    .bind(cadence.channel_codes())
    .bind(i16::from(active))
    .bind(now_millis())
    .bind(id)
    .bind(community_id)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found(Thing::Cadence, id));
    }
    Ok(())
}

/// The community a cadence belongs to.
pub async fn cadence_community(db: &Db, id: &str) -> StoreResult<String> {
    let found: Option<String> = sqlx::query_scalar("SELECT community_id FROM visit_cadences WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    found.ok_or_else(|| StoreError::not_found(Thing::Cadence, id))
}

/// A declared spell.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Spell {
    #[schema(format = Uuid)]
    pub id: String,
    pub kind: String,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
}

/// The community's spells that end today or later, soonest first.
pub async fn spells(db: &Db, community_id: &str, today: Date) -> StoreResult<Vec<Spell>> {
    let rows = sqlx::query(
        "SELECT id, kind, from_on, to_on FROM care_spells WHERE community_id = $1 AND to_on >= $2 ORDER BY from_on",
    )
    .bind(community_id)
    .bind(iso(today))
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Spell {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                from: r.try_get("from_on")?,
                to: r.try_get("to_on")?,
            })
        })
        .collect()
}

/// Records a visit: the household must exist (and the person, when named, live
/// in it); the day may not lie ahead; what was found is sealed.
pub async fn record(db: &Db, new: NewVisit, visitor_id: Option<&str>, visitor_name: &str) -> StoreResult<Visit> {
    let household = crate::registry::households::get(db, &new.household_id).await?;
    if let Some(rid) = &new.resident_id {
        let lives: Option<String> = sqlx::query_scalar("SELECT household_id FROM residents WHERE id = $1")
            .bind(rid)
            .fetch_optional(&db.pool)
            .await?
            .flatten();
        if lives.as_deref() != Some(household.id.as_str()) {
            return Err(StoreError::not_found(Thing::Resident, rid));
        }
    }
    let on = day(&new.visited_on, "visited_on")?;
    let today = time::OffsetDateTime::now_utc().to_offset(wangge_domain::demands::CHINA).date();
    if on > today {
        return Err(bad(msg!("visits.error.future", value = &new.visited_on).field("visited_on")));
    }
    let location = wangge_domain::text::normalize(&new.location);
    if location.chars().count() > 60 {
        return Err(bad(msg!("visits.error.location").field("location")));
    }
    let location = (!location.is_empty()).then_some(location);
    let id = new_id();
    let findings = new.findings.trim();
    let sealed = (!findings.is_empty()).then(|| db.vault.seal(findings, &aad(&id)));
    let now = now_millis();
    sqlx::query(
        "INSERT INTO visits (id, path, household_id, resident_id, channel, outcome, visited_on, purpose, findings_enc,
                             visitor_id, visitor_name, paper, created_at, location)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&id)
    .bind(&household.path)
    .bind(&household.id)
    .bind(&new.resident_id)
    .bind(new.channel.code())
    .bind(new.outcome.code())
    .bind(iso(on))
    .bind(new.purpose.trim())
    .bind(&sealed)
    .bind(visitor_id)
    .bind(visitor_name)
    .bind(i16::from(new.paper))
    .bind(now)
    .bind(&location)
    .execute(&db.pool)
    .await?;
    Ok(Visit {
        id,
        path: household.path,
        household_id: household.id,
        resident_id: new.resident_id,
        channel: new.channel,
        outcome: new.outcome,
        visited_on: iso(on),
        purpose: new.purpose.trim().to_owned(),
        findings: (!findings.is_empty()).then(|| findings.to_owned()),
        findings_recorded: !findings.is_empty(),
        visitor_id: visitor_id.map(str::to_owned),
        visitor_name: visitor_name.to_owned(),
        paper: new.paper,
        location,
        demand_id: None,
        created_at: now,
        updated_at: None,
    })
}

fn aad(id: &str) -> String {
    format!("visits.findings:{id}")
}

const VISIT_SELECT: &str = "SELECT id, path, household_id, resident_id, channel, outcome, visited_on, purpose, \
    findings_enc, visitor_id, visitor_name, paper, location, demand_id, created_at, updated_at FROM visits";

/// A visit as read: what was found is left sealed (see [`reveal_findings`]).
fn visit_row(r: &sqlx::any::AnyRow) -> StoreResult<Visit> {
    let sealed: Option<String> = r.try_get("findings_enc")?;
    Ok(Visit {
        id: r.try_get("id")?,
        path: r.try_get("path")?,
        household_id: r.try_get("household_id")?,
        resident_id: r.try_get("resident_id")?,
        channel: crate::demands::vocab(r, "channel")?,
        outcome: crate::demands::vocab(r, "outcome")?,
        visited_on: r.try_get("visited_on")?,
        purpose: r.try_get("purpose")?,
        findings: None,
        findings_recorded: sealed.is_some(),
        visitor_id: r.try_get("visitor_id")?,
        visitor_name: r.try_get("visitor_name")?,
        paper: r.try_get::<i16, _>("paper")? != 0,
        location: r.try_get("location")?,
        demand_id: r.try_get("demand_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The visits of a household, newest first; what was found stays sealed.
pub async fn of_household(db: &Db, household_id: &str) -> StoreResult<Vec<Visit>> {
    let sql = format!("{VISIT_SELECT} WHERE household_id = $1 ORDER BY visited_on DESC, created_at DESC");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(household_id).fetch_all(&db.pool).await?;
    rows.iter().map(visit_row).collect()
}

/// One visit; what was found stays sealed.
pub async fn get(db: &Db, id: &str) -> StoreResult<Visit> {
    let sql = format!("{VISIT_SELECT} WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    visit_row(&row.ok_or_else(|| StoreError::not_found(Thing::Visit, id))?)
}

/// The visit whose finding became the demand `demand_id`, if any.
pub async fn of_demand(db: &Db, demand_id: &str) -> StoreResult<Option<Visit>> {
    let sql = format!("{VISIT_SELECT} WHERE demand_id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(demand_id).fetch_optional(&db.pool).await?;
    row.as_ref().map(visit_row).transpose()
}

/// What was found at a visit, in full (none when nothing was written). The caller
/// checks who may read it and audits the reveal.
pub async fn reveal_findings(db: &Db, id: &str) -> StoreResult<Option<String>> {
    let sealed: Option<Option<String>> =
        sqlx::query_scalar("SELECT findings_enc FROM visits WHERE id = $1").bind(id).fetch_optional(&db.pool).await?;
    let sealed = sealed.ok_or_else(|| StoreError::not_found(Thing::Visit, id))?;
    Ok(sealed.map(|s| db.vault.open(&s, &aad(id))).transpose()?)
}

/// Links a visit to the demand its finding became; a visit becomes one demand only.
pub async fn link_demand(db: &Db, id: &str, demand_id: &str) -> StoreResult<()> {
    let done = sqlx::query("UPDATE visits SET demand_id = $1 WHERE id = $2 AND demand_id IS NULL")
        .bind(demand_id)
        .bind(id)
        .execute(&db.pool)
        .await?;
    if done.rows_affected() == 0 {
        get(db, id).await?;
        return Err(StoreError::Conflict(msg!("visits.error.has_demand")));
    }
    Ok(())
}

/// How many days after its day a visit may still be edited, when its community
/// says nothing.
pub const DEFAULT_LOCK_DAYS: u16 = 7;

/// The community's edit window in days ([`DEFAULT_LOCK_DAYS`] unless set).
pub async fn lock_days(db: &Db, community_id: &str) -> StoreResult<u16> {
    let days: Option<Option<i64>> = sqlx::query_scalar("SELECT visit_lock_days FROM areas WHERE id = $1")
        .bind(community_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(days.flatten().map_or(DEFAULT_LOCK_DAYS, |d| d as u16))
}

/// Sets the community's edit window (0 to 366 days; none: back to the default).
pub async fn set_lock_days(db: &Db, community_id: &str, days: Option<u16>) -> StoreResult<()> {
    if let Some(d) = days
        && d > 366
    {
        return Err(bad(msg!("visits.error.lock_days", value = d).field("lock_days")));
    }
    sqlx::query("UPDATE areas SET visit_lock_days = $1 WHERE id = $2")
        .bind(days.map(i64::from))
        .bind(community_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The last day a visit may be edited under a window of `days`: counted from the
/// day it was recorded (China time), which is never before the day of the visit, so
/// that moving its day by an edit cannot reopen the window.
pub fn editable_until(visit: &Visit, days: u16) -> Date {
    crate::cockpit::day_of(visit.created_at) + Duration::days(i64::from(days))
}

/// What an edit may change: everything but where and who recorded it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct VisitEdit {
    #[schema(format = Uuid)]
    pub resident_id: Option<String>,
    pub channel: VisitChannel,
    pub outcome: VisitOutcome,
    #[schema(format = Date)]
    pub visited_on: String,
    #[serde(default)]
    pub purpose: String,
    /// Replaces what was found (empty: clears it).
    #[serde(default)]
    pub findings: String,
}

/// Edits a visit within its community's window ([`editable_until`]); refused
/// after, with the day it locked.
pub async fn edit(db: &Db, id: &str, e: VisitEdit, lock_days: u16, today: Date) -> StoreResult<Visit> {
    let before = get(db, id).await?;
    let until = editable_until(&before, lock_days);
    if today > until {
        return Err(StoreError::Conflict(msg!("visits.error.locked", days = lock_days, until = iso(until))));
    }
    if let Some(rid) = &e.resident_id {
        let lives: Option<String> = sqlx::query_scalar("SELECT household_id FROM residents WHERE id = $1")
            .bind(rid)
            .fetch_optional(&db.pool)
            .await?
            .flatten();
        if lives.as_deref() != Some(before.household_id.as_str()) {
            return Err(StoreError::not_found(Thing::Resident, rid));
        }
    }
    let on = day(&e.visited_on, "visited_on")?;
    if on > today {
        return Err(bad(msg!("visits.error.future", value = &e.visited_on).field("visited_on")));
    }
    let findings = e.findings.trim();
    let sealed = (!findings.is_empty()).then(|| db.vault.seal(findings, &aad(id)));
    sqlx::query(
        "UPDATE visits SET resident_id = $1, channel = $2, outcome = $3, visited_on = $4, purpose = $5,
                findings_enc = $6, updated_at = $7 WHERE id = $8",
    )
    .bind(&e.resident_id)
    .bind(e.channel.code())
    .bind(e.outcome.code())
    .bind(iso(on))
    .bind(e.purpose.trim())
    .bind(&sealed)
    .bind(now_millis())
    .bind(id)
    .execute(&db.pool)
    .await?;
    get(db, id).await
}

/// Declares a cold or heat spell over a community, both days included.
pub async fn declare_spell(
    db: &Db,
    community_id: &str,
    kind: &str,
    from: &str,
    to: &str,
    by_id: Option<&str>,
) -> StoreResult<String> {
    let (f, t) = (day(from, "from")?, day(to, "to")?);
    if t < f {
        return Err(bad(msg!("visits.error.period", from = from, to = to).field("to")));
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO care_spells (id, community_id, kind, from_on, to_on, by_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(community_id)
    .bind(kind)
    .bind(iso(f))
    .bind(iso(t))
    .bind(by_id)
    .bind(now_millis())
    .execute(&db.pool)
    .await?;
    Ok(id)
}

/// Suspends (`every_days` none) or shortens the cadences of one person or
/// household from `from` to `to` (none: until further notice), with a reason.
#[allow(clippy::too_many_arguments)]
pub async fn adjust(
    db: &Db,
    household_id: &str,
    resident_id: Option<&str>,
    every_days: Option<u16>,
    from: &str,
    to: Option<&str>,
    reason: &str,
    by_id: Option<&str>,
) -> StoreResult<String> {
    let household = crate::registry::households::get(db, household_id).await?;
    let f = day(from, "from")?;
    let t = to.map(|t| day(t, "to")).transpose()?;
    if t.is_some_and(|t| t < f) {
        return Err(bad(msg!("visits.error.period", from = from, to = to.unwrap_or_default()).field("to")));
    }
    if reason.trim().is_empty() {
        return Err(bad(msg!("visits.error.reason").field("reason")));
    }
    if every_days == Some(0) {
        return Err(bad(msg!("visits.error.every_days", value = 0).field("every_days")));
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO visit_adjustments (id, path, household_id, resident_id, every_days, from_on, to_on, reason, by_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(&household.path)
    .bind(&household.id)
    .bind(resident_id)
    .bind(every_days.map(i64::from))
    .bind(iso(f))
    .bind(t.map(iso))
    .bind(reason.trim())
    .bind(by_id)
    .bind(now_millis())
    .execute(&db.pool)
    .await?;
    Ok(id)
}

/// A suspended, ended or shortened cadence of a person or household, as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct AdjustmentLine {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub household_id: String,
    /// The person (none: the whole household).
    #[schema(format = Uuid)]
    pub resident_id: Option<String>,
    pub name: Option<String>,
    pub building: String,
    pub unit: String,
    pub room: String,
    /// `suspended` (until a day), `ended` (no end: until further notice) or
    /// `shortened` (visited every `every_days` days).
    pub kind: String,
    pub every_days: Option<u16>,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: Option<String>,
    pub reason: String,
}

/// The adjustments under `path` still in force on `today` or to come (ended ones
/// always), in walking order.
pub async fn adjustments(db: &Db, path: &str, today: Date) -> StoreResult<Vec<AdjustmentLine>> {
    let (lo, hi) = subtree_bounds(path);
    let rows = sqlx::query(
        "SELECT a.id, a.household_id, a.resident_id, r.name, b.number, h.unit, h.room, a.every_days, a.from_on,
                a.to_on, a.reason
         FROM visit_adjustments a JOIN households h ON h.id = a.household_id JOIN buildings b ON b.id = h.building_id
         LEFT JOIN residents r ON r.id = a.resident_id
         WHERE a.path >= $1 AND a.path < $2 AND (a.to_on IS NULL OR a.to_on >= $3)",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(iso(today))
    .fetch_all(&db.pool)
    .await?;
    let mut out = rows
        .iter()
        .map(|r| {
            let every: Option<i64> = r.try_get("every_days")?;
            let to: Option<String> = r.try_get("to_on")?;
            let kind = match (every, &to) {
                (Some(_), _) => "shortened",
                (None, Some(_)) => "suspended",
                (None, None) => "ended",
            };
            Ok(AdjustmentLine {
                id: r.try_get("id")?,
                household_id: r.try_get("household_id")?,
                resident_id: r.try_get("resident_id")?,
                name: r.try_get("name")?,
                building: r.try_get("number")?,
                unit: r.try_get("unit")?,
                room: r.try_get("room")?,
                kind: kind.to_owned(),
                every_days: every.map(|d| d as u16),
                from: r.try_get("from_on")?,
                to,
                reason: r.try_get("reason")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    out.sort_by(|a, b| {
        walking(&a.building)
            .cmp(&walking(&b.building))
            .then_with(|| walking(&a.unit).cmp(&walking(&b.unit)))
            .then_with(|| walking(&a.room).cmp(&walking(&b.room)))
            .then_with(|| a.from.cmp(&b.from))
    });
    Ok(out)
}

/// The due list of a grid (or any subtree) of `community_id` on `today`: every
/// subject due today or overdue under one of the community's cadences, in walking
/// order (building, unit, room), overdue first within a door.
pub async fn due(db: &Db, path: &str, community_id: &str, today: Date) -> StoreResult<Vec<DueEntry>> {
    due_within(db, path, community_id, today, 0).await
}

/// [`due`], with those coming due in the next `ahead` days too (for reminders).
pub async fn due_within(
    db: &Db,
    path: &str,
    community_id: &str,
    today: Date,
    ahead: i64,
) -> StoreResult<Vec<DueEntry>> {
    let horizon = today + Duration::days(ahead);
    let rules = cadences(db, community_id).await?;
    let (lo, hi) = subtree_bounds(path);
    let longest = rules.iter().map(|r| r.cadence.every_days).max().unwrap_or(0);
    let window_start = iso(today - Duration::days(i64::from(longest) + 1));

    let households = sqlx::query(
        "SELECT h.id, h.unit, h.room, h.created_at, b.number FROM households h JOIN buildings b ON b.id = h.building_id
         WHERE h.path >= $1 AND h.path < $2 AND h.occupancy <> 'vacant'",
    )
    .bind(&lo)
    .bind(&hi)
    .fetch_all(&db.pool)
    .await?;
    // Tags are named in Rust, not joined: with `tags` in the join SQLite's planner
    // (no statistics) started from the tag and walked every tagged person of the
    // city — 8 s at a million residents; from the path index it is one grid's people.
    let tag_codes: HashMap<String, String> = sqlx::query("SELECT id, code FROM tags")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("code")?)))
        .collect::<StoreResult<_>>()?;
    let people = sqlx::query(
        "SELECT r.id, r.name, r.household_id, rt.tag_id FROM residents r
         JOIN resident_tags rt ON rt.resident_id = r.id
         WHERE r.path >= $1 AND r.path < $2 AND r.status = 'active' AND r.household_id IS NOT NULL",
    )
    .bind(&lo)
    .bind(&hi)
    .fetch_all(&db.pool)
    .await?;
    let visits = sqlx::query(
        "SELECT household_id, resident_id, channel, visited_on FROM visits
         WHERE path >= $1 AND path < $2 AND visited_on >= $3 AND outcome = 'met'",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(&window_start)
    .fetch_all(&db.pool)
    .await?;
    let adjustments = sqlx::query(
        "SELECT household_id, resident_id, every_days, from_on, to_on FROM visit_adjustments
         WHERE path >= $1 AND path < $2",
    )
    .bind(&lo)
    .bind(&hi)
    .fetch_all(&db.pool)
    .await?;
    let spells: Vec<Period> =
        sqlx::query("SELECT from_on, to_on FROM care_spells WHERE community_id = $1 AND to_on >= $2")
            .bind(community_id)
            .bind(iso(today))
            .fetch_all(&db.pool)
            .await?
            .iter()
            .map(|r| -> StoreResult<Period> {
                let (f, t): (String, String) = (r.try_get("from_on")?, r.try_get("to_on")?);
                Ok(Period { from: day(&f, "from")?, to: Some(day(&t, "to")?) })
            })
            .collect::<StoreResult<_>>()?;

    // Contacts: a door or video visit reaches everyone in the household; a call or a
    // chance meeting only the person met — and the household's own cadence, which
    // any contact with one of its people settles.
    let mut with_household: HashMap<String, Vec<Contact>> = HashMap::new();
    let mut with_everyone: HashMap<String, Vec<Contact>> = HashMap::new();
    let mut by_person: HashMap<String, Vec<Contact>> = HashMap::new();
    for v in &visits {
        let channel: VisitChannel = crate::demands::vocab(v, "channel")?;
        let on: String = v.try_get("visited_on")?;
        let contact = Contact { on: day(&on, "visited_on")?, channel };
        let household: String = v.try_get("household_id")?;
        let person: Option<String> = v.try_get("resident_id")?;
        with_household.entry(household.clone()).or_default().push(contact);
        if channel.reaches_household() {
            with_everyone.entry(household).or_default().push(contact);
        } else if let Some(p) = person {
            by_person.entry(p).or_default().push(contact);
        }
    }
    let mut adjusted: HashMap<(String, Option<String>), Vec<Adjustment>> = HashMap::new();
    for a in &adjustments {
        let (f, t): (String, Option<String>) = (a.try_get("from_on")?, a.try_get("to_on")?);
        let period = Period { from: day(&f, "from")?, to: t.map(|t| day(&t, "to")).transpose()? };
        let every: Option<i64> = a.try_get("every_days")?;
        let key = (a.try_get::<String, _>("household_id")?, a.try_get::<Option<String>, _>("resident_id")?);
        adjusted.entry(key).or_default().push(match every {
            None => Adjustment::Suspend(period),
            Some(days) => Adjustment::Every { days: days as u16, period },
        });
    }

    struct Door {
        building: String,
        unit: String,
        room: String,
        since: Date,
    }
    let mut doors: HashMap<String, Door> = HashMap::new();
    for h in &households {
        let created: i64 = h.try_get("created_at")?;
        let since = time::OffsetDateTime::from_unix_timestamp(created / 1000)
            .map(|t| t.to_offset(wangge_domain::demands::CHINA).date())
            .unwrap_or(today);
        doors.insert(
            h.try_get("id")?,
            Door { building: h.try_get("number")?, unit: h.try_get("unit")?, room: h.try_get("room")?, since },
        );
    }

    let mut out = Vec::new();
    let mut push = |subject: Subject, household_id: &str, rule: &CadenceRule, s: Standing, door: &Door| {
        if let Standing::Due(due) = s
            && due <= horizon
        {
            out.push(DueEntry {
                subject,
                household_id: household_id.to_owned(),
                building: door.building.clone(),
                unit: door.unit.clone(),
                room: door.room.clone(),
                cadence_id: rule.id.clone(),
                tag: rule.tag.clone(),
                channels: rule.cadence.channels.clone(),
                every_days: rule.cadence.every_days,
                due_on: iso(due),
                overdue_days: s.overdue_days(today),
            });
        }
    };
    let none: Vec<Contact> = Vec::new();
    let no_adjustments: Vec<Adjustment> = Vec::new();
    for rule in rules.iter().filter(|r| r.tag.is_none()) {
        for (id, door) in &doors {
            let contacts = with_household.get(id).unwrap_or(&none);
            let adj = adjusted.get(&(id.clone(), None)).unwrap_or(&no_adjustments);
            let since = door.since.max(today - Duration::days(i64::from(rule.cadence.every_days)));
            let s = standing(&rule.cadence, contacts, since, today, &spells, adj);
            push(Subject::Household, id, rule, s, door);
        }
    }
    for p in &people {
        let tag_id: String = p.try_get("tag_id")?;
        let Some(tag) = tag_codes.get(&tag_id) else { continue };
        let Some(rule) = rules.iter().find(|r| r.tag.as_deref() == Some(tag.as_str())) else { continue };
        let (pid, name, hid): (String, String, String) =
            (p.try_get("id")?, p.try_get("name")?, p.try_get("household_id")?);
        let Some(door) = doors.get(&hid) else { continue };
        let mut contacts = with_everyone.get(&hid).cloned().unwrap_or_default();
        contacts.extend(by_person.get(&pid).into_iter().flatten().copied());
        let mut adj = adjusted.get(&(hid.clone(), None)).cloned().unwrap_or_default();
        adj.extend(adjusted.get(&(hid.clone(), Some(pid.clone()))).into_iter().flatten().copied());
        let since = door.since.max(today - Duration::days(i64::from(rule.cadence.every_days)));
        let s = standing(&rule.cadence, &contacts, since, today, &spells, &adj);
        push(Subject::Person { resident_id: pid, name }, &hid, rule, s, door);
    }
    out.sort_by(|a, b| {
        walking(&a.building)
            .cmp(&walking(&b.building))
            .then_with(|| walking(&a.unit).cmp(&walking(&b.unit)))
            .then_with(|| walking(&a.room).cmp(&walking(&b.room)))
            .then_with(|| b.overdue_days.cmp(&a.overdue_days))
    });
    Ok(out)
}

/// Sorts "2" before "10" (numbers by value), then text.
fn walking(s: &str) -> (u64, &str) {
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    (digits.parse().unwrap_or(u64::MAX), s)
}

/// Coverage of the subtree at `path` over the `days` ending `today`.
///
/// From the roll-up of occupied households by the last day met, kept at every
/// level (`household_met_days`, migration 0067): the rows of the area's own path,
/// a few hundred however large the area. A household whose last day lies in the
/// window was met in it; one whose last day lies before it, or never met, was not.
/// Only when some household was met *after* the window's end (a window ending in
/// the past: a report, the trend) are the households asked one by one
/// ([`coverage_from_households`]); for the window ending today there are none,
/// since no visit lies ahead. A district of 34,000 households: 10–50 ms on
/// PostgreSQL by the households, under a millisecond by the roll-up
/// (docs/benchmarks.md).
pub async fn coverage(db: &Db, path: &str, today: Date, days: u16) -> StoreResult<Coverage> {
    let from = iso(today - Duration::days(i64::from(days) - 1));
    let row = sqlx::query(
        "SELECT CAST(SUM(CASE WHEN channel = 'any' THEN n ELSE 0 END) AS BIGINT) AS households,
                CAST(SUM(CASE WHEN channel = 'any' AND met_on >= $2 AND met_on <= $3 THEN n ELSE 0 END) AS BIGINT)
                    AS visited,
                CAST(SUM(CASE WHEN channel = 'door' AND met_on >= $2 AND met_on <= $3 THEN n ELSE 0 END) AS BIGINT)
                    AS at_door,
                CAST(SUM(CASE WHEN met_on > $3 THEN n ELSE 0 END) AS BIGINT) AS later
         FROM household_met_days WHERE path = $1",
    )
    .bind(path)
    .bind(&from)
    .bind(iso(today))
    .fetch_one(&db.pool)
    .await?;
    let later: Option<i64> = row.try_get("later")?;
    if later.unwrap_or(0) != 0 {
        return coverage_from_households(db, path, today, days).await;
    }
    let households = row.try_get::<Option<i64>, _>("households")?.unwrap_or(0).max(0) as u64;
    let visited = row.try_get::<Option<i64>, _>("visited")?.unwrap_or(0).max(0) as u64;
    let at_door = row.try_get::<Option<i64>, _>("at_door")?.unwrap_or(0).max(0) as u64;
    Ok(Coverage { households, visited, visited_at_door: at_door, not_visited: households - visited, days })
}

/// [`coverage`] by one pass over the households under the path, from the index
/// `households_path_met` alone (migration 0035): each household keeps the last day
/// someone was met there (`last_met_on`) and met at the door (`last_door_on`),
/// kept by triggers on `visits`. A household met after the window's end asks its
/// visits whether one fell inside (`EXISTS` on `visits_household_met`). Three counts
/// with `EXISTS` each took 0.55 s for a street at a million residents
/// (docs/benchmarks.md).
pub(crate) async fn coverage_from_households(db: &Db, path: &str, today: Date, days: u16) -> StoreResult<Coverage> {
    let (lo, hi) = subtree_bounds(path);
    let from = iso(today - Duration::days(i64::from(days) - 1));
    let row = sqlx::query(
        "SELECT COUNT(*) AS households,
                SUM(CASE WHEN h.last_met_on IS NULL OR h.last_met_on < $3 THEN 0
                         WHEN h.last_met_on <= $4 THEN 1
                         WHEN EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id
                                        AND v.visited_on >= $3 AND v.visited_on <= $4 AND v.outcome = 'met') THEN 1
                         ELSE 0 END) AS visited,
                SUM(CASE WHEN h.last_door_on IS NULL OR h.last_door_on < $3 THEN 0
                         WHEN h.last_door_on <= $4 THEN 1
                         WHEN EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id
                                        AND v.visited_on >= $3 AND v.visited_on <= $4 AND v.outcome = 'met'
                                        AND v.channel = 'door') THEN 1
                         ELSE 0 END) AS at_door
         FROM households h
         WHERE h.path >= $1 AND h.path < $2 AND h.occupancy <> 'vacant'",
    )
    .persistent(false) // a range of paths: planned with its values (`Conditions::query`)
    .bind(&lo)
    .bind(&hi)
    .bind(&from)
    .bind(iso(today))
    .fetch_one(&db.pool)
    .await?;
    let households: i64 = row.try_get("households")?;
    let visited: Option<i64> = row.try_get("visited")?;
    let at_door: Option<i64> = row.try_get("at_door")?;
    let (households, visited) = (households as u64, visited.unwrap_or(0) as u64);
    Ok(Coverage {
        households,
        visited,
        visited_at_door: at_door.unwrap_or(0) as u64,
        not_visited: households - visited,
        days,
    })
}

/// A visit of the past, for the demo and benchmarks: written in bulk by
/// [`record_past`], its findings sealed there.
#[derive(Clone, Debug)]
pub struct PastVisit {
    pub id: String,
    pub path: String,
    pub household_id: String,
    pub resident_id: Option<String>,
    pub channel: VisitChannel,
    pub outcome: VisitOutcome,
    /// `YYYY-MM-DD`.
    pub visited_on: String,
    pub purpose: String,
    /// In plain text here; sealed on the way in.
    pub findings: Option<String>,
    pub visitor_name: String,
    pub created_at: i64,
}

pub(crate) const PAST_COLUMNS: &str = "id, path, household_id, resident_id, channel, outcome, visited_on, purpose, findings_enc, \
                            visitor_name, paper, created_at";

/// What was found at each of `past`, sealed as [`record_past`] seals it (none where
/// nothing was): `generate` seals on its drawing thread, before the SQLite writer
/// (`bulk_sqlite::SqliteBulkTx::visits`) sees the rows.
pub fn seal_findings(vault: &crate::vault::Vault, past: &[PastVisit]) -> Vec<Option<String>> {
    past.iter().map(|v| v.findings.as_deref().map(|f| vault.seal(f, &aad(&v.id)))).collect()
}

/// Writes past visits in multi-row statements on `conn` (a transaction of the
/// caller's), sealing what was found.
pub async fn record_past(
    conn: &mut sqlx::AnyConnection,
    vault: &crate::vault::Vault,
    past: &[PastVisit],
) -> StoreResult<()> {
    let sealed: Vec<(&PastVisit, Option<String>)> = past.iter().zip(seal_findings(vault, past)).collect();
    crate::bulk::insert_chunked(conn, "visits", PAST_COLUMNS, &sealed, |q, (v, findings)| {
        q.bind(&v.id)
            .bind(&v.path)
            .bind(&v.household_id)
            .bind(&v.resident_id)
            .bind(v.channel.code())
            .bind(v.outcome.code())
            .bind(&v.visited_on)
            .bind(&v.purpose)
            .bind(findings)
            .bind(&v.visitor_name)
            .bind(0_i16)
            .bind(v.created_at)
    })
    .await
}

/// How many visits are recorded in all (the benchmark's headline).
pub async fn count(db: &Db) -> StoreResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM visits").fetch_one(&db.pool).await?)
}
