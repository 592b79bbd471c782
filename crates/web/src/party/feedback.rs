//! A unit's feedback report of a period (一卡, fed back every quarter): the
//! printable page, its .xlsx, and the schedule that sends each unit its report
//! through the shared notifications once the period is over (`run_feedback`,
//! started by `serve`). The figures are `store::party::feedback`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Deserialize;
use wangge_domain::party::{self as rules, Period};
use wangge_domain::{Module, msg, now_millis};
use wangge_ledger::xlsx_out::{ReportCell, ReportSheet, report_xlsx_bytes};
use wangge_store::Db;
use wangge_store::notifications::{Audience, Notice};
use wangge_store::party::{self, Feedback};

use crate::shared::auth::Principal;
use crate::shared::render::{Lang, frame, render, tr};
use crate::{ApiError, AppState};

#[derive(Deserialize, Default)]
pub struct FeedbackQuery {
    /// `2026Q1` (default: the community's feedback period holding today).
    pub period: Option<String>,
    /// `xlsx` for the workbook.
    pub format: Option<String>,
}

/// The period asked for, or the community's current feedback period.
pub(crate) async fn period_of(s: &AppState, community_id: &str, asked: Option<&str>) -> Result<Period, ApiError> {
    match asked.map(str::trim).filter(|p| !p.is_empty()) {
        Some(text) => Period::parse(text)
            .ok_or_else(|| ApiError::invalid(msg!("party.error.period", value = text).field("period"))),
        None => {
            let months = party::settings(&s.db, community_id).await?.feedback_months;
            Ok(Period::at(now_millis(), months))
        }
    }
}

fn pct(p: Option<i64>) -> String {
    p.map_or_else(|| "—".to_owned(), |p| format!("{p}%"))
}

fn workbook(f: &Feedback, lang: Lang) -> Result<Vec<u8>, ApiError> {
    let t = |k: &str| tr(k, lang.code);
    let title = format!("{} · {} · {}", f.unit.name, f.period, t("party.feedback.title"));
    let summary = ReportSheet {
        name: &f.period,
        title: &title,
        headers: vec![t("party.feedback.figure"), t("party.feedback.value")],
        rows: vec![
            vec![ReportCell::Text(t("party.feedback.hours")), ReportCell::Number(f.minutes as f64 / 60.0)],
            vec![ReportCell::Text(t("party.feedback.activities")), ReportCell::Number(f.activity_count as f64)],
            vec![ReportCell::Text(t("party.feedback.declared")), ReportCell::Number(f.declared as f64)],
            vec![ReportCell::Text(t("party.feedback.registered")), ReportCell::Number(f.registered as f64)],
            vec![
                ReportCell::Text(t("party.feedback.registration_rate")),
                f.registration_rate.map_or(ReportCell::Empty, |(a, b)| ReportCell::Percent(a as f64 / b as f64)),
            ],
            vec![
                ReportCell::Text(t("party.feedback.completion_rate")),
                f.completion_rate.map_or(ReportCell::Empty, |(a, b)| ReportCell::Percent(a as f64 / b as f64)),
            ],
            vec![ReportCell::Text(t("party.feedback.idle")), ReportCell::Number(f.idle as f64)],
        ],
    };
    let members = ReportSheet {
        name: "members",
        title: &title,
        headers: vec![
            t("party.name"),
            t("party.grid"),
            t("party.feedback.registered"),
            t("party.feedback.activities"),
            t("party.feedback.hours"),
            t("party.feedback.year_hours"),
            t("party.feedback.rating"),
            t("party.feedback.points"),
            t("party.feedback.flag"),
        ],
        rows: f
            .members
            .iter()
            .map(|m| {
                let flag = if m.nothing {
                    t("party.feedback.nothing")
                } else if m.below {
                    t("party.feedback.below")
                } else {
                    String::new()
                };
                vec![
                    ReportCell::Text(m.name.clone()),
                    ReportCell::Text(m.grid_name.clone().unwrap_or_default()),
                    ReportCell::Text(t(if m.registered { "party.yes" } else { "party.no" })),
                    ReportCell::Number(m.activities as f64),
                    ReportCell::Number(m.minutes as f64 / 60.0),
                    ReportCell::Number(m.year_minutes as f64 / 60.0),
                    m.rating.as_ref().map_or(ReportCell::Empty, |r| ReportCell::Text(r.clone())),
                    ReportCell::Number(m.points as f64),
                    ReportCell::Text(flag),
                ]
            })
            .collect(),
    };
    let activities = ReportSheet {
        name: "activities",
        title: &title,
        headers: vec![
            t("party.date"),
            t("party.name"),
            t("party.activity"),
            t("party.feedback.hours"),
            t("party.feedback.rating"),
        ],
        rows: f
            .activities
            .iter()
            .map(|a| {
                vec![
                    ReportCell::Text(a.served_on.clone()),
                    ReportCell::Text(a.member_name.clone()),
                    ReportCell::Text(a.activity.clone()),
                    ReportCell::Number(a.minutes as f64 / 60.0),
                    a.rating.map_or(ReportCell::Empty, |r| ReportCell::Number(r as f64)),
                ]
            })
            .collect(),
    };
    report_xlsx_bytes(&[summary, members, activities]).map_err(ApiError::internal)
}

