//! The cockpit's figures as JSON (`GET /api/v1/cockpit`): the same figures, the same
//! scope rules and the same children as the page — officials above the community get
//! counts, never a link to a list of people, and no count of a sensitive care tag.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wangge_domain::{AreaLevel, format_date, msg, now_millis};
use wangge_store::cockpit::{self, Figure, FigureQuery, Value, day_of};
use wangge_store::registry::areas::Area;

use super::pages::{PERIODS, area_of, children_of, period_bounds, rows_href, visible};
use crate::shared::api::{ApiResult, Params};
use crate::shared::auth::Principal;
use crate::shared::error::ErrorBody;
use crate::shared::render::{Lang, say};
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
pub struct CockpitParams {
    /// An area id or code; absent: the caller's own scope (required when the caller
    /// has several).
    pub area: Option<String>,
    /// `week`, `month` (the default), `quarter` or `year`: the period's figures
    /// (new items, by category, the three rates) count from its first day to today.
    pub period: Option<String>,
}

/// An area as the cockpit names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CockpitArea {
    #[schema(format = Uuid)]
    pub id: String,
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
}

impl From<&Area> for CockpitArea {
    fn from(a: &Area) -> Self {
        Self { id: a.id.clone(), code: a.code.clone(), name: a.name.clone(), level: a.level }
    }
}

/// The period the figures are of.
#[derive(Debug, Serialize, ToSchema)]
pub struct CockpitPeriod {
    /// `week`, `month`, `quarter` or `year`.
    pub name: String,
    /// First day (China), `YYYY-MM-DD`.
    pub first_day: String,
    /// Last day (China), today.
    pub last_day: String,
    /// `[from, to)` in Unix ms.
    pub from: i64,
    pub to: i64,
}

/// A figure's value: a count, or a rate with its two parts (`rate` is absent when
/// the whole is 0).
#[derive(Debug, Serialize, ToSchema)]
pub struct FigureValue {
    /// `count` or `rate`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub count: Option<i64>,
    pub part: Option<i64>,
    pub whole: Option<i64>,
    /// `part / whole`, between 0 and 1.
    pub rate: Option<f64>,
    /// As the page shows it: `12`, `87.5%`, `—`.
    pub text: String,
}

impl From<&Value> for FigureValue {
    fn from(v: &Value) -> Self {
        let text = super::pages::value_text(v).0;
        match *v {
            Value::Count { count } => {
                Self { kind: "count", count: Some(count), part: None, whole: None, rate: None, text }
            }
            Value::Rate { part, whole } => {
                Self { kind: "rate", count: None, part: Some(part), whole: Some(whole), rate: v.number(), text }
            }
        }
    }
}

/// One figure of the area.
#[derive(Debug, Serialize, ToSchema)]
pub struct CockpitFigure {
    /// Stable key: `registry.residents`, `demands.overdue`, `registry.tag.veteran`…
    pub key: String,
    /// `registry`, `residence`, `age`, `care`, `demands`, `categories`, `rates`, `team`.
    pub section: &'static str,
    /// What it is, in the caller's language (`Accept-Language`, `?lang=`).
    pub label: String,
    /// How it is computed, in one sentence.
    pub how: String,
    pub value: FigureValue,
    /// The page listing the rows behind it, where the caller may read them.
    pub href: Option<String>,
}

/// A child's value of one figure.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildValue {
    pub key: String,
    pub value: FigureValue,
}

/// One child of the area (a community of a street, a grid of a community) with its figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct CockpitChild {
    pub area: CockpitArea,
    pub figures: Vec<ChildValue>,
}

/// An area's cockpit.
#[derive(Debug, Serialize, ToSchema)]
pub struct Cockpit {
    /// The area; absent for the whole deployment (platform administrators).
    pub area: Option<CockpitArea>,
    pub period: CockpitPeriod,
    /// When the figures were computed (Unix ms): figures that are not of the period
    /// (open, overdue, residents…) are as of then.
    pub computed_at: i64,
    pub figures: Vec<CockpitFigure>,
    /// The area's children side by side, each with every figure the caller may see.
    pub children: Vec<CockpitChild>,
}

pub(crate) fn api_figure(p: &Principal, lang: Lang, area: Option<&Area>, f: &Figure) -> CockpitFigure {
    CockpitFigure {
        key: f.key.clone(),
        section: f.section.code(),
        label: say(&f.label, lang.code),
        how: say(&f.how, lang.code),
        value: FigureValue::from(&f.value),
        href: f.rows.as_ref().and_then(|r| rows_href(p, area, r)),
    }
}

/// An area's figures for a period and its children's side by side, as the cockpit
/// page shows them and with the same scope rules.
#[utoipa::path(get, path = "/api/v1/cockpit", tag = "cockpit", params(CockpitParams), responses(
    (status = 200, body = Cockpit), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 422, body = ErrorBody)))]
pub async fn get_cockpit(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Params(q): Params<CockpitParams>,
) -> ApiResult<Cockpit> {
    let area = match area_of(&s, &p, q.area.as_deref()).await? {
        Ok(area) => area,
        Err(_) => return Err(ApiError::invalid(msg!("cockpit.error.choose_area").field("area"))),
    };
    let period = match q.period.as_deref() {
        None => "month",
        Some(name) if PERIODS.contains(&name) => name,
        Some(_) => return Err(ApiError::invalid(msg!("cockpit.error.period").field("period"))),
    };
    let now = now_millis();
    let (from, to, first_day) = period_bounds(period, now);
    let path = area.as_ref().map_or_else(|| "/".to_owned(), |a| a.path.clone());
    let fq = FigureQuery { path: path.clone(), from, to, now, past: false };
    let figures: Vec<CockpitFigure> = cockpit::figures(&s.db, &fq)
        .await?
        .iter()
        .filter(|f| visible(&p, &path, f))
        .map(|f| api_figure(&p, lang, area.as_ref(), f))
        .collect();
    let mut children = Vec::new();
    let areas = children_of(&s.db, area.as_ref()).await?;
    let queries = areas.iter().map(|c| FigureQuery { path: c.path.clone(), from, to, now, past: false }).collect();
    for (child, figures) in areas.into_iter().zip(cockpit::figures_each(&s.db, queries).await?) {
        let values = figures
            .iter()
            .filter(|f| visible(&p, &child.path, f))
            .map(|f| ChildValue { key: f.key.clone(), value: FigureValue::from(&f.value) })
            .collect();
        children.push(CockpitChild { area: CockpitArea::from(&child), figures: values });
    }
    Ok(Json(Cockpit {
        area: area.as_ref().map(CockpitArea::from),
        period: CockpitPeriod {
            name: period.to_owned(),
            first_day: format_date(first_day),
            last_day: format_date(day_of(to - 1)),
            from,
            to,
        },
        computed_at: now,
        figures,
        children,
    }))
}

/// The API's routes.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use utoipa_axum::routes;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new().api(Role(ViewFigures), routes!(get_cockpit))
}
