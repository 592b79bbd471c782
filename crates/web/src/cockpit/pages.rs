//! The cockpit page (`/cockpit`): an area's figures for a period, its children side
//! by side in a table sorted by a GET parameter, the year's trends, and charts drawn
//! on the server with a table beside each.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::value::Serde;
use minijinja::{Value as Ctx, context};
use serde::{Deserialize, Serialize};
use wangge_domain::{Action, AreaLevel, Vocabulary, format_date, msg, now_millis};
use wangge_store::cockpit::{self, Figure, FigureQuery, Rows, Section, Value, day_of, midnight};
use wangge_store::registry::areas::{self, Area, AreaFilter};
use wangge_store::{Db, PageRequest};

use super::charts;
use crate::shared::auth::Principal;
use crate::shared::render::{Lang, frame, render, say, tr, urlencode};
use crate::{ApiError, AppState};

#[derive(Deserialize, Default)]
pub struct CockpitQuery {
    /// An area id or code; absent: the viewer's own scope.
    area: Option<String>,
    /// `week`, `month` (the default), `quarter`, `year`.
    period: Option<String>,
    /// The figure key the children's table is sorted by (`name` by default).
    sort: Option<String>,
    /// `asc` or `desc`.
    dir: Option<String>,
    /// The section of figures in the children's table (`main` by default).
    cols: Option<String>,
    /// `1`: the big screen of a command room (full screen, dark, large type,
    /// refreshing itself every minute without JavaScript).
    screen: Option<String>,
}

/// The periods a cockpit can be read for.
pub(crate) const PERIODS: [&str; 4] = ["week", "month", "quarter", "year"];

/// `[from, to)` of the named period up to `now`, and its first day.
pub(crate) fn period_bounds(period: &str, now: i64) -> (i64, i64, time::Date) {
    let today = day_of(now);
    let first = match period {
        "week" => today - time::Duration::days(i64::from(today.weekday().number_days_from_monday())),
        "quarter" => {
            let month = (u8::from(today.month()) - 1) / 3 * 3 + 1;
            time::Date::from_calendar_date(today.year(), time::Month::try_from(month).expect("a month"), 1)
                .expect("day 1")
        }
        "year" => time::Date::from_calendar_date(today.year(), time::Month::January, 1).expect("1 January"),
        _ => today.replace_day(1).expect("day 1"),
    };
    (midnight(first), midnight(today + time::Duration::days(1)), first)
}

/// A figure as the page shows it.
#[derive(Serialize, Clone)]
struct Shown {
    key: String,
    section: &'static str,
    label: String,
    how: String,
    /// The value as read: `12`, `87.5%`, `—`.
    text: String,
    /// The parts of a rate (`7/8`).
    parts: Option<String>,
    number: Option<f64>,
    /// The rows behind it, when the viewer may see them.
    href: Option<String>,
}

pub(crate) fn value_text(v: &Value) -> (String, Option<String>) {
    match *v {
        Value::Count { count } => (count.to_string(), None),
        Value::Rate { part, whole } if whole > 0 => {
            (format!("{:.1}%", part as f64 * 100.0 / whole as f64), Some(format!("{part}/{whole}")))
        }
        Value::Rate { part, whole } => ("—".into(), Some(format!("{part}/{whole}"))),
    }
}

