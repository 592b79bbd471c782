//! The feedback a unit receives about its members (一卡: the service card fed back
//! every quarter): for one period, its members with their confirmed service —
//! activities, hours, ratings, points — who did nothing, who is below their share
//! of the yearly hours, and the unit's two rates against the community's
//! threshold. docs/party.md gives the formulas:
//!
//! - registration rate = members of the unit with a confirmed registration in the
//!   registration period holding the feedback period's last day ÷ the members the
//!   unit declared, the numerator capped at the denominator (100 % at most);
//! - completion rate = of those registered members, the ones whose confirmed
//!   service from 1 January to the period's end reached their share of the yearly
//!   target (target × months of the year passed at the period's end ÷ 12) ÷ the
//!   registered members;
//! - a unit is flagged when either rate is below the threshold (95 % by default),
//!   or has none.
//!
//! Service belongs to the period holding its time in China (UTC+8): 31 March
//! 23:30 is the first quarter, 1 April 00:10 the second.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;
use time::Date;
use utoipa::ToSchema;
use wangge_domain::party::{self as rules, MemberStatus, Period};
use wangge_domain::{new_id, now_millis};

use super::{MemberFilter, Unit, members_under, settings, unit};
use crate::{Db, StoreError, StoreResult};

/// A member's line of the report.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MemberLine {
    #[schema(format = Uuid)]
    pub member_id: String,
    pub name: String,
    pub grid_name: Option<String>,
    /// Confirmed for the registration period.
    pub registered: bool,
    /// Confirmed records in the period, and their minutes.
    pub activities: i64,
    pub minutes: i64,
    /// Confirmed minutes from 1 January to the period's end.
    pub year_minutes: i64,
    /// The mean rating of the period's records, one decimal ("4.5"), if any was rated.
    pub rating: Option<String>,
    /// Points of the period's records.
    pub points: i64,
    /// Registered, and nothing confirmed in the period.
    pub nothing: bool,
    /// Registered, and below their share of the yearly hours.
    pub below: bool,
}

/// A record of the report.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ActivityLine {
    /// The day in China, `YYYY-MM-DD`.
    pub served_on: String,
    pub member_name: String,
    pub activity: String,
    pub minutes: i64,
    pub rating: Option<i64>,
}

/// A unit's report of one period.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Feedback {
    pub unit: Unit,
    pub community_name: String,
    /// `2026Q1`.
    pub period: String,
    /// Its first and last day.
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    /// The registration period the rates are of (`2026H1`).
    pub registration_period: String,
    pub members: Vec<MemberLine>,
    pub activities: Vec<ActivityLine>,
    /// The period's confirmed minutes and records, all members together.
    pub minutes: i64,
    pub activity_count: i64,
    pub declared: i64,
    pub registered: i64,
    /// Registered members who reached their share.
    pub reached: i64,
    /// Registered members with nothing confirmed in the period.
    pub idle: i64,
    /// The share of the yearly target owed by the period's end, in minutes.
    pub share_minutes: i64,
    pub yearly_minutes: i64,
    /// `[part, whole]`.
    pub registration_rate: Option<(i64, i64)>,
    pub completion_rate: Option<(i64, i64)>,
    pub registration_percent: Option<i64>,
    pub completion_percent: Option<i64>,
    pub threshold_percent: i64,
    /// Either rate below the threshold (or none).
    pub flagged: bool,
}

