//! Reports that write themselves (`/cockpit/report`): an area's weekly or monthly
//! report — its figures with how far each holds for a past period, its children
//! side by side, charts — as printable HTML and as `.xlsx`; and the scheduled run
//! that, from Monday morning, queues the past week's summary to the webhooks that
//! carry the cockpit module (`run_reports`, started by `serve` beside the outbox
//! sweep).

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::value::Serde;
use minijinja::{Value as Ctx, context};
use serde::{Deserialize, Serialize};
use serde_json::json;
use wangge_domain::{Message, Module, format_date, msg, now_millis, parse_date};
use wangge_ledger::xlsx_out::{ReportCell, ReportSheet, report_xlsx_bytes};
use wangge_store::cockpit::report::{self, Basis, ReportKind, ReportPeriod, basis_of};
use wangge_store::cockpit::{self, Figure, Section, Value, day_of};
use wangge_store::registry::areas::{self, Area};
use wangge_store::{Db, webhooks};

use super::charts;
use super::pages::{area_of, children_of, value_text, visible};
use crate::shared::auth::Principal;
use crate::shared::render::{Lang, frame, render, say, tr};
use crate::{ApiError, AppState};

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    area: Option<String>,
    /// `week` (the default) or `month`.
    period: Option<String>,
    /// A day of the period (`YYYY-MM-DD`); default: the last whole week or month.
    start: Option<String>,
    /// `xlsx` for the workbook; else the printable page.
    format: Option<String>,
}

/// A figure of a report.
#[derive(Serialize, Clone)]
pub(crate) struct Line {
    key: String,
    section: String,
    label: String,
    text: String,
    parts: Option<String>,
    /// For the workbook: the count, or the rate as a share.
    number: Option<f64>,
    rate: bool,
    basis: &'static str,
    basis_text: String,
}

#[derive(Serialize)]
struct ChildLine {
    name: String,
    cells: Vec<String>,
    numbers: Vec<Option<f64>>,
}

#[derive(Serialize)]
struct Chart {
    id: &'static str,
    title: String,
    svg: String,
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Everything a report shows, computed once for the page and the workbook.
pub(crate) struct Report {
    pub area_name: String,
    pub area: Option<Area>,
    pub period: ReportPeriod,
    pub made_at: i64,
    pub lines: Vec<Line>,
    columns: Vec<String>,
    children: Vec<ChildLine>,
    totals: Vec<String>,
    charts: Vec<Chart>,
}

fn basis_key(b: Basis) -> &'static str {
    match b {
        Basis::Period => "cockpit.report.basis.period",
        Basis::PeriodItemsNow => "cockpit.report.basis.period_items_now",
        Basis::AtEnd => "cockpit.report.basis.at_end",
        Basis::Now => "cockpit.report.basis.now",
    }
}

fn line(lang: Lang, f: &Figure, over: bool) -> Line {
    let (text, parts) = value_text(&f.value);
    let basis = basis_of(f, over);
    Line {
        key: f.key.clone(),
        section: tr(&format!("cockpit.section.{}", f.section.code()), lang.code),
        label: say(&f.label, lang.code),
        text,
        parts,
        number: f.value.number(),
        rate: matches!(f.value, Value::Rate { .. }),
        basis: basis.code(),
        basis_text: tr(basis_key(basis), lang.code),
    }
}

/// The order of a report's figures: the period's first, then the rest.
const ORDER: [Section; 8] = [
    Section::Demands,
    Section::Rates,
    Section::Categories,
    Section::Registry,
    Section::Residence,
    Section::Age,
    Section::Care,
    Section::Team,
];

/// The columns of the children's table in a report.
const CHILD_KEYS: [&str; 7] = [
    "demands.period",
    "demands.response_rate",
    "demands.resolution_rate",
    "demands.satisfaction_rate",
    "demands.open",
    "demands.overdue",
    "registry.residents",
];