/// The link to the rows behind a figure, as far as the viewer's scope allows:
/// lists of people only for those who see names there (officials above the
/// community see the count, not the list), the demand ledger for those who read it.
pub(crate) fn rows_href(p: &Principal, area: Option<&Area>, rows: &Rows) -> Option<String> {
    let area = area?;
    match rows {
        Rows::Residents { tag } => {
            if !(p.role.may(Action::ViewRegistry) && p.sees_names(&area.path)) {
                return None;
            }
            let mut href = format!("/registry/residents?area={}", area.id);
            if let Some(tag) = tag {
                href.push_str(&format!("&tag={}", urlencode(tag)));
            }
            Some(href)
        }
        Rows::Buildings => (p.role.may(Action::ViewBuildings) && area.level == AreaLevel::Grid)
            .then(|| format!("/registry/areas/{}", area.id)),
        Rows::Team => (area.level == AreaLevel::Grid).then(|| format!("/registry/areas/{}/team", area.id)),
        Rows::Visits { which, tag } => {
            if !(p.role.may(Action::VisitHouseholds) && p.sees_names(&area.path)) {
                return None;
            }
            let mut href = format!("/visits/coverage?area={}&which={which}", area.id);
            if let Some(tag) = tag {
                href.push_str(&format!("&tag={}", urlencode(tag)));
            }
            Some(href)
        }
        Rows::Campaigns => p.role.may(Action::ViewCampaigns).then(|| format!("/campaigns?area={}", area.id)),
        Rows::Instructions => p.role.may(Action::ViewInstructions).then(|| format!("/instructions?area={}", area.id)),
        Rows::Party => p.role.may(Action::ViewParty).then(|| format!("/party?area={}", area.id)),
        Rows::PartyLife => p.role.may(Action::ViewParty).then(|| format!("/party/life?area={}", area.id)),
        Rows::PartyProjects { state } => {
            p.role.may(Action::ViewParty).then(|| format!("/party/lists?area={}&state={state}#projects-title", area.id))
        }
        Rows::Demands { status, overdue, category, from, to } => {
            if !p.role.may(Action::ViewDemands) {
                return None;
            }
            let mut href = format!("/demands?area={}&status={status}", area.id);
            if *overdue {
                href.push_str("&overdue=1");
            }
            if let Some(c) = category {
                href.push_str(&format!("&category={}", urlencode(c)));
            }
            if let Some(from) = from {
                href.push_str(&format!("&from={}", format_date(day_of(*from))));
            }
            if let Some(to) = to {
                href.push_str(&format!("&to={}", format_date(day_of(*to - 1))));
            }
            Some(href)
        }
    }
}

/// Whether the viewer is shown `figure` at all: a sensitive care tag's count only
/// to those who see names there.
pub(crate) fn visible(p: &Principal, path: &str, figure: &Figure) -> bool {
    !figure.sensitive || (p.role.may(Action::ViewRegistry) && p.sees_names(path))
}

fn shown(p: &Principal, lang: Lang, area: Option<&Area>, f: &Figure) -> Shown {
    let (text, parts) = value_text(&f.value);
    Shown {
        key: f.key.clone(),
        section: f.section.code(),
        label: say(&f.label, lang.code),
        how: say(&f.how, lang.code),
        text,
        parts,
        number: f.value.number(),
        href: f.rows.as_ref().and_then(|r| rows_href(p, area, r)),
    }
}

#[derive(Serialize)]
struct SectionView {
    code: &'static str,
    title: String,
    figures: Vec<Shown>,
}

/// The column groups of the children's table: `main` (people, places, demands,
/// rates) or one breakdown section.
fn columns_of(cols: &str) -> &'static [Section] {
    match cols {
        "residence" => &[Section::Residence],
        "age" => &[Section::Age],
        "care" => &[Section::Care],
        "categories" => &[Section::Categories],
        "team" => &[Section::Team],
        "campaigns" => &[Section::Campaigns],
        "instructions" => &[Section::Instructions],
        "party" => &[Section::Party],
        "participation" => &[Section::Participation],
        _ => &[Section::Registry, Section::Demands, Section::Rates, Section::Visits],
    }
}

#[derive(Serialize)]
struct Column {
    key: String,
    label: String,
    href: String,
    aria_sort: Option<&'static str>,
}

#[derive(Serialize)]
struct ChildRow {
    name: String,
    href: String,
    cells: Vec<Shown>,
}

#[derive(Serialize)]
pub(crate) struct Link {
    pub(crate) href: String,
    pub(crate) label: String,
    pub(crate) current: bool,
}

