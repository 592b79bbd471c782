//! Organisational life (三会一课, issue 23): the meetings of a Party organisation
//! with each member's attendance, minutes and photos; the frequencies it keeps
//! (the 条例's defaults, `wangge_domain::party_life::default_months`, or its own);
//! its compliance over a year; a branch's yearly record; what is behind at the end
//! of a month or quarter and which terms end soon, each alert claimed once in
//! `party_life_alerts`. docs/party.md gives the rules and the formula:
//!
//! - a rule "a committee meeting every month" requires each month of the year that
//!   is over to hold at least one committee meeting of the branch (or, for group
//!   meetings, of one of its groups);
//! - compliance = required periods holding a meeting ÷ required periods, over
//!   every kind the organisation keeps.
//!
//! A meeting belongs to the month and quarter holding its time in China.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::Date;
use utoipa::ToSchema;
use wangge_domain::party::{MemberStatus, OrgKind, Period, china_day};
use wangge_domain::party_life::{self as life, Attendance, MeetingKind};
use wangge_domain::{Vocabulary, format_date, msg, new_id, now_millis, parse_date};

use super::{MemberFilter, Org, bad, free, line, members_under, org, term};
use crate::{Db, StoreError, StoreResult, Thing};

/// Photos a meeting keeps at most.
pub const MAX_PHOTOS: usize = 3;

/// A member's attendance at a meeting.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AttendanceLine {
    #[schema(format = Uuid)]
    pub member_id: String,
    pub name: String,
    pub status: Attendance,
    pub reason: Option<String>,
}

/// A meeting as recorded.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Meeting {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub org_id: String,
    pub org_name: String,
    #[schema(format = Uuid)]
    pub community_id: String,
    pub path: String,
    pub kind: MeetingKind,
    /// Unix ms.
    pub held_at: i64,
    pub place: String,
    pub topic: String,
    pub minutes: String,
    pub recorded_by_name: String,
    pub attendance: Vec<AttendanceLine>,
    /// Photo ids.
    pub photos: Vec<String>,
}

impl Meeting {
    /// Present, excused, absent.
    pub fn counts(&self) -> (i64, i64, i64) {
        let n = |s: Attendance| self.attendance.iter().filter(|a| a.status == s).count() as i64;
        (n(Attendance::Present), n(Attendance::Excused), n(Attendance::Absent))
    }
}

/// A meeting to record. Members of the organisation not named are absent.
#[derive(Clone, Debug)]
pub struct NewMeeting {
    pub org_id: String,
    pub kind: MeetingKind,
    pub held_at: i64,
    pub place: String,
    pub topic: String,
    pub minutes: String,
    /// (member id, attendance, reason when excused).
    pub attendance: Vec<(String, Attendance, Option<String>)>,
}

const MEETING: &str = "SELECT g.id, g.org_id, o.name AS org_name, g.community_id, g.path, g.kind, g.held_at, g.place,
        g.topic, g.minutes, g.recorded_by_name
     FROM party_meetings g JOIN party_orgs o ON o.id = g.org_id";

fn meeting_from(r: &AnyRow) -> StoreResult<Meeting> {
    Ok(Meeting {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        community_id: r.try_get("community_id")?,
        path: r.try_get("path")?,
        kind: term(r, "kind")?,
        held_at: r.try_get("held_at")?,
        place: r.try_get("place")?,
        topic: r.try_get("topic")?,
        minutes: r.try_get("minutes")?,
        recorded_by_name: r.try_get("recorded_by_name")?,
        attendance: Vec::new(),
        photos: Vec::new(),
    })
}

/// The groups directly under an organisation.
async fn groups_of(db: &Db, org_id: &str) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM party_orgs WHERE parent_id = $1 AND kind = 'group' ORDER BY id")
        .bind(org_id)
        .fetch_all(&db.pool)
        .await?)
}