/// Computes the report of `area` (none: the deployment) for `period`, with what `p` may see.
pub(crate) async fn compute(
    db: &Db,
    p: Option<&Principal>,
    lang: Lang,
    area: Option<Area>,
    period: ReportPeriod,
) -> Result<Report, ApiError> {
    let now = now_millis();
    let path = area.as_ref().map_or_else(|| "/".to_owned(), |a| a.path.clone());
    let q = period.query(&path, now);
    let may_see = |path: &str, f: &Figure| p.is_none_or(|p| visible(p, path, f)) && !(p.is_none() && f.sensitive);
    let areas = children_of(db, area.as_ref()).await?;
    let queries = areas.iter().map(|c| period.query(&c.path, now)).collect();
    // The children's table shows demands and people only; both computed side by side.
    let (figures, children_figures) = tokio::try_join!(
        cockpit::figures(db, &q),
        cockpit::figures_each_in(db, queries, &[Section::Registry, Section::Demands, Section::Rates]),
    )?;
    let figures: Vec<Figure> = figures.into_iter().filter(|f| may_see(&path, f)).collect();
    let mut lines = Vec::new();
    for sec in ORDER {
        lines.extend(figures.iter().filter(|f| f.section == sec).map(|f| line(lang, f, q.past)));
    }
    let keys: Vec<&str> = CHILD_KEYS.iter().copied().filter(|k| cockpit::find(&figures, k).is_some()).collect();
    let columns = keys
        .iter()
        .map(|k| cockpit::find(&figures, k).map_or_else(String::new, |f| say(&f.label, lang.code)))
        .collect();
    let mut children = Vec::new();
    for (child, cf) in areas.into_iter().zip(children_figures) {
        let found: Vec<Option<&Figure>> =
            keys.iter().map(|k| cockpit::find(&cf, k).filter(|f| may_see(&child.path, f))).collect();
        children.push(ChildLine {
            name: child.name.clone(),
            cells: found.iter().map(|f| f.map_or_else(|| "—".to_owned(), |f| value_text(&f.value).0)).collect(),
            numbers: found.iter().map(|f| f.and_then(|f| f.value.number())).collect(),
        });
    }
    let totals =
        keys.iter().map(|k| cockpit::find(&figures, k).map_or_else(String::new, |f| value_text(&f.value).0)).collect();
    let charts = charts_of(db, lang, &path, &q, &figures, period).await?;
    let area_name = area.as_ref().map_or_else(|| tr("cockpit.deployment", lang.code), |a| a.name.clone());
    Ok(Report { area_name, area, period, made_at: now, lines, columns, children, totals, charts })
}

async fn charts_of(
    db: &Db,
    lang: Lang,
    path: &str,
    q: &cockpit::FigureQuery,
    figures: &[Figure],
    period: ReportPeriod,
) -> Result<Vec<Chart>, ApiError> {
    let t = |key: &str| tr(key, lang.code);
    let mut out = Vec::new();
    // The period's items by category.
    let cats: Vec<(String, i64)> = figures
        .iter()
        .filter(|f| f.section == Section::Categories)
        .map(|f| (say(&f.label, lang.code), if let Value::Count { count } = f.value { count } else { 0 }))
        .collect();
    let title = t("cockpit.report.chart.categories");
    let labels: Vec<String> = cats.iter().map(|(l, _)| l.clone()).collect();
    out.push(Chart {
        id: "report-categories",
        svg: charts::bars(
            "report-categories",
            &title,
            &t("cockpit.report.chart.categories_desc"),
            &labels,
            &cats.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        ),
        title,
        head: vec![t("cockpit.chart.part"), t("cockpit.chart.new")],
        rows: cats.iter().map(|(l, n)| vec![l.clone(), n.to_string()]).collect(),
    });
    // New and closed items up to the period's end: 13 weeks, or 12 months.
    let trends = cockpit::trends(db, path, q.now).await?;
    let (buckets, id, title_key, head_key) = match period.kind {
        ReportKind::Week => (
            &trends.weeks[trends.weeks.len().saturating_sub(13)..],
            "report-weeks",
            "cockpit.report.chart.weeks",
            "cockpit.chart.week_of",
        ),
        ReportKind::Month => (&trends.months[..], "report-months", "cockpit.chart.months", "cockpit.chart.month"),
    };
    let (new, closed) = (t("cockpit.chart.new"), t("cockpit.chart.closed"));
    let labels: Vec<String> = buckets.iter().map(|b| b.start[5..].to_owned()).collect();
    let series = vec![
        (new.clone(), buckets.iter().map(|b| b.new).collect()),
        (closed.clone(), buckets.iter().map(|b| b.closed).collect()),
    ];
    let title = t(title_key);
    out.push(Chart {
        id,
        svg: charts::lines(id, &title, &t("cockpit.chart.weeks_desc"), &labels, &series),
        title,
        head: vec![t(head_key), new, closed],
        rows: buckets.iter().map(|b| vec![b.start.clone(), b.new.to_string(), b.closed.to_string()]).collect(),
    });
    Ok(out)
}