/// The report of unit `unit_id` for `period`.
pub async fn feedback(db: &Db, unit_id: &str, period: Period) -> StoreResult<Feedback> {
    let u = unit(db, unit_id).await?;
    let community = crate::registry::areas::get(db, &u.community_id).await?;
    let s = settings(db, &u.community_id).await?;
    let last_day = period.end().previous_day().expect("a day before");
    let registration_period = Period::containing(last_day, s.period_months);
    let share = rules::share_minutes(s.yearly_minutes, &period);
    let filter = MemberFilter { unit_id: Some(u.id.clone()), ..Default::default() };
    let members = members_under(db, &u.path, &filter).await?;
    let confirmed: Vec<String> = sqlx::query_scalar(
        "SELECT r.member_id FROM party_registrations r JOIN party_members m ON m.id = r.member_id
         WHERE m.unit_id = $1 AND r.period = $2 AND r.state = 'confirmed'",
    )
    .bind(&u.id)
    .bind(registration_period.label())
    .fetch_all(&db.pool)
    .await?;
    let (from, to) = period.millis();
    let year_from =
        rules::china_midnight(Date::from_calendar_date(period.year, time::Month::January, 1).expect("1 Jan"));
    let rows = sqlx::query(
        "SELECT s.member_id, m.name, s.activity, s.served_at, s.minutes, s.rating, s.points
         FROM party_service s JOIN party_members m ON m.id = s.member_id
         WHERE m.unit_id = $1 AND s.state = 'confirmed' AND s.served_at >= $2 AND s.served_at < $3
         ORDER BY s.served_at, s.id",
    )
    .bind(&u.id)
    .bind(year_from)
    .bind(to)
    .fetch_all(&db.pool)
    .await?;
    #[derive(Default)]
    struct Sum {
        activities: i64,
        minutes: i64,
        year: i64,
        ratings: Vec<i64>,
        points: i64,
    }
    let mut sums: HashMap<String, Sum> = HashMap::new();
    let mut activities = Vec::new();
    for r in &rows {
        let member_id: String = r.try_get("member_id")?;
        let at: i64 = r.try_get("served_at")?;
        let minutes: i64 = r.try_get("minutes")?;
        let rating: Option<i64> = r.try_get("rating")?;
        let sum = sums.entry(member_id).or_default();
        sum.year += minutes;
        if at >= from {
            sum.activities += 1;
            sum.minutes += minutes;
            sum.points += r.try_get::<i64, _>("points")?;
            sum.ratings.extend(rating);
            activities.push(ActivityLine {
                served_on: wangge_domain::format_date(rules::china_day(at)),
                member_name: r.try_get("name")?,
                activity: r.try_get("activity")?,
                minutes,
                rating,
            });
        }
    }
    let mut lines = Vec::new();
    for m in &members {
        let registered = confirmed.contains(&m.id);
        if !registered && m.status != MemberStatus::Active {
            continue;
        }
        let sum = sums.remove(&m.id).unwrap_or_default();
        let rating = (!sum.ratings.is_empty()).then(|| {
            let tenths = sum.ratings.iter().sum::<i64>() * 10 / sum.ratings.len() as i64;
            format!("{}.{}", tenths / 10, tenths % 10)
        });
        lines.push(MemberLine {
            member_id: m.id.clone(),
            name: m.name.clone(),
            grid_name: m.grid_name.clone(),
            registered,
            activities: sum.activities,
            minutes: sum.minutes,
            year_minutes: sum.year,
            rating,
            points: sum.points,
            nothing: registered && sum.activities == 0,
            below: registered && sum.year < share,
        });
    }
    let registered = lines.iter().filter(|l| l.registered).count() as i64;
    let reached = lines.iter().filter(|l| l.registered && !l.below).count() as i64;
    let registration_rate = rules::registration_rate(registered, u.declared_members);
    let completion_rate = rules::completion_rate(reached, registered);
    let threshold = s.threshold_percent;
    Ok(Feedback {
        community_name: community.name,
        period: period.label(),
        from: wangge_domain::format_date(period.start()),
        to: wangge_domain::format_date(last_day),
        registration_period: registration_period.label(),
        minutes: activities.iter().map(|a| a.minutes).sum(),
        activity_count: activities.len() as i64,
        declared: u.declared_members,
        registered,
        reached,
        idle: lines.iter().filter(|l| l.nothing).count() as i64,
        share_minutes: share,
        yearly_minutes: s.yearly_minutes,
        registration_percent: rules::percent(registration_rate),
        completion_percent: rules::percent(completion_rate),
        flagged: rules::below(registration_rate, threshold) || rules::below(completion_rate, threshold),
        registration_rate,
        completion_rate,
        threshold_percent: threshold,
        members: lines,
        activities,
        unit: u,
    })
}

/// The units whose report of their community's last complete feedback period (on
/// `today`) has not been sent: each unit registered before that period ended.
pub async fn due(db: &Db, today: Date) -> StoreResult<Vec<(String, Period)>> {
    let units: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT id, community_id, created_at FROM party_units ORDER BY id").fetch_all(&db.pool).await?;
    let mut months: HashMap<String, u8> = HashMap::new();
    let mut out = Vec::new();
    for (id, community_id, created_at) in units {
        if !months.contains_key(&community_id) {
            months.insert(community_id.clone(), settings(db, &community_id).await?.feedback_months);
        }
        let last = Period::containing(today, months[&community_id]).previous();
        if created_at >= last.millis().1 {
            continue;
        }
        let sent: i64 =
            sqlx::query_scalar("SELECT count(*) FROM party_feedback_runs WHERE unit_id = $1 AND period = $2")
                .bind(&id)
                .bind(last.label())
                .fetch_one(&db.pool)
                .await?;
        if sent == 0 {
            out.push((id, last));
        }
    }
    Ok(out)
}

/// Claims the sending of a unit's report of `period`: true for the one caller that
/// wrote the run, false when it was sent already (by this server or another).
pub async fn claim_run(db: &Db, unit_id: &str, period: &Period) -> StoreResult<bool> {
    let done = sqlx::query("INSERT INTO party_feedback_runs (id, unit_id, period, sent_at) VALUES ($1, $2, $3, $4)")
        .bind(new_id())
        .bind(unit_id)
        .bind(period.label())
        .bind(now_millis())
        .execute(&db.pool)
        .await;
    match done {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(StoreError::from(e)),
    }
}

/// The periods of a unit's reports sent, newest first, with when.
pub async fn runs(db: &Db, unit_id: &str) -> StoreResult<Vec<(String, i64)>> {
    Ok(sqlx::query_as("SELECT period, sent_at FROM party_feedback_runs WHERE unit_id = $1 ORDER BY period DESC")
        .bind(unit_id)
        .fetch_all(&db.pool)
        .await?)
}