/// The members who attend an organisation's meetings: its active members and
/// those of its groups, by name.
pub async fn attendees(db: &Db, o: &Org) -> StoreResult<Vec<super::Member>> {
    let mut out = Vec::new();
    let mut orgs = vec![o.id.clone()];
    orgs.extend(groups_of(db, &o.id).await?);
    let community = crate::registry::areas::get(db, &o.community_id).await?;
    for id in orgs {
        let filter = MemberFilter { org_id: Some(id), status: Some(MemberStatus::Active), ..MemberFilter::default() };
        // Members sit on their grid's path, which may be under the community the
        // organisation is placed on: read them under the community.
        out.extend(members_under(db, &community.path, &filter).await?);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// Records a meeting with its attendance and up to [`MAX_PHOTOS`] photos, in one
/// transaction.
pub async fn record(db: &Db, new: NewMeeting, photos: &[Vec<u8>], by: &str, now: i64) -> StoreResult<Meeting> {
    let o = org(db, &new.org_id).await?;
    if o.kind == OrgKind::Group && new.kind != MeetingKind::Group {
        return Err(bad(msg!("party.life.error.group_kind").field("kind")));
    }
    if new.held_at > now {
        return Err(bad(msg!("party.life.error.future").field("held_at")));
    }
    let place = line(&new.place, "place", 100)?;
    let topic = line(&new.topic, "topic", 200)?;
    let minutes = free(&new.minutes, "minutes", 10_000)?;
    let checked = super::check_photos(photos, MAX_PHOTOS)?;
    let members = attendees(db, &o).await?;
    let given: HashMap<&str, (Attendance, Option<String>)> =
        new.attendance.iter().map(|(m, a, r)| (m.as_str(), (*a, r.clone()))).collect();
    let known: HashSet<&str> = members.iter().map(|m| m.id.as_str()).collect();
    if let Some((stranger, _)) = given.iter().find(|(m, _)| !known.contains(*m)) {
        return Err(StoreError::not_found(Thing::PartyMember, stranger));
    }
    let mut lines = Vec::with_capacity(members.len());
    for m in &members {
        let (status, reason) = given.get(m.id.as_str()).cloned().unwrap_or((Attendance::Absent, None));
        let reason = reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
        if status == Attendance::Excused && reason.is_none() {
            return Err(bad(msg!("party.life.error.reason", name = &m.name).field("attendance")));
        }
        if reason.as_ref().is_some_and(|r| r.chars().count() > 200) {
            return Err(bad(msg!("party.error.too_long", most = 200).field("attendance")));
        }
        lines.push((m.id.clone(), status, if status == Attendance::Excused { reason } else { None }));
    }
    let id = new_id();
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO party_meetings (id, community_id, org_id, path, kind, held_at, place, topic, minutes,
             recorded_by_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(&o.community_id)
    .bind(&o.id)
    .bind(&o.path)
    .bind(new.kind.code())
    .bind(new.held_at)
    .bind(&place)
    .bind(&topic)
    .bind(&minutes)
    .bind(by)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    for (member, status, reason) in &lines {
        sqlx::query("INSERT INTO party_attendance (meeting_id, member_id, status, reason) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(member)
            .bind(status.code())
            .bind(reason)
            .execute(&mut *tx)
            .await?;
    }
    super::store_photos(&mut tx, "party_meeting_photos", "meeting_id", &id, &checked).await?;
    tx.commit().await?;
    meeting(db, &id).await
}

async fn attendance_of(db: &Db, meeting_id: &str) -> StoreResult<Vec<AttendanceLine>> {
    let rows = sqlx::query(
        "SELECT a.member_id, m.name, a.status, a.reason FROM party_attendance a
         JOIN party_members m ON m.id = a.member_id WHERE a.meeting_id = $1 ORDER BY m.name, m.id",
    )
    .bind(meeting_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AttendanceLine {
                member_id: r.try_get("member_id")?,
                name: r.try_get("name")?,
                status: term(r, "status")?,
                reason: r.try_get("reason")?,
            })
        })
        .collect()
}

/// One meeting with its attendance and photos.
pub async fn meeting(db: &Db, id: &str) -> StoreResult<Meeting> {
    let sql = format!("{MEETING} WHERE g.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    let mut m = meeting_from(&row.ok_or_else(|| StoreError::not_found(Thing::PartyMeeting, id))?)?;
    m.attendance = attendance_of(db, id).await?;
    m.photos = sqlx::query_scalar("SELECT id FROM party_meeting_photos WHERE meeting_id = $1 ORDER BY created_at, id")
        .bind(id)
        .fetch_all(&db.pool)
        .await?;
    Ok(m)
}

/// The meetings of an organisation and its groups held in `[from, to)` (Unix ms),
/// oldest first, each with its attendance.
pub async fn meetings_of(db: &Db, org_id: &str, from: i64, to: i64) -> StoreResult<Vec<Meeting>> {
    let mut orgs = vec![org_id.to_owned()];
    orgs.extend(groups_of(db, org_id).await?);
    let mut out = Vec::new();
    for o in &orgs {
        let sql = format!("{MEETING} WHERE g.org_id = $1 AND g.held_at >= $2 AND g.held_at < $3");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(o).bind(from).bind(to).fetch_all(&db.pool).await?;
        for r in &rows {
            out.push(meeting_from(r)?);
        }
    }
    out.sort_by(|a, b| a.held_at.cmp(&b.held_at).then(a.id.cmp(&b.id)));
    for m in &mut out {
        m.attendance = attendance_of(db, &m.id).await?;
    }
    Ok(out)
}

/// A meeting's photo: its meeting, content type and bytes.
pub async fn photo(db: &Db, id: &str) -> StoreResult<(String, String, Vec<u8>)> {
    let row = sqlx::query("SELECT meeting_id, content_type, data FROM party_meeting_photos WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Thing::PartyPhoto, id))?;
    Ok((row.try_get("meeting_id")?, row.try_get("content_type")?, row.try_get("data")?))
}

// ---- frequencies and terms ----

/// How often an organisation must hold a kind of meeting.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
pub struct Rule {
    pub kind: MeetingKind,
    /// Every so many months; none when not required.
    pub months: Option<u8>,
    /// Whether it is the default (no frequency of its own set).
    pub default: bool,
}

/// Whether an organisation has groups under it.
async fn has_groups(db: &Db, org_id: &str) -> StoreResult<bool> {
    Ok(!groups_of(db, org_id).await?.is_empty())
}

/// The frequencies an organisation keeps, every kind in order.
pub async fn rules(db: &Db, o: &Org) -> StoreResult<Vec<Rule>> {
    let set: HashMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>("SELECT kind, months FROM party_life_rules WHERE org_id = $1")
            .bind(&o.id)
            .fetch_all(&db.pool)
            .await?
            .into_iter()
            .collect();
    let groups = has_groups(db, &o.id).await?;
    Ok(MeetingKind::all()
        .iter()
        .map(|&kind| match set.get(kind.code()) {
            Some(&m) => Rule { kind, months: u8::try_from(m).ok().filter(|m| *m > 0), default: false },
            None => Rule { kind, months: life::default_months(o.kind, kind, groups), default: true },
        })
        .collect())
}

/// An organisation's term: its first day and length in years.
pub async fn term_of(db: &Db, org_id: &str) -> StoreResult<(Option<Date>, u8)> {
    let (start, years): (Option<String>, i64) =
        sqlx::query_as("SELECT term_start, term_years FROM party_orgs WHERE id = $1")
            .bind(org_id)
            .fetch_optional(&db.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Thing::PartyOrg, org_id))?;
    Ok((start.as_deref().and_then(parse_date), u8::try_from(years).unwrap_or(life::DEFAULT_TERM_YEARS)))
}

/// Sets an organisation's frequencies (`None`: back to the default; `Some(0)`: not
/// required) and its term, in one transaction.
pub async fn save_rules(
    db: &Db,
    org_id: &str,
    rules: &[(MeetingKind, Option<u8>)],
    term_start: Option<Date>,
    term_years: u8,
) -> StoreResult<()> {
    org(db, org_id).await?;
    for (_, months) in rules {
        if let Some(m) = months
            && *m != 0
            && !life::valid_months(*m)
        {
            return Err(bad(msg!("party.life.error.months", value = m).field("months")));
        }
    }
    if !(1..=10).contains(&term_years) {
        return Err(bad(msg!("party.life.error.term_years", value = term_years).field("term_years")));
    }
    let now = now_millis();
    let mut tx = db.pool.begin().await?;
    for (kind, months) in rules {
        sqlx::query("DELETE FROM party_life_rules WHERE org_id = $1 AND kind = $2")
            .bind(org_id)
            .bind(kind.code())
            .execute(&mut *tx)
            .await?;
        if let Some(m) = months {
            sqlx::query("INSERT INTO party_life_rules (org_id, kind, months, updated_at) VALUES ($1, $2, $3, $4)")
                .bind(org_id)
                .bind(kind.code())
                .bind(i64::from(*m))
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
    }
    sqlx::query("UPDATE party_orgs SET term_start = $1, term_years = $2, updated_at = $3 WHERE id = $4")
        .bind(term_start.map(format_date))
        .bind(i64::from(term_years))
        .bind(now)
        .bind(org_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

// ---- compliance ----

/// A kind's share of an organisation's compliance over a year.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct KindCompliance {
    pub kind: MeetingKind,
    pub months: u8,
    /// Periods over (`2026-03`, `2026Q1`) that required a meeting.
    pub required: i64,
    /// Of those, the ones that held one.
    pub held: i64,
    /// The ones that held none.
    pub missed: Vec<String>,
    /// Meetings of the kind in the year, whether required or not.
    pub meetings: i64,
}

/// An organisation's compliance over a year, as far as it is over.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Compliance {
    pub org: Org,
    pub year: i32,
    /// The day it was read on: periods over by then count.
    #[schema(format = Date)]
    pub as_of: String,
    pub kinds: Vec<KindCompliance>,
    pub held: i64,
    pub required: i64,
    /// `[held, required]`; none when nothing was required yet.
    pub rate: Option<(i64, i64)>,
}

/// The periods (labels) holding at least one meeting of `kind` among `meetings`,
/// for periods of `months`.
fn periods_held(meetings: &[Meeting], kind: MeetingKind, months: u8) -> HashSet<String> {
    meetings.iter().filter(|m| m.kind == kind).map(|m| Period::at(m.held_at, months).label()).collect()
}

/// The compliance of `o` in `year`, read on `today` (China): for each kind it
/// keeps, the periods of the year over by `today` (and ending after the
/// organisation was entered), and those that held a meeting.
pub async fn compliance(db: &Db, o: &Org, year: i32, today: Date) -> StoreResult<Compliance> {
    let (from, to) = year_millis(year);
    let meetings = meetings_of(db, &o.id, from, to).await?;
    compliance_of(db, o, year, today, &meetings).await
}

async fn compliance_of(db: &Db, o: &Org, year: i32, today: Date, meetings: &[Meeting]) -> StoreResult<Compliance> {
    // Periods over before the organisation was entered are not asked about.
    let entered: i64 =
        sqlx::query_scalar("SELECT created_at FROM party_orgs WHERE id = $1").bind(&o.id).fetch_one(&db.pool).await?;
    let mut kinds = Vec::new();
    for rule in rules(db, o).await? {
        let Some(months) = rule.months else { continue };
        let mut periods = life::required_periods(months, year, today);
        periods.retain(|p| p.millis().1 > entered);
        let held = periods_held(meetings, rule.kind, months);
        let missed: Vec<String> = periods.iter().map(Period::label).filter(|l| !held.contains(l)).collect();
        kinds.push(KindCompliance {
            kind: rule.kind,
            months,
            required: periods.len() as i64,
            held: (periods.len() - missed.len()) as i64,
            missed,
            meetings: meetings.iter().filter(|m| m.kind == rule.kind).count() as i64,
        });
    }
    let held = kinds.iter().map(|k| k.held).sum();
    let required = kinds.iter().map(|k| k.required).sum();
    Ok(Compliance {
        org: o.clone(),
        year,
        as_of: format_date(today),
        kinds,
        held,
        required,
        rate: life::compliance(held, required),
    })
}

/// `[1 January, next 1 January)` of `year` in Unix ms, China time.
pub fn year_millis(year: i32) -> (i64, i64) {
    let p = Period { year, first_month: 1, months: 12 };
    p.millis()
}

/// The organisations that keep the rules (branches, general branches) at or
/// under `path`, by name.
pub async fn branches_under(db: &Db, path: &str) -> StoreResult<Vec<Org>> {
    Ok(super::orgs_under(db, path).await?.into_iter().map(|(_, o)| o).filter(|o| life::keeps_rules(o.kind)).collect())
}

/// A member's attendance over a year.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MemberAttendance {
    #[schema(format = Uuid)]
    pub member_id: String,
    pub name: String,
    pub present: i64,
    pub excused: i64,
    pub absent: i64,
    /// `[present, meetings they were expected at]`.
    pub rate: Option<(i64, i64)>,
}

/// A branch's yearly record: every meeting, each member's attendance, and the
/// compliance with what was missed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct YearRecord {
    pub compliance: Compliance,
    pub meetings: Vec<Meeting>,
    pub members: Vec<MemberAttendance>,
}

/// The yearly record of `o` for `year`, read on `today`.
pub async fn year_record(db: &Db, o: &Org, year: i32, today: Date) -> StoreResult<YearRecord> {
    let (from, to) = year_millis(year);
    let meetings = meetings_of(db, &o.id, from, to).await?;
    let compliance = compliance_of(db, o, year, today, &meetings).await?;
    let mut by: HashMap<String, MemberAttendance> = HashMap::new();
    for m in &meetings {
        for a in &m.attendance {
            let e = by.entry(a.member_id.clone()).or_insert_with(|| MemberAttendance {
                member_id: a.member_id.clone(),
                name: a.name.clone(),
                present: 0,
                excused: 0,
                absent: 0,
                rate: None,
            });
            match a.status {
                Attendance::Present => e.present += 1,
                Attendance::Excused => e.excused += 1,
                Attendance::Absent => e.absent += 1,
            }
        }
    }
    for m in attendees(db, o).await? {
        by.entry(m.id.clone()).or_insert_with(|| MemberAttendance {
            member_id: m.id.clone(),
            name: m.name.clone(),
            present: 0,
            excused: 0,
            absent: 0,
            rate: None,
        });
    }
    let mut members: Vec<MemberAttendance> = by.into_values().collect();
    for m in &mut members {
        let of = m.present + m.excused + m.absent;
        m.rate = (of > 0).then_some((m.present, of));
    }
    members.sort_by(|a, b| a.name.cmp(&b.name).then(a.member_id.cmp(&b.member_id)));
    Ok(YearRecord { compliance, meetings, members })
}

// ---- alerts ----

/// A kind of meeting an organisation held none of in a period that is over.
#[derive(Clone, Debug)]
pub struct Behind {
    pub org: Org,
    pub kind: MeetingKind,
    pub period: Period,
}

/// What is behind on `today` (China) and not alerted yet: for each organisation
/// that keeps the rules and each kind it keeps, the last period of the rule that
/// is over, when it held no meeting of the kind (organisations created after the
/// period ended are not asked about it).
pub async fn behind(db: &Db, today: Date) -> StoreResult<Vec<Behind>> {
    let ids: Vec<(String, i64)> = sqlx::query_as(
        "SELECT id, created_at FROM party_orgs WHERE kind IN ('branch', 'general_branch') ORDER BY community_id, name",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for (id, created_at) in ids {
        let o = org(db, &id).await?;
        for rule in rules(db, &o).await? {
            let Some(months) = rule.months else { continue };
            let period = life::last_complete(months, today);
            let (from, to) = period.millis();
            if created_at >= to || alerted(db, &o.id, rule.kind.code(), &period.label()).await? {
                continue;
            }
            let mut orgs = vec![o.id.clone()];
            orgs.extend(groups_of(db, &o.id).await?);
            let mut held = 0;
            for g in &orgs {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM party_meetings WHERE org_id = $1 AND kind = $2 AND held_at >= $3
                     AND held_at < $4",
                )
                .bind(g)
                .bind(rule.kind.code())
                .bind(from)
                .bind(to)
                .fetch_one(&db.pool)
                .await?;
                held += n;
            }
            if held == 0 {
                out.push(Behind { org: o.clone(), kind: rule.kind, period });
            }
        }
    }
    Ok(out)
}

async fn alerted(db: &Db, org_id: &str, what: &str, period: &str) -> StoreResult<bool> {
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM party_life_alerts WHERE org_id = $1 AND what = $2 AND period = $3")
            .bind(org_id)
            .bind(what)
            .bind(period)
            .fetch_one(&db.pool)
            .await?;
    Ok(n > 0)
}

/// Claims an alert (`what`: a meeting kind or `term`; `period`: its period or the
/// term's last day): true for the one caller that wrote it, false when it was
/// sent already (by this server or another).
pub async fn claim_alert(db: &Db, org_id: &str, what: &str, period: &str, now: i64) -> StoreResult<bool> {
    let done =
        sqlx::query("INSERT INTO party_life_alerts (id, org_id, what, period, sent_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(new_id())
            .bind(org_id)
            .bind(what)
            .bind(period)
            .bind(now)
            .execute(&db.pool)
            .await;
    match done {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(StoreError::from(e)),
    }
}

/// The alerts sent about an organisation, newest first: (what, period, when).
pub async fn alerts_of(db: &Db, org_id: &str) -> StoreResult<Vec<(String, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT what, period, sent_at FROM party_life_alerts WHERE org_id = $1 ORDER BY sent_at DESC, period DESC",
    )
    .bind(org_id)
    .fetch_all(&db.pool)
    .await?)
}

/// Organisations whose term ends within [`life::TERM_REMINDER_MONTHS`] months of
/// `today` (or ended and was not renewed) and were not reminded: each with the
/// term's last day.
pub async fn terms_ending(db: &Db, today: Date) -> StoreResult<Vec<(Org, Date)>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT id, term_start, term_years FROM party_orgs WHERE term_start IS NOT NULL ORDER BY community_id, name",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for (id, start, years) in rows {
        let Some(start) = parse_date(&start) else { continue };
        let end = life::term_end(start, u8::try_from(years).unwrap_or(life::DEFAULT_TERM_YEARS));
        if today < life::reminder_from(end) || alerted(db, &id, "term", &format_date(end)).await? {
            continue;
        }
        out.push((org(db, &id).await?, end));
    }
    Ok(out)
}

/// The compliance of every branch at or under `path` for the year holding
/// `today`, read on `today`: (held, required) added up, for the cockpit.
pub async fn compliance_under(db: &Db, path: &str, year: i32, today: Date) -> StoreResult<(i64, i64)> {
    let mut sum = (0, 0);
    for o in branches_under(db, path).await? {
        let c = compliance(db, &o, year, today).await?;
        sum.0 += c.held;
        sum.1 += c.required;
    }
    Ok(sum)
}

/// The day in China of a meeting's time.
pub fn held_on(m: &Meeting) -> Date {
    china_day(m.held_at)
}