/// The period asked for: `period` and a day of it, else the last whole one.
fn period_of(q: &ReportQuery) -> Result<ReportPeriod, ApiError> {
    let kind = match q.period.as_deref() {
        None | Some("") => ReportKind::Week,
        Some(code) => ReportKind::from_code(code)
            .ok_or_else(|| ApiError::invalid(msg!("cockpit.report.error.period").field("period")))?,
    };
    let today = day_of(now_millis());
    match q.start.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(ReportPeriod::last_complete(kind, today)),
        Some(s) => {
            let day = parse_date(s)
                .ok_or_else(|| ApiError::invalid(msg!("cockpit.report.error.start", start = s).field("start")))?;
            if day > today {
                return Err(ApiError::invalid(msg!("cockpit.report.error.future", start = s).field("start")));
            }
            Ok(ReportPeriod::holding(kind, day))
        }
    }
}

fn file_name(r: &Report) -> String {
    let code = r.area.as_ref().map_or("all", |a| a.code.as_str());
    format!("report-{code}-{}-{}.xlsx", r.period.kind.code(), format_date(r.period.first))
}

/// The report's workbook: figures, children, and each chart's numbers.
pub(crate) fn workbook(lang: Lang, r: &Report) -> Result<Vec<u8>, ApiError> {
    let t = |key: &str| tr(key, lang.code);
    let title = report_title(lang, r);
    let figures = ReportSheet {
        name: &t("cockpit.report.sheet.figures"),
        title: &title,
        headers: vec![
            t("cockpit.report.col.section"),
            t("cockpit.report.col.figure"),
            t("cockpit.report.col.key"),
            t("cockpit.report.col.value"),
            t("cockpit.report.col.parts"),
            t("cockpit.report.col.basis"),
        ],
        rows: r
            .lines
            .iter()
            .map(|l| {
                let value = match (l.number, l.rate) {
                    (Some(n), true) => ReportCell::Percent(n),
                    (Some(n), false) => ReportCell::Number(n),
                    (None, _) => ReportCell::Empty,
                };
                vec![
                    ReportCell::Text(l.section.clone()),
                    ReportCell::Text(l.label.clone()),
                    ReportCell::Text(l.key.clone()),
                    value,
                    l.parts.clone().map_or(ReportCell::Empty, ReportCell::Text),
                    ReportCell::Text(l.basis_text.clone()),
                ]
            })
            .collect(),
    };
    let mut headers = vec![t("cockpit.children.name")];
    headers.extend(r.columns.iter().cloned());
    let rate_col: Vec<bool> = CHILD_KEYS.iter().map(|k| k.ends_with("_rate")).collect();
    let children = ReportSheet {
        name: &t("cockpit.report.sheet.children"),
        title: &title,
        headers,
        rows: r
            .children
            .iter()
            .map(|c| {
                let mut row = vec![ReportCell::Text(c.name.clone())];
                row.extend(c.numbers.iter().enumerate().map(|(i, n)| match n {
                    Some(n) if rate_col.get(i).copied().unwrap_or(false) => ReportCell::Percent(*n),
                    Some(n) => ReportCell::Number(*n),
                    None => ReportCell::Empty,
                }));
                row
            })
            .collect(),
    };
    let mut sheets = vec![figures, children];
    for c in &r.charts {
        sheets.push(ReportSheet {
            name: &c.title,
            title: &c.title,
            headers: c.head.clone(),
            rows: c
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .enumerate()
                        .map(|(i, v)| match v.parse::<f64>() {
                            Ok(n) if i > 0 => ReportCell::Number(n),
                            _ => ReportCell::Text(v.clone()),
                        })
                        .collect()
                })
                .collect(),
        });
    }
    report_xlsx_bytes(&sheets).map_err(ApiError::internal)
}