#[derive(Serialize)]
struct Chart {
    id: &'static str,
    title: String,
    svg: String,
    /// The table beside it: a header and rows of cells.
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// The page that asks a viewer with several areas which one `page` is to show.
pub(crate) fn choose_area(p: &Principal, lang: Lang, mine: &[Area], page: &str) -> Response {
    let choices: Vec<Link> = mine
        .iter()
        .map(|a| Link { href: format!("{page}?area={}", a.id), label: a.name.clone(), current: false })
        .collect();
    let ctx = context! { choices => Ctx::from(Serde(&choices)), ..frame(p, lang, "/cockpit") };
    render(lang, StatusCode::OK, "cockpit/choose.html", ctx)
}

/// The area the page is about: the one asked for (in scope), else the viewer's own;
/// `None` for the whole deployment (platform administrators). `Err` with the
/// viewer's areas when they have several and named none.
pub(crate) async fn area_of(
    s: &AppState,
    p: &Principal,
    asked: Option<&str>,
) -> Result<Result<Option<Area>, Vec<Area>>, ApiError> {
    if asked.is_none_or(|a| a.trim().is_empty()) && p.scopes.len() > 1 {
        let mut mine = Vec::new();
        for scope in &p.scopes {
            mine.push(areas::get(&s.db, &scope.area_id).await?);
        }
        return Ok(Err(mine));
    }
    Ok(Ok(match p.list_path(&s.db, asked).await? {
        Some(path) => Some(areas::get_by_path(&s.db, &path).await?),
        None => None,
    }))
}

pub(crate) async fn children_of(db: &Db, area: Option<&Area>) -> Result<Vec<Area>, ApiError> {
    Ok(match area {
        Some(a) => areas::children(db, &a.id).await?,
        None => {
            let filter = AreaFilter { level: Some(AreaLevel::City), ..Default::default() };
            areas::list(db, &filter, PageRequest::new(Some(1), Some(200))).await?.items
        }
    })
}

pub async fn cockpit_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<CockpitQuery>,
) -> Result<Response, ApiError> {
    let area = match area_of(&s, &p, q.area.as_deref()).await? {
        Ok(area) => area,
        Err(mine) => return Ok(choose_area(&p, lang, &mine, "/cockpit")),
    };
    let period = q.period.as_deref().filter(|p| PERIODS.contains(p)).unwrap_or("month");
    let now = now_millis();
    let (from, to, first_day) = period_bounds(period, now);
    let path = area.as_ref().map_or_else(|| "/".to_owned(), |a| a.path.clone());
    let fq = FigureQuery { path: path.clone(), from, to, now, past: false };
    let cols = q.cols.as_deref().unwrap_or("main");
    let wanted = columns_of(cols);
    let children = children_of(&s.db, area.as_ref()).await?;
    let queries = children.iter().map(|c| FigureQuery { path: c.path.clone(), from, to, now, past: false }).collect();
    // The area's figures, its children's (only the columns shown) and the charts'
    // series are independent: computed side by side, each on connections of its
    // own, the page takes as long as the longest of them rather than their sum.
    let (figures, children_figures, chart_data) = tokio::try_join!(
        cockpit::figures(&s.db, &fq),
        cockpit::figures_each_in(&s.db, queries, wanted),
        chart_data(&s.db, &path, now),
    )?;
    let figures: Vec<Figure> = figures.into_iter().filter(|f| visible(&p, &path, f)).collect();
    let area_name = area.as_ref().map_or_else(|| tr("cockpit.deployment", lang.code), |a| a.name.clone());

    let sections: Vec<SectionView> = cockpit::ALL_SECTIONS
        .iter()
        .map(|&sec| SectionView {
            code: sec.code(),
            title: tr(&format!("cockpit.section.{}", sec.code()), lang.code),
            figures: figures.iter().filter(|f| f.section == sec).map(|f| shown(&p, lang, area.as_ref(), f)).collect(),
        })
        .filter(|s| !s.figures.is_empty())
        .collect();

    // Where this page's links keep the viewer.
    let area_param = area.as_ref().map_or_else(String::new, |a| format!("area={}&", a.id));
    let sort = q.sort.as_deref().unwrap_or("name");
    let descending = q.dir.as_deref() == Some("desc");
    let periods: Vec<Link> = PERIODS
        .iter()
        .map(|&name| Link {
            href: format!("/cockpit?{area_param}period={name}&cols={cols}"),
            label: tr(&format!("cockpit.period.{name}"), lang.code),
            current: name == period,
        })
        .collect();

    // The children side by side.
    let column_figures: Vec<&Figure> = figures.iter().filter(|f| wanted.contains(&f.section)).collect();
    let mut rows = Vec::with_capacity(children.len());
    for (child, child_figures) in children.iter().zip(children_figures) {
        let href = format!("/cockpit?area={}&period={period}", child.id);
        let cells = column_figures
            .iter()
            .map(|c| match cockpit::find(&child_figures, &c.key) {
                Some(f) => Shown { href: Some(href.clone()), ..shown(&p, lang, Some(child), f) },
                None => Shown {
                    text: "—".into(),
                    parts: None,
                    number: None,
                    href: Some(href.clone()),
                    ..shown(&p, lang, Some(child), c)
                },
            })
            .collect();
        rows.push(ChildRow { name: child.name.clone(), href, cells });
    }
    if let Some(i) = column_figures.iter().position(|f| f.key == sort) {
        rows.sort_by(|a, b| {
            let (x, y) = (a.cells[i].number.unwrap_or(-1.0), b.cells[i].number.unwrap_or(-1.0));
            x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.name.cmp(&b.name))
        });
    }
    if descending {
        rows.reverse();
    }
    let sort_href = |key: &str| {
        let dir = if sort == key && !descending { "desc" } else { "asc" };
        format!("/cockpit?{area_param}period={period}&cols={cols}&sort={}&dir={dir}", urlencode(key))
    };
    let aria = |key: &str| (sort == key).then_some(if descending { "descending" } else { "ascending" });
    let mut columns = vec![Column {
        key: "name".into(),
        label: tr("cockpit.children.name", lang.code),
        href: sort_href("name"),
        aria_sort: aria("name"),
    }];
    columns.extend(column_figures.iter().map(|f| Column {
        key: f.key.clone(),
        label: say(&f.label, lang.code),
        href: sort_href(&f.key),
        aria_sort: aria(&f.key),
    }));
    let totals: Vec<Shown> = column_figures.iter().map(|f| shown(&p, lang, area.as_ref(), f)).collect();
    let col_groups: Vec<Link> = [
        "main",
        "residence",
        "age",
        "care",
        "categories",
        "team",
        "campaigns",
        "instructions",
        "party",
        "participation",
    ]
    .iter()
    .map(|&c| Link {
        href: format!("/cockpit?{area_param}period={period}&cols={c}#children"),
        label: tr(&format!("cockpit.cols.{c}"), lang.code),
        current: c == cols,
    })
    .collect();
    let children_title = match area.as_ref().map(|a| a.level) {
        Some(AreaLevel::City) => "cockpit.children.districts",
        Some(AreaLevel::District) => "cockpit.children.streets",
        Some(AreaLevel::Street) => "cockpit.children.communities",
        Some(AreaLevel::Community) => "cockpit.children.grids",
        Some(AreaLevel::Grid) => "cockpit.children.none",
        None => "cockpit.children.cities",
    };

    let charts = charts_of(lang, chart_data, &figures);
    let up = match area.as_ref().and_then(|a| a.parent_id.clone()) {
        Some(parent) => {
            let parent = areas::get(&s.db, &parent).await?;
            p.can_see(&parent.path).then(|| Link {
                href: format!("/cockpit?area={}&period={period}", parent.id),
                label: parent.name,
                current: false,
            })
        }
        None => None,
    };
    let period_text =
        say(&msg!("cockpit.period.range", from = format_date(first_day), to = format_date(day_of(now))), lang.code);
    let ctx = context! {
        area_name => area_name,
        level => area.as_ref().map(|a| if lang.zh() { a.level.label_zh() } else { a.level.as_str() }),
        area_id => area.as_ref().map(|a| a.id.clone()),
        screen_href => format!("/cockpit?{area_param}period={period}&screen=1"),
        map_href => format!("/cockpit/map?{area_param}period={period}"),
        report_href => format!("/cockpit/report?{}", area_param.trim_end_matches('&')),
        back_href => format!("/cockpit?{area_param}period={period}"),
        updated => crate::shared::render::local_time(now),
        up => up.map(|u| Ctx::from(Serde(u))),
        period_text => period_text,
        periods => Ctx::from(Serde(&periods)),
        sections => Ctx::from(Serde(&sections)),
        children_title => tr(children_title, lang.code),
        columns => Ctx::from(Serde(&columns)),
        rows => Ctx::from(Serde(&rows)),
        totals => Ctx::from(Serde(&totals)),
        col_groups => Ctx::from(Serde(&col_groups)),
        charts => Ctx::from(Serde(&charts)),
        ..frame(&p, lang, "/cockpit"),
    };
    let template = if q.screen.as_deref() == Some("1") { "cockpit/screen.html" } else { "cockpit/cockpit.html" };
    Ok(render(lang, StatusCode::OK, template, ctx).into_response())
}