/// The report of a unit for a period: printable HTML, or .xlsx with `format=xlsx`.
async fn page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<FeedbackQuery>,
) -> Result<Response, ApiError> {
    let u = super::unit_in_sight(&s, &p, &id).await?;
    let period = period_of(&s, &u.community_id, q.period.as_deref()).await?;
    let f = party::feedback(&s.db, &u.id, period).await?;
    if q.format.as_deref() == Some("xlsx") {
        let name = format!("attachment; filename=\"feedback-{}.xlsx\"", f.period);
        let bytes = workbook(&f, lang)?;
        return Ok((
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
                ),
                (axum::http::header::CONTENT_DISPOSITION, name),
            ],
            bytes,
        )
            .into_response());
    }
    let members: Vec<_> = f
        .members
        .iter()
        .map(|m| {
            context! {
                name => &m.name, grid => &m.grid_name, registered => m.registered, activities => m.activities,
                hours => rules::hours(m.minutes), year_hours => rules::hours(m.year_minutes), rating => &m.rating,
                points => m.points, nothing => m.nothing, below => m.below,
            }
        })
        .collect();
    let activities: Vec<_> = f
        .activities
        .iter()
        .map(|a| {
            context! { day => &a.served_on, name => &a.member_name, activity => &a.activity,
            hours => rules::hours(a.minutes), rating => a.rating }
        })
        .collect();
    let sent = party::feedback::runs(&s.db, &u.id).await?.into_iter().any(|(p, _)| p == f.period);
    let ctx = context! {
        f => Value::from(Serde(&f)), members => members, activities => activities,
        hours => rules::hours(f.minutes), share_hours => rules::hours(f.share_minutes),
        yearly_hours => rules::hours(f.yearly_minutes),
        registration => pct(f.registration_percent), completion => pct(f.completion_percent),
        previous => period.previous().label(), next => Period::containing(period.end(), period.months).label(),
        sent => sent,
        ..frame(&p, lang, "/party")
    };
    Ok(render(lang, StatusCode::OK, "party/feedback.html", ctx))
}

/// Sends the report of `unit_id` for `period`: a notice to the unit's people with
/// an account (the unit's registry organisation) and to the community's Party
/// staff, and through the webhooks that carry the module (an SMS gateway to the
/// unit's contact). Claimed first, so it goes once whichever server sweeps.
pub async fn send(
    db: &Db,
    public_url: Option<&str>,
    unit_id: &str,
    period: &Period,
) -> wangge_store::StoreResult<bool> {
    if !party::feedback::claim_run(db, unit_id, period).await? {
        return Ok(false);
    }
    let f = party::feedback(db, unit_id, *period).await?;
    let message = msg!(
        "party.notice.feedback",
        unit = &f.unit.name,
        period = &f.period,
        hours = rules::hours(f.minutes),
        registered = f.registered,
        declared = f.declared
    );
    let notice = Notice {
        module: Module::Party,
        subject_id: Some(f.unit.id.clone()),
        path: f.unit.path.clone(),
        link: Some(format!("/party/units/{}/feedback?period={}", f.unit.id, f.period)),
        message,
    };
    if let Some(org) = &f.unit.organisation_id {
        crate::notify(db, public_url, &Audience::Unit(org.clone()), notice.clone()).await?;
    }
    for role in [wangge_domain::Role::PartySecretary, wangge_domain::Role::CommunitySecretary] {
        crate::notify(db, public_url, &Audience::Role { role, path: f.unit.path.clone() }, notice.clone()).await?;
    }
    Ok(true)
}

/// Sends every report due on `today` (the last complete feedback period of each
/// unit's community not sent yet). Answers how many went out.
pub async fn send_due(db: &Db, public_url: Option<&str>, today: time::Date) -> wangge_store::StoreResult<usize> {
    let mut sent = 0;
    for (unit_id, period) in party::feedback::due(db, today).await? {
        if send(db, public_url, &unit_id, &period).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

/// How often [`run_feedback`] looks for reports due.
const EVERY: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// The units' feedback for as long as the server runs: every hour, the reports of
/// periods just over are sent (each once, `party_feedback_runs`).
pub async fn run_feedback(db: Db, public_url: Option<String>) {
    while !db.pool.is_closed() {
        if let Err(e) = send_due(&db, public_url.as_deref(), wangge_store::instructions::today()).await
            && !db.pool.is_closed()
        {
            tracing::error!("party feedback: {e}");
        }
        tokio::time::sleep(EVERY).await;
    }
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use wangge_domain::Action::ViewParty;
    crate::shared::routes::Routes::new().get("/party/units/{id}/feedback", Role(ViewParty), page)
}