fn report_title(lang: Lang, r: &Report) -> String {
    let key = match r.period.kind {
        ReportKind::Week => "cockpit.report.title.week",
        ReportKind::Month => "cockpit.report.title.month",
    };
    say(
        &Message::new(key)
            .arg("area", &r.area_name)
            .arg("from", format_date(r.period.first))
            .arg("to", format_date(r.period.last)),
        lang.code,
    )
}

/// The report page, or its workbook with `format=xlsx`.
pub async fn report_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let area = match area_of(&s, &p, q.area.as_deref()).await? {
        Ok(area) => area,
        Err(mine) => return Ok(super::pages::choose_area(&p, lang, &mine, "/cockpit/report")),
    };
    let period = period_of(&q)?;
    let r = compute(&s.db, Some(&p), lang, area, period).await?;
    if q.format.as_deref() == Some("xlsx") {
        let bytes = workbook(lang, &r)?;
        let mut response = bytes.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        );
        let disposition = format!("attachment; filename=\"{}\"", file_name(&r));
        headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(ApiError::internal)?);
        return Ok(response);
    }
    let area_param = r.area.as_ref().map_or_else(String::new, |a| format!("area={}&", a.id));
    let kind = period.kind.code();
    let step = |back: bool| {
        let day = if back { period.first - time::Duration::days(1) } else { period.last + time::Duration::days(1) };
        format!("/cockpit/report?{area_param}period={kind}&start={}", format_date(day))
    };
    let today = day_of(now_millis());
    let next = (period.last < today).then(|| step(false));
    let other_kind = if period.kind == ReportKind::Week { "month" } else { "week" };
    let ctx = context! {
        title => report_title(lang, &r),
        area_name => r.area_name.clone(),
        over => period.is_over(r.made_at),
        made_at => crate::shared::render::local_time(r.made_at),
        lines => Ctx::from(Serde(&r.lines)),
        columns => Ctx::from(Serde(&r.columns)),
        children => Ctx::from(Serde(&r.children)),
        totals => Ctx::from(Serde(&r.totals)),
        charts => Ctx::from(Serde(&r.charts)),
        xlsx_href => format!("/cockpit/report?{area_param}period={kind}&start={}&format=xlsx", format_date(period.first)),
        previous_href => step(true),
        next_href => next,
        other_href => format!("/cockpit/report?{area_param}period={other_kind}"),
        other_label => tr(&format!("cockpit.report.{other_kind}ly"), lang.code),
        back_href => format!("/cockpit?{}", area_param.trim_end_matches('&')),
        ..frame(&p, lang, "/cockpit"),
    };
    Ok(render(lang, StatusCode::OK, "cockpit/report.html", ctx).into_response())
}

// -- the schedule ------------------------------------------------------------------

/// How often the schedule looks whether a report is due.
const LOOK_EVERY: std::time::Duration = std::time::Duration::from_secs(600);
/// How long one look of the schedule counts past figures at most
/// (`cockpit::past::warm`; a district's take a quarter of a second): a tenth of
/// the time between looks.
const WARM_FOR: std::time::Duration = std::time::Duration::from_secs(60);
/// From this hour (China) on Monday the past week's report is due.
const SEND_FROM_HOUR: u8 = 8;