fn count_of(figures: &[Figure], key: &str) -> i64 {
    match cockpit::find(figures, key).map(|f| f.value) {
        Some(Value::Count { count }) => count,
        _ => 0,
    }
}

/// The series the charts draw beyond the area's figures.
struct ChartData {
    trends: cockpit::Trends,
    /// The trend's ended windows; its last point is the area's live figure.
    not_visited: wangge_store::visits::figures::EndedWindows,
    pyramid: Vec<cockpit::PyramidRow>,
}

/// The charts' series, read side by side.
async fn chart_data(db: &Db, path: &str, now: i64) -> wangge_store::StoreResult<ChartData> {
    let (trends, not_visited, pyramid) = tokio::try_join!(
        cockpit::trends(db, path, now),
        // The seed's "rarely visited" by month: the 90-day share at each month's end.
        wangge_store::visits::figures::ended_windows(db, path, day_of(now), cockpit::COVERAGE_DAYS, 12),
        cockpit::age_pyramid(db, path, day_of(now)),
    )?;
    Ok(ChartData { trends, not_visited, pyramid })
}

/// The page's charts: the year's new and closed items by week and by month, the
/// people by residence type and age band, the population pyramid.
fn charts_of(lang: Lang, data: ChartData, figures: &[Figure]) -> Vec<Chart> {
    let t = |key: &str| tr(key, lang.code);
    let ChartData { trends, not_visited: ended, pyramid } = data;
    // Today's point is the area's own figure (counted once for the page).
    let (not_visited_today, households) = match cockpit::find(figures, "visits.not_visited").map(|f| f.value) {
        Some(Value::Rate { part, whole }) => (part.max(0) as u64, whole.max(0) as u64),
        _ => (0, 0),
    };
    let trend = ended.points(households, not_visited_today);
    let mut out = Vec::new();

    let (new, closed) = (t("cockpit.chart.new"), t("cockpit.chart.closed"));
    let labels: Vec<String> = trends.weeks.iter().map(|b| b.start[5..].to_owned()).collect();
    let series = vec![
        (new.clone(), trends.weeks.iter().map(|b| b.new).collect()),
        (closed.clone(), trends.weeks.iter().map(|b| b.closed).collect()),
    ];
    let title = t("cockpit.chart.weeks");
    out.push(Chart {
        id: "chart-weeks",
        svg: charts::lines("chart-weeks", &title, &t("cockpit.chart.weeks_desc"), &labels, &series),
        title,
        head: vec![t("cockpit.chart.week_of"), new.clone(), closed.clone()],
        rows: trends.weeks.iter().map(|b| vec![b.start.clone(), b.new.to_string(), b.closed.to_string()]).collect(),
    });

    let labels: Vec<String> = trends.months.iter().map(|b| b.start[..7].to_owned()).collect();
    let title = t("cockpit.chart.months");
    out.push(Chart {
        id: "chart-months",
        svg: charts::bars(
            "chart-months",
            &title,
            &t("cockpit.chart.months_desc"),
            &labels,
            &trends.months.iter().map(|b| b.new).collect::<Vec<_>>(),
        ),
        title,
        head: vec![t("cockpit.chart.month"), new, closed],
        rows: trends
            .months
            .iter()
            .map(|b| vec![b.start[..7].to_owned(), b.new.to_string(), b.closed.to_string()])
            .collect(),
    });

    let title = t("cockpit.chart.not_visited_trend");
    let labels: Vec<String> = trend.iter().map(|p| p.on[..7].to_owned()).collect();
    let percents = vec![(t("cockpit.chart.not_visited"), trend.iter().map(|p| p.percent().round() as i64).collect())];
    out.push(Chart {
        id: "chart-not-visited",
        svg: charts::lines("chart-not-visited", &title, &t("cockpit.chart.not_visited_trend_desc"), &labels, &percents),
        title,
        head: vec![
            t("cockpit.chart.month_end"),
            t("cockpit.chart.not_visited"),
            t("cockpit.chart.households"),
            t("cockpit.chart.share"),
        ],
        rows: trend
            .iter()
            .map(|p| {
                vec![p.on.clone(), p.not_visited.to_string(), p.households.to_string(), format!("{:.1}%", p.percent())]
            })
            .collect(),
    });

    for (id, section, title_key) in [
        ("chart-residence", Section::Residence, "cockpit.chart.residence"),
        ("chart-age", Section::Age, "cockpit.chart.age"),
    ] {
        let parts: Vec<(String, i64)> = figures
            .iter()
            .filter(|f| f.section == section)
            .map(|f| (say(&f.label, lang.code), count_of(figures, &f.key)))
            .collect();
        let title = t(title_key);
        let total: i64 = parts.iter().map(|(_, n)| n).sum();
        out.push(Chart {
            id,
            svg: charts::stacked_share(id, &title, &t("cockpit.chart.share_desc"), &parts),
            title,
            head: vec![t("cockpit.chart.part"), t("cockpit.chart.people"), t("cockpit.chart.share")],
            rows: parts
                .iter()
                .map(|(label, n)| {
                    let share =
                        if total > 0 { format!("{:.1}%", *n as f64 * 100.0 / total as f64) } else { "—".into() };
                    vec![label.clone(), n.to_string(), share]
                })
                .collect(),
        });
    }

    let bars: Vec<(String, i64, i64)> = pyramid
        .iter()
        .map(|r| {
            let label = match r.band.to {
                Some(to) => format!("{}–{to}", r.band.from),
                None => format!("{}+", r.band.from),
            };
            (label, r.male, r.female)
        })
        .collect();
    let (men, women) = (wangge_domain::Gender::Male, wangge_domain::Gender::Female);
    let (men, women) = if lang.zh() { (men.label_zh(), women.label_zh()) } else { (men.label_en(), women.label_en()) };
    let title = t("cockpit.chart.pyramid");
    out.push(Chart {
        id: "chart-pyramid",
        svg: charts::pyramid("chart-pyramid", &title, &t("cockpit.chart.pyramid_desc"), (men, women), &bars),
        title,
        head: vec![t("cockpit.chart.band"), men.to_owned(), women.to_owned()],
        rows: bars.iter().map(|(l, m, f)| vec![l.clone(), m.to_string(), f.to_string()]).collect(),
    });
    out
}

/// The cockpit's own stylesheet (charts, the children's table and its cards).
pub async fn stylesheet() -> Response {
    use axum::http::{HeaderValue, header};
    let mut response = include_str!("../../static/cockpit.css").into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}