/// Queues due reports until the database closes (started by `serve`).
pub async fn run_reports(db: Db) {
    while !db.pool.is_closed() {
        if let Err(e) = queue_weekly(&db, now_millis()).await {
            if db.pool.is_closed() {
                break;
            }
            tracing::error!("weekly reports: {}", e.said("en"));
        }
        // Last week's and month's figures counted before anyone asks for them.
        if let Err(e) = wangge_store::cockpit::past::warm(&db, now_millis(), std::time::Instant::now() + WARM_FOR).await
        {
            if db.pool.is_closed() {
                break;
            }
            tracing::error!("keeping past figures: {e}");
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

/// Queues the past week's report summary to every active webhook that carries the
/// cockpit module, once per scope (the webhook's area) and week, from Monday 08:00
/// (China) on: a server started later in the week still sends it, a second server or
/// a second sweep finds the week claimed (`report_runs`) and sends nothing. Returns
/// how many deliveries it queued.
pub async fn queue_weekly(db: &Db, now: i64) -> Result<usize, ApiError> {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now) * 1_000_000)
        .map_err(ApiError::internal)?
        .to_offset(wangge_domain::demands::CHINA);
    let week = ReportPeriod::last_complete(ReportKind::Week, at.date());
    if at.date() == week.last + time::Duration::days(1) && at.hour() < SEND_FROM_HOUR {
        return Ok(0);
    }
    let hooks: Vec<webhooks::Webhook> = webhooks::list(db)
        .await?
        .into_iter()
        .filter(|w| w.active && w.modules.contains(&Module::Cockpit) && w.path != "/")
        .collect();
    let mut paths: Vec<&str> = hooks.iter().map(|w| w.path.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    let mut queued = 0;
    for path in paths {
        let area = match areas::get_by_path(db, path).await {
            Ok(area) => area,
            Err(wangge_store::StoreError::NotFound { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        if !report::claim_run(db, &area.id, &week).await? {
            continue;
        }
        let zh = Lang::from_code("zh-CN");
        let r = compute(db, None, zh, Some(area.clone()), week).await?;
        let text = summary(&r, zh);
        let text_en =
            summary(&compute(db, None, Lang::from_code("en"), Some(area.clone()), week).await?, Lang::from_code("en"));
        let event_id = wangge_domain::new_id();
        let mut n = 0;
        for hook in hooks.iter().filter(|w| w.path == path) {
            let title = report_title(zh, &r);
            let body = match hook.format.as_str() {
                "wecom" => json!({"msgtype": "markdown", "markdown": {"content": text}}),
                "dingtalk" => json!({"msgtype": "markdown", "markdown": {"title": title, "text": text}}),
                _ => json!({
                    "event": "cockpit.weekly_report",
                    "event_id": event_id,
                    "area": {"id": area.id, "code": area.code, "name": area.name},
                    "period": {"kind": "week", "first_day": format_date(week.first), "last_day": format_date(week.last)},
                    "figures": r.lines.iter().map(|l| json!({"key": l.key, "value": l.number, "basis": l.basis})).collect::<Vec<_>>(),
                    "message": text,
                    "message_en": text_en,
                }),
            };
            webhooks::enqueue(db, &hook.id, &area.id, &event_id, "cockpit.weekly_report", &body.to_string()).await?;
            n += 1;
        }
        report::set_deliveries(db, &area.id, &week, n).await?;
        queued += n as usize;
    }
    Ok(queued)
}

/// The summary a webhook carries: the headline figures of the week, from the catalogue.
pub(crate) fn summary(r: &Report, lang: Lang) -> String {
    let text_of = |key: &str| r.lines.iter().find(|l| l.key == key).map_or_else(|| "—".to_owned(), |l| l.text.clone());
    let m = Message::new("cockpit.report.summary")
        .arg("title", report_title(lang, r))
        .arg("new", text_of("demands.period"))
        .arg("response", text_of("demands.response_rate"))
        .arg("resolution", text_of("demands.resolution_rate"))
        .arg("satisfaction", text_of("demands.satisfaction_rate"))
        .arg("open", text_of("demands.open"))
        .arg("overdue", text_of("demands.overdue"))
        .arg("residents", text_of("registry.residents"));
    say(&m, lang.code)
}
